# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The watchdog that stops a build nobody polls any more: file times and the clock are stand-ins."""

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import heartbeat
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.signals import raise_on_signals
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted


class Beats(object):
    def __init__(self):
        self.now = 1000.0
        self.touched = None
        self.interrupts = 0
        self.stop = False

    def clock(self):
        return self.now

    def mtime(self, path):
        return self.touched

    def interrupt(self):
        self.interrupts += 1


def watchdog(beats, **kwargs):
    return heartbeat.Watchdog('/tmp/hb', stale_after=60, clock=beats.clock, mtime=beats.mtime,
                              interrupt=beats.interrupt, says_stop=lambda path: beats.stop, **kwargs)


def test_a_heartbeat_that_keeps_coming_never_interrupts():
    beats = Beats()
    dog = watchdog(beats)
    for _beat in range(100):
        beats.touched = beats.now
        beats.now += 2
        assert not dog.check()
    assert beats.interrupts == 0


def test_a_heartbeat_that_stops_interrupts_once():
    beats = Beats()
    dog = watchdog(beats)
    beats.touched = beats.now
    dog.check()
    beats.now += 60
    assert not dog.check()
    beats.now += 1
    assert dog.check() and dog.fired
    beats.now += 100
    assert not dog.check()
    assert beats.interrupts == 1
    assert 'nothing has polled it for 60 s' in dog.message


def test_a_file_it_never_saw_does_not_count_and_one_that_vanished_does():
    beats = Beats()
    dog = watchdog(beats)
    beats.now += 1000
    assert not dog.check()  # never seen: another user's file, or not there yet
    beats.touched = beats.now
    dog.check()
    beats.touched = None  # removed along with the plugin's directory
    beats.now += 61
    assert dog.check()


def test_without_the_variable_there_is_no_watchdog():
    assert heartbeat.from_environment({}) is None


def test_the_interruption_reaches_the_build_as_a_signal(tmp_path):
    beat = tmp_path / 'heartbeat'
    beat.write_text('')
    os.utime(str(beat), (1, 1))  # long ago
    dog = heartbeat.Watchdog(str(beat), stale_after=60)
    with pytest.raises(BuildInterrupted) as caught:
        with raise_on_signals():
            dog.check()
    assert signal.Signals.SIGTERM.name in caught.value.message


def test_stop_in_the_file_interrupts_at_once_with_its_own_message():
    beats = Beats()
    dog = watchdog(beats)
    beats.touched = beats.now
    assert not dog.check()
    beats.stop = True
    beats.now += 1
    assert dog.check() and dog.fired and dog.stopped
    assert beats.interrupts == 1
    assert 'the play that started it ended' in dog.message


def test_a_real_file_that_says_stop(tmp_path):
    path = tmp_path / 'heartbeat'
    path.write_text('')
    fired = []
    dog = heartbeat.Watchdog(str(path), interrupt=lambda: fired.append(1))
    assert not dog.check()
    path.write_text(heartbeat.STOP)
    assert dog.check() and fired == [1]
