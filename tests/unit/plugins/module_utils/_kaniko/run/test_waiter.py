# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wait for one build: the Scheduler with a single job, as every task without builds runs, driven by a
scripted event source and a fake clock (no cluster, no sleeping). PodWait decides; the watch's own resumption
(resourceVersion, 410 Gone) is tested in _k8s/test_watch.py."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.watch import MAX_WATCH_SECONDS, RELIST
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import scheduler
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.run.test_scheduler import Clock, Source, pod


class OneJob(object):
    """A build whose created pod is ``first``; ``waited`` is what the wait concluded."""

    def __init__(self, first, timeout=1800, unschedulable_timeout=60, events=()):
        self.first = first
        self.namespace = 'builds'
        self.timeout = timeout
        self.unschedulable_timeout = unschedulable_timeout
        self.event_list = list(events)
        self.events_calls = 0
        self.waited = None

    def start(self):
        return self.first

    def events(self):
        self.events_calls += 1
        return self.event_list

    def finish(self, waited):
        self.waited = waited


def wait(first, script=(), exists=None, **job):
    """Run one job whose pod starts as ``first`` through the events of ``script`` ((offset, fixture or event))."""
    clock = Clock()
    events = [(at, item if isinstance(item, tuple) else ('builds', 'MODIFIED', pod('a', item)))
              for at, item in script]
    source = Source(clock, events)
    if isinstance(first, str):
        first = pod('a', first)
    else:
        first = dict(first, metadata=dict(first['metadata'], name='a', namespace='builds'))
    one = OneJob(first, **job)
    scheduler.Scheduler([one], 1, source, clock, exists=exists).run()
    return one, clock, source


def test_returns_as_soon_as_the_build_succeeded():
    one, clock, source = wait('running', [(5, 'running'), (25, 'succeeded'), (26, 'running')])
    assert one.waited.outcome.state == states.SUCCEEDED
    assert len(source.script) == 1  # the event after success was never read
    assert clock.now == 1025.0


def test_failure_ends_the_wait_with_the_failing_container():
    one, _clock, _source = wait('running', [(1, 'failed_run_exit7')])
    outcome = one.waited.outcome
    assert (outcome.state, outcome.container, outcome.exit_code) == (states.FAILED, 'kaniko', 7)


def test_an_already_finished_pod_needs_no_watch():
    one, _clock, source = wait('succeeded')
    assert one.waited.outcome.state == states.SUCCEEDED
    assert source.waits == []


def test_a_new_list_without_the_pod_reports_deletion():
    one, _clock, _source = wait('running', [(1, ('builds', RELIST, set()))], exists=lambda namespace, name: False)
    assert one.waited.outcome.reason == states.DELETED


def test_a_new_list_without_the_pod_that_still_exists_goes_on():
    one, _clock, _source = wait('running', [(1, ('builds', RELIST, set())), (2, 'succeeded')],
                                exists=lambda namespace, name: True)
    assert one.waited.outcome.state == states.SUCCEEDED


def test_deleted_event_fails_the_build_naming_the_pod():
    one, _clock, _source = wait('running', [(1, ('builds', 'DELETED', pod('a', 'running')))])
    outcome = one.waited.outcome
    assert (outcome.state, outcome.reason) == (states.FAILED, states.DELETED)
    assert states.describe(outcome).startswith('Build failed (Deleted): pod a was deleted by someone else')


def test_timeout_is_enforced_with_the_injected_clock():
    one, clock, source = wait('running', timeout=100)
    assert (one.waited.outcome.state, one.waited.outcome.reason) == (states.FAILED, states.TIMEOUT)
    assert clock.now == 1100.0
    assert source.waits == [30, 30, 30, 10]
    assert max(source.waits) <= MAX_WATCH_SECONDS


def test_timeout_counts_while_events_keep_coming():
    one, clock, _source = wait('running', [(second, 'running') for second in range(4, 44, 4)], timeout=20)
    assert one.waited.outcome.reason == states.TIMEOUT
    assert clock.now == 1020.0


def test_unschedulable_fails_after_its_own_timeout():
    one, clock, source = wait('unschedulable', unschedulable_timeout=45)
    assert (one.waited.outcome.state, one.waited.outcome.reason) == (states.FAILED, states.UNSCHEDULABLE)
    assert clock.now == 1045.0
    assert source.waits == [30, 15]


def test_unschedulable_clock_restarts_when_the_pod_gets_scheduled():
    one, clock, _source = wait('unschedulable', [(40, 'running'), (45, 'unschedulable'), (85, 'succeeded')],
                               unschedulable_timeout=45)
    assert one.waited.outcome.state == states.SUCCEEDED
    assert clock.now == 1085.0


def test_fail_fast_waiting_reason_ends_the_wait():
    one, clock, _source = wait('running', [(3, 'err_image_pull')])
    assert one.waited.outcome.reason == 'ErrImagePull'
    assert clock.now == 1003.0


def test_missing_secret_volume_fails_from_the_events():
    stuck = load_fixture('recorded/pending_missing_secret_volume.json')
    one, clock, _source = wait(stuck['pod'], events=stuck['events'])
    assert (one.waited.outcome.state, one.waited.outcome.reason) == (states.FAILED, states.MOUNT_FAILED)
    assert 'secret "missing-secret" not found' in one.waited.outcome.message
    assert clock.now == 1060.0
    assert one.events_calls == 1


