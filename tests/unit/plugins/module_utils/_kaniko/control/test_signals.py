# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SIGINT and SIGTERM raised as BuildInterrupted while waiting, and the handlers restored."""

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.signals import raise_on_signals
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_signals_raise_while_waiting_and_handlers_come_back(signum):
    before = signal.getsignal(signum)
    with pytest.raises(BuildInterrupted) as caught:
        with raise_on_signals():
            os.kill(os.getpid(), signum)
    assert signal.Signals(signum).name in str(caught.value)
    assert signal.getsignal(signum) == before
