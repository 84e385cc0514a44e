# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SIGINT and SIGTERM during a build: raised as BuildInterrupted, held over requests whose answer
must not be lost, ignored while a cleanup runs."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from types import FrameType
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


# What signal.signal() takes and returns: a function of (signum, frame), SIG_IGN, SIG_DFL, or None.
_Handler = Union[Callable[[int, Optional[FrameType]], Any], int, signal.Handlers, None]


class _Held:
    """Signals that arrived while held_signals() was in force, to be raised when it ends."""

    depth = 0
    pending: int | None = None


def interrupted(signum: int) -> BuildInterrupted:
    return BuildInterrupted('Build interrupted by {0}'.format(signal.Signals(signum).name))


@contextmanager
def held_signals() -> Iterator[None]:
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
def _handlers(handler: _Handler, signals: Iterable[int]) -> Iterator[None]:
    previous: dict[int, _Handler] = {}
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
def ignored_signals(signals: Iterable[int] = SIGNALS) -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while the block runs: a second Ctrl-C must not cut a cleanup short."""
    with _handlers(signal.SIG_IGN, signals):
        yield


@contextmanager
def raise_on_signals(signals: Iterable[int] = SIGNALS) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into BuildInterrupted while the block runs (later, inside held_signals())."""
    def handler(signum: int, _frame: FrameType | None) -> None:
        if _Held.depth:
            _Held.pending = _Held.pending or signum
            return
        raise interrupted(signum)

    with _handlers(handler, signals):
        yield