def test_a_pod_that_is_slow_to_start_without_mount_warnings_keeps_waiting():
    stuck = load_fixture('recorded/pending_missing_secret_volume.json')
    one, _clock, _source = wait(stuck['pod'], [(99, 'succeeded')],
                                events=[e for e in stuck['events'] if e.get('type') != 'Warning'])
    assert one.waited.outcome.state == states.SUCCEEDED
    assert one.events_calls >= 1


def recorded(name, **ready):
    """The recorded pod ``name`` as the build's pod 'a', with the conditions named in ``ready`` set to that status
    (the pod of node_lost_marked with Ready True is that pod before its node stopped: the node lifecycle
    controller's mark changes nothing else, as the watch of node_stopped_watch shows)."""
    item = load_fixture('recorded/{0}.json'.format(name))['pod']
    item['metadata'].update(name='a', namespace='builds')
    for condition in item['status']['conditions']:
        if condition['type'] in ready:
            condition['status'] = ready[condition['type']]
    return item


class NodeJob(OneJob):
    """A build whose engine answers ``answers`` (one per question, then None) about the node of its pod."""

    def __init__(self, first, answers=(), **job):
        super(NodeJob, self).__init__(first, **job)
        self.answers = list(answers)
        self.asked = []

    def node_check(self, node):
        self.asked.append(node)
        return self.answers.pop(0) if self.answers else None


def node_wait(first, script=(), answers=(), timeout=1800):
    clock = Clock()
    one = NodeJob(first, answers, timeout=timeout)
    source = Source(clock, [(at, ('builds', 'MODIFIED', item)) for at, item in script])
    scheduler.Scheduler([one], 1, source, clock).run()
    return one, clock


def test_a_node_that_stopped_reporting_is_named_once_the_mark_has_stayed():
    running = recorded('node_lost_marked', Ready='True')
    one, clock = node_wait(running, [(60, recorded('node_lost_marked'))])
    outcome = one.waited.outcome
    assert (outcome.state, outcome.reason, outcome.loss.node, outcome.container) == (
        states.FAILED, 'NodeLost', 'kiln-node-3', 'kaniko')
    assert clock.now == 1000 + 60 + 15
    assert one.asked == []  # the pod said it: the node was not asked about


def test_a_pod_watched_while_its_node_stopped_is_lost_once_the_mark_has_stayed():
    # A pod (busybox, not a build) watched on the lab while its node kiln-node-3 stopped: the mark came 47 s after
    # the pod got ready (16:05:35 to 16:06:22), with Ready alone changed, and nothing followed it.
    before, after = [dict(item, metadata=dict(item['metadata'], name='a', namespace='builds'))
                     for item in load_fixture('recorded/node_stopped_watch.json')['pods']]
    assert [condition for condition in before['status']['conditions'] if condition['type'] != 'Ready'] == [
        condition for condition in after['status']['conditions'] if condition['type'] != 'Ready']
    one, clock = node_wait(before, [(47, after)])
    outcome = one.waited.outcome
    assert (outcome.reason, outcome.loss.node, outcome.container) == ('NodeLost', 'kiln-node-3', 'c')
    assert outcome.message == 'the node lifecycle controller marked the pod not ready at 2026-12-07T16:06:22Z'
    assert clock.now == 1000 + 47 + 15 and one.asked == []


def test_a_mark_that_its_kubelet_writes_back_is_no_loss():
    running = recorded('node_lost_marked', Ready='True')
    one, _clock = node_wait(running, [(60, recorded('node_lost_marked')), (70, running),
                                      (200, pod('a', 'succeeded'))])
    assert one.waited.outcome.state == states.SUCCEEDED


def test_the_node_of_a_pod_that_cannot_show_the_mark_is_asked_about():
    # What the Kubernetes engine says of the node recorded with node_lost_clone (engines/kubernetes/test_engine.py).
    lost = ('NodeLost', 'its Ready condition is Unknown since 2026-12-07T16:45:59Z: Kubelet stopped posting node status.')
    one, clock = node_wait(recorded('node_lost_clone'), answers=[None, lost])
    outcome = one.waited.outcome
    assert (outcome.reason, outcome.container, outcome.loss.keep_off) == ('NodeLost', 'clone', 'kiln-node-3')
    assert outcome.message.startswith('its Ready condition is Unknown')
    assert one.asked == ['kiln-node-3', 'kiln-node-3']
    assert clock.now == 1000 + 2 * 15


def test_without_an_answer_about_the_node_the_build_waits_for_its_pod():
    one, _clock = node_wait(recorded('node_lost_clone'), [(100, pod('a', 'succeeded'))])
    assert one.waited.outcome.state == states.SUCCEEDED
    assert len(one.asked) == 6  # every 15 s while the clone ran


@pytest.mark.parametrize('fixture', ['evicted_by_api', 'drained'])
def test_an_evicted_pod_ends_the_wait_at_once(fixture):
    one, clock = node_wait(recorded('node_lost_marked', Ready='True'), [(30, pod('a', fixture))])
    assert (one.waited.outcome.reason, clock.now) == ('EvictionByEvictionAPI', 1030)
