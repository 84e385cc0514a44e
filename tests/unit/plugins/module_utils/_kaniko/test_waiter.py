# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The watch loop, driven by a scripted event source and a fake clock: no cluster, no sleeping."""

from __future__ import annotations

import copy

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import status
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.waiter import ResourceExpired, wait_for_pod
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def recorded(name, version):
    pod = copy.deepcopy(load_fixture('recorded/{0}.json'.format(name))['pod'])
    pod['metadata']['resourceVersion'] = str(version)
    return pod


class Source(object):
    """Scripted get/watch/events.

    ``lists`` are answers to get(); ``watches`` one script per watch() call, each a list of
    (event type, pod) pairs, ('wait', seconds) to let time pass, or ('gone', None) to end
    the stream with 410. A script that runs out lets the watch window pass.
    """

    def __init__(self, clock, lists, watches, events=()):
        self.clock = clock
        self.lists = list(lists)
        self.watches = list(watches)
        self.event_list = list(events)
        self.watch_calls = []
        self.get_calls = 0
        self.events_calls = 0
        self.unread = []

    def get(self):
        self.get_calls += 1
        pod = self.lists.pop(0)
        return pod, (pod or {}).get('metadata', {}).get('resourceVersion', '1')

    def events(self):
        self.events_calls += 1
        return self.event_list

    def watch(self, version, timeout_seconds):
        self.watch_calls.append((version, timeout_seconds))
        script = self.watches.pop(0) if self.watches else []
        self.unread = list(script)
        started = self.clock.now
        while self.unread:
            kind, item = self.unread.pop(0)
            if kind == 'wait':
                self.clock.now += item
            elif kind == 'gone':
                raise ResourceExpired()
            else:
                yield kind, item
        self.clock.now = max(self.clock.now, started + timeout_seconds)


def test_returns_as_soon_as_the_build_succeeded():
    clock = Clock()
    source = Source(clock, [recorded('running', 10)], [[
        ('wait', 5), ('MODIFIED', recorded('running', 11)),
        ('wait', 20), ('MODIFIED', recorded('succeeded', 12)),
        ('MODIFIED', recorded('running', 13)),
    ]])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert result.outcome.state == status.SUCCEEDED
    assert result.pod['metadata']['resourceVersion'] == '12'
    assert len(source.unread) == 1  # the event after success was never read
    assert clock.now == 1025.0
    assert source.watch_calls == [('10', 30)]


def test_failure_ends_the_wait_with_the_failing_container():
    clock = Clock()
    source = Source(clock, [recorded('running', 10)], [[('MODIFIED', recorded('failed_run_exit7', 11))]])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert (result.outcome.state, result.outcome.container, result.outcome.exit_code) == (status.FAILED, 'kaniko', 7)


def test_an_already_finished_pod_needs_no_watch():
    clock = Clock()
    source = Source(clock, [recorded('succeeded', 10)], [])
    assert wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60).outcome.state == status.SUCCEEDED
    assert source.watch_calls == []


def test_watch_resumes_from_the_last_resource_version():
    clock = Clock()
    source = Source(clock, [recorded('running', 10)], [
        [('MODIFIED', recorded('running', 15))],
        [('BOOKMARK', {'metadata': {'resourceVersion': '20'}})],
        [('MODIFIED', recorded('succeeded', 21))],
    ])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert result.outcome.state == status.SUCCEEDED
    assert [call[0] for call in source.watch_calls] == ['10', '15', '20']
    assert source.get_calls == 1


def test_gone_relists_and_goes_on():
    clock = Clock()
    source = Source(clock, [recorded('running', 10), recorded('running', 50)], [
        [('MODIFIED', recorded('running', 11)), ('gone', None)],
        [('MODIFIED', recorded('succeeded', 51))],
    ])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert result.outcome.state == status.SUCCEEDED
    assert source.get_calls == 2
    assert [call[0] for call in source.watch_calls] == ['10', '50']


def test_gone_after_the_pod_vanished_reports_deletion():
    clock = Clock()
    source = Source(clock, [recorded('running', 10), None], [[('gone', None)]])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert result.outcome.reason == status.DELETED


def test_deleted_event_fails_the_build():
    clock = Clock()
    source = Source(clock, [recorded('running', 10)], [[('DELETED', recorded('running', 11))]])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert (result.outcome.state, result.outcome.reason) == (status.FAILED, status.DELETED)
    assert status.describe(result.outcome).startswith('Build failed (Deleted): the pod was deleted by someone else')


def test_timeout_is_enforced_with_the_injected_clock():
    clock = Clock()
    source = Source(clock, [recorded('running', 10)], [])
    result = wait_for_pod(source, clock, timeout=100, unschedulable_timeout=60)
    assert (result.outcome.state, result.outcome.reason) == (status.FAILED, status.TIMEOUT)
    assert clock.now == 1100.0
    assert [call[1] for call in source.watch_calls] == [30, 30, 30, 10]


def test_timeout_counts_while_events_keep_coming():
    clock = Clock()
    busy = [('wait', 4), ('MODIFIED', recorded('running', 11))] * 10
    source = Source(clock, [recorded('running', 10)], [busy])
    result = wait_for_pod(source, clock, timeout=20, unschedulable_timeout=60)
    assert result.outcome.reason == status.TIMEOUT
    assert clock.now == 1020.0


def test_unschedulable_fails_after_its_own_timeout():
    clock = Clock()
    source = Source(clock, [recorded('unschedulable', 10)], [])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=45)
    assert (result.outcome.state, result.outcome.reason) == (status.FAILED, status.UNSCHEDULABLE)
    assert clock.now == 1045.0
    assert [call[1] for call in source.watch_calls] == [30, 15]


def test_unschedulable_clock_restarts_when_the_pod_gets_scheduled():
    clock = Clock()
    source = Source(clock, [recorded('unschedulable', 10)], [
        [('wait', 40), ('MODIFIED', recorded('running', 11)), ('wait', 5), ('MODIFIED', recorded('unschedulable', 12))],
        [('wait', 40), ('MODIFIED', recorded('succeeded', 13))],
    ])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=45)
    assert result.outcome.state == status.SUCCEEDED
    assert clock.now == 1085.0


def test_fail_fast_waiting_reason_ends_the_wait():
    clock = Clock()
    source = Source(clock, [recorded('running', 10)], [[('wait', 3), ('MODIFIED', recorded('err_image_pull', 11))]])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert result.outcome.reason == 'ErrImagePull'
    assert clock.now == 1003.0


def test_missing_secret_volume_fails_from_the_events():
    clock = Clock()
    stuck = load_fixture('recorded/pending_missing_secret_volume.json')
    source = Source(clock, [stuck['pod']], [], events=stuck['events'])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert (result.outcome.state, result.outcome.reason) == (status.FAILED, status.MOUNT_FAILED)
    assert 'secret "missing-secret" not found' in result.outcome.message
    assert clock.now == 1060.0
    assert source.events_calls == 1


def test_a_pod_that_is_slow_to_start_without_mount_warnings_keeps_waiting():
    clock = Clock()
    stuck = load_fixture('recorded/pending_missing_secret_volume.json')
    source = Source(clock, [stuck['pod']], [[], [], [], [('MODIFIED', recorded('succeeded', 99))]],
                    events=[e for e in stuck['events'] if e.get('type') != 'Warning'])
    result = wait_for_pod(source, clock, timeout=1800, unschedulable_timeout=60)
    assert result.outcome.state == status.SUCCEEDED
    assert source.events_calls >= 1
