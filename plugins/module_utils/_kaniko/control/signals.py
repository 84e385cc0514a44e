# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SIGINT and SIGTERM during a build: raised as BuildInterrupted, held over requests whose answer
must not be lost, ignored while a cleanup runs."""

from __future__ import annotations

import signal
from contextlib import contextmanager

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Held(object):
    """Signals that arrived while held_signals() was in force, to be raised when it ends."""

    depth = 0
    pending = None


def interrupted(signum):
    return BuildInterrupted('Build interrupted by {0}'.format(signal.Signals(signum).name))


@contextmanager
def held_signals():
    """Under raise_on_signals(), hold the interruption until the block is done.

    For requests whose answer must not be lost, such as the one that creates the pod: interrupted
    while it is on its way, the task would not know the pod's name and could not delete it.
    """
    _Held.depth += 1
    try:
        yield
    finally:
        _Held.depth -= 1
        signum = None if _Held.depth else _Held.pending
        if signum is not None:
            _Held.pending = None  # an error on its way out is handled like the interruption would be
    if signum is not None:
        raise interrupted(signum)


@contextmanager
def _handlers(handler, signals):
    previous = {}
    for signum in signals:
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread: leave the handlers alone
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def ignored_signals(signals=SIGNALS):
    """Ignore SIGINT and SIGTERM while the block runs: a second Ctrl-C must not cut a cleanup short."""
    with _handlers(signal.SIG_IGN, signals):
        yield


@contextmanager
def raise_on_signals(signals=SIGNALS):
    """Turn SIGINT and SIGTERM into BuildInterrupted while the block runs (later, inside held_signals())."""
    def handler(signum, _frame):
        if _Held.depth:
            _Held.pending = _Held.pending or signum
            return
        raise interrupted(signum)

    with _handlers(handler, signals):
        yield
