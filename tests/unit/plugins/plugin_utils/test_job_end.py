# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""JobEnd: the parent that goes away and the signals that end a play, with the parent pid and the signal
module as stand-ins (nothing is signalled)."""

from __future__ import annotations

import signal
import signal as real_signal
import threading

import pytest

from ansible_collections.kiln.kaniko.plugins.plugin_utils._job_end import JobEnd, JobEnded


class Signals:
    """The signal module: records handlers instead of installing them."""

    SIG_DFL = real_signal.SIG_DFL
    SIG_IGN = real_signal.SIG_IGN
    Signals = real_signal.Signals

    def __init__(self, previous):
        self.handlers = dict(previous)

    def signal(self, signum, handler):
        old = self.handlers.get(signum, real_signal.SIG_DFL)
        self.handlers[signum] = handler
        return old


class Parent:
    def __init__(self):
        self.pid = 4242

    def __call__(self):
        return self.pid


def test_a_parent_that_goes_away_ends_the_job_and_runs_on_orphan():
    parent = Parent()
    orphaned = threading.Event()
    end = JobEnd(getppid=parent, check_every=0.01, signals=()).start(on_orphan=orphaned.set)
    assert not end.wait(0.05)
    parent.pid = 1  # ansible-playbook is gone: the worker was given to init
    assert end.wait(5) and orphaned.wait(5)
    assert 'ansible-playbook' in end.reason and end.signum is None
    end.close()


def test_a_signal_raises_in_the_action_and_a_second_one_is_ignored():
    worker_term = []
    signals = Signals({signal.SIGTERM: lambda signum, frame: worker_term.append(signum)})
    end = JobEnd(getppid=Parent(), check_every=60, signal_module=signals).start()
    handler = signals.handlers[signal.SIGTERM]
    assert handler is not worker_term
    with pytest.raises(JobEnded) as raised:
        handler(signal.SIGTERM, None)
    assert raised.value.signum == signal.SIGTERM and 'SIGTERM' in raised.value.reason
    assert end.ended.is_set()
    handler(signal.SIGINT, None)  # while the build is being stopped: no second JobEnded
    assert end.signum == signal.SIGTERM
    # Once the build is stopped, the worker's own handler gets the signal, as it would have at once.
    end.pass_on()
    assert worker_term == [signal.SIGTERM]
    assert callable(signals.handlers[signal.SIGTERM]) and signals.handlers[signal.SIGTERM] is not handler


def test_close_puts_the_previous_handlers_back():
    previous = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    signals = Signals(previous)
    end = JobEnd(getppid=Parent(), check_every=60, signal_module=signals).start()
    assert signals.handlers[signal.SIGINT] != signal.default_int_handler
    end.close()
    assert signals.handlers == previous
    end.pass_on()  # no signal ended the play: nothing to pass on
    assert signals.handlers == previous
