# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Notice, in the worker process that runs the build action, that the play which started it has ended.

ansible-playbook runs each task in a forked worker of its own session (ansible-core's WorkerProcess calls
setsid), and the build module runs detached from both, as an async job. So the end of the play reaches
neither by itself:

- ansible-runner's cancel (AWX's Cancel), and ``kill -9`` of ansible-playbook, kill the main process and its
  process group: the worker is not in that group and lives on as an orphan;
- SIGINT or SIGTERM to ansible-playbook alone (Ctrl-C in a terminal is SIGINT to the foreground group, which
  the worker is not in either) makes it terminate its workers with SIGTERM, and the worker dies at once.

JobEnd covers both: a thread that looks every ``check_every`` seconds whether the worker's parent is
still the one it started under, and SIGINT/SIGTERM handlers, both of which set ``ended`` with a reason. The
action then stops its async job (see plugins/action/build.py) and, for a signal, hands it on to the
handler that was there before (the worker's own, which ends the worker and its process group).
"""

from __future__ import annotations

import os
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)
CHECK_EVERY = 1.0


class JobEnded(Exception):
    """Raised in the action's own thread when a signal says the play ended."""

    def __init__(self, reason, signum=None):
        super(JobEnded, self).__init__(reason)
        self.reason = reason
        self.signum = signum


class JobEnd(object):
    """Watches for the end of the play that started the task; ``getppid`` and the signal module are
    injectable so that the decisions can be tested without ending anything."""

    def __init__(self, getppid=os.getppid, check_every=CHECK_EVERY, signals=SIGNALS, signal_module=signal):
        self._getppid = getppid
        self._parent = getppid()
        self._check_every = check_every
        self._signals = signals
        self._signal = signal_module
        self._previous = {}
        self._quit = threading.Event()
        self._thread = None
        self.ended = threading.Event()
        self.reason = None
        self.signum = None

    # ------------------------------------------------------------------ parent

    def orphaned(self):
        """True once the process that started this worker is gone (the worker was given another parent)."""
        return self._getppid() != self._parent

    def _watch(self, on_orphan):
        while not self._quit.wait(self._check_every):
            if self.orphaned():
                self._end('ansible-playbook, which ran this task, is gone (the job was cancelled or killed)')
                if on_orphan is not None:
                    on_orphan()
                return

    def _end(self, reason, signum=None):
        if not self.ended.is_set():
            self.reason, self.signum = reason, signum
            self.ended.set()

    # ------------------------------------------------------------------ signals

    def _handler(self, signum, _frame):
        if self.ended.is_set():  # the job is being stopped already: a second Ctrl-C must not cut that short
            return
        self._end('the play was stopped by {0}'.format(self._signal.Signals(signum).name), signum)
        raise JobEnded(self.reason, signum)

    def start(self, on_orphan=None):
        """Start watching. ``on_orphan`` runs in the watching thread once the parent is gone."""
        for signum in self._signals:
            try:
                self._previous[signum] = self._signal.signal(signum, self._handler)
            except ValueError:  # not the main thread: signals are not ours to take
                pass
        self._thread = threading.Thread(target=self._watch, args=(on_orphan,), name='kiln-job-end', daemon=True)
        self._thread.start()
        return self

    def wait(self, seconds):
        """Sleep up to ``seconds``; True when the play ended meanwhile."""
        return self.ended.wait(seconds)

    def close(self):
        """Stop watching and put the previous signal handlers back."""
        self._quit.set()
        for signum, previous in self._previous.items():
            self._signal.signal(signum, previous)
        self._previous = {}

    def pass_on(self):
        """After the action stopped its job: give a signal that ended the play to the handler that was there
        before (the worker's own ends the worker); without one, end the process as the signal would."""
        signum = self.signum
        if signum is None:
            return
        previous = self._previous.get(signum, self._signal.SIG_DFL)
        self.close()
        if callable(previous):
            previous(signum, None)
        elif previous != self._signal.SIG_IGN:
            self._signal.signal(signum, self._signal.SIG_DFL)
            os.kill(os.getpid(), signum)
