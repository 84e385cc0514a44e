# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The runner's pure helpers: log line splitting and signal handling."""

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import iter_lines
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.runner import raise_on_signals


def test_lines_across_chunks():
    chunks = [b'first li', b'ne\nsecond\r\n', b'', b'\nthird', b' and last']
    assert list(iter_lines(chunks)) == ['first line', 'second', '', 'third and last']


def test_no_trailing_empty_line():
    assert list(iter_lines([b'a\nb\n'])) == ['a', 'b']
    assert list(iter_lines([])) == []


def test_invalid_utf8_is_replaced():
    assert list(iter_lines([b'caf\xc3', b'\xa9 \xff\n'])) == ['caf\u00e9 \ufffd']


def test_long_lines_are_cut_so_memory_stays_bounded():
    lines = list(iter_lines([b'x' * 10, b'x' * 10, b'y\n'], max_line=8))
    assert lines == ['x' * 8, 'x' * 8, 'xxxxy']


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_signals_raise_while_waiting_and_handlers_come_back(signum):
    before = signal.getsignal(signum)
    with pytest.raises(BuildInterrupted) as caught:
        with raise_on_signals():
            os.kill(os.getpid(), signum)
    assert signal.Signals(signum).name in str(caught.value)
    assert signal.getsignal(signum) == before
