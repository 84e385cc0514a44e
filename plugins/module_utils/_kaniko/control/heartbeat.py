# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stop the build when nobody follows it any more.

The action plugin of kiln.kaniko.build runs the module as an async job, so that it can show the build's
progress; the job is detached from ansible-playbook, and Ctrl-C (or a lost connection) would stop the
play but not the build. So the plugin names a file in the environment variable HEARTBEAT_ENV and touches
it each time it polls the job, every second or so. Watchdog looks at the file every CHECK_EVERY seconds and
sends the module SIGTERM, which deletes the pod and its Secret as any interruption does:

- at once when the file says STOP: the plugin writes it when the play that started the build ends
  (SIGINT or SIGTERM to its worker, or ansible-playbook gone from under it, as when AWX cancels a job);
- once nobody has touched it for STALE_AFTER seconds: every process of the play was killed at once, or
  the connection to this host was lost.

Without the variable (the module run plainly, or as an async task of the user's) there is no watchdog.
A file the module cannot see (another user's, after become) never counts as stale.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Callable, Mapping

HEARTBEAT_ENV = 'KILN_KANIKO_HEARTBEAT'
STALE_AFTER = 60
CHECK_EVERY = 1
# What the plugin writes into the file when the play that started the build ended.
STOP = 'stop'


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _says_stop(path: str) -> bool:
    try:
        with open(path, 'rb') as handle:
            return handle.read(len(STOP)) == STOP.encode()
    except OSError:
        return False


def _interrupt() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


class Watchdog:
    """Sends ``interrupt()`` once the file at ``path`` says STOP, or has not been touched for ``stale_after``
    seconds.

    ``clock`` is wall-clock time (file times are); ``mtime(path)`` returns the file's modification time or
    None; ``says_stop(path)`` whether it holds STOP. The file must have been seen once before its absence
    counts.
    """

    def __init__(self, path: str, stale_after: float = STALE_AFTER, check_every: float = CHECK_EVERY,
                 clock: Callable[[], float] = time.time, mtime: Callable[[str], float | None] = _mtime,
                 interrupt: Callable[[], None] = _interrupt, says_stop: Callable[[str], bool] = _says_stop) -> None:
        self.path = path
        self.stale_after = stale_after
        self.check_every = check_every
        self.clock = clock
        self.mtime = mtime
        self.interrupt = interrupt
        self.says_stop = says_stop
        self.fired = False
        self.stopped = False
        self.last_beat: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Look at the file once; interrupt and return True when it says STOP or went stale."""
        beat = self.mtime(self.path)
        if beat is not None:
            self.last_beat = beat if self.last_beat is None else max(self.last_beat, beat)
        if self.last_beat is None or self.fired:
            return False
        if beat is not None and self.says_stop(self.path):
            self.stopped = self.fired = True
            self.interrupt()
            return True
        if self.clock() - self.last_beat > self.stale_after:
            self.fired = True
            self.interrupt()
            return True
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.check_every):
            if self.check():
                return

    def start(self) -> Watchdog:
        self.check()
        self._thread = threading.Thread(target=self._run, name='kiln-heartbeat', daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def message(self) -> str:
        if self.stopped:
            return 'Build interrupted: the play that started it ended (cancelled, interrupted or killed)'
        return ('Build interrupted: nothing has polled it for {0} s (ansible-playbook was stopped, or lost its '
                'connection to this host)'.format(self.stale_after))


def from_environment(environ: Mapping[str, str] | None = None) -> Watchdog | None:
    """A started Watchdog for the file named in HEARTBEAT_ENV, or None."""
    path = (os.environ if environ is None else environ).get(HEARTBEAT_ENV)
    return Watchdog(path).start() if path else None
