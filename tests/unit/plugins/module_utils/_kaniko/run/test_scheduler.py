# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The scheduler of many builds, driven by a scripted event source and a fake clock: no cluster, no sleeping."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import scheduler as sched
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def pod(name, fixture='running', namespace='builds', version=1):
    if fixture == 'pending':
        item = {'metadata': {}, 'status': {'phase': 'Pending'}}
    else:
        item = copy.deepcopy(load_fixture('recorded/{0}.json'.format(fixture))['pod'])
    item['metadata'].update(name=name, namespace=namespace, resourceVersion=str(version))
    return item


class Source(object):
    """Events at given times: ``script`` is a list of (time offset, (namespace, kind, object))."""

    def __init__(self, clock, script):
        self.clock = clock
        self.start = clock.now
        self.script = sorted(script, key=lambda item: item[0])
        self.waits = []

    def next(self, seconds):
        self.waits.append(seconds)
        if self.script and self.start + self.script[0][0] <= self.clock.now + seconds:
            at, event = self.script.pop(0)
            self.clock.now = max(self.clock.now, self.start + at)
            return event
        self.clock.now += seconds
        return None


class Job(object):
    def __init__(self, log, name, namespace='builds', timeout=100, unschedulable_timeout=60, fails_to_start=False):
        self.log = log
        self.name = name
        self.namespace = namespace
        self.timeout = timeout
        self.unschedulable_timeout = unschedulable_timeout
        self.fails_to_start = fails_to_start
        self.outcome = None

    def start(self):
        self.log.append(('start', self.name))
        if self.fails_to_start:
            self.outcome = 'could not start'
            return None
        return pod(self.name, 'pending', self.namespace)

    def events(self):
        return []

    def finish(self, waited):
        self.outcome = waited.outcome
        self.log.append(('finish', self.name, waited.outcome.reason))


def run(jobs, script, max_concurrent=2, exists=None):
    clock = Clock()
    source = Source(clock, script)
    scheduler = sched.Scheduler(jobs, max_concurrent, source, clock, exists=exists)
    scheduler.run()
    return scheduler, clock, source


def event(name, fixture, kind='MODIFIED', namespace='builds'):
    return (namespace, kind, pod(name, fixture, namespace))


def test_at_most_max_concurrent_and_the_next_starts_before_the_finished_is_read():
    log = []
    jobs = [Job(log, name) for name in 'abcde']
    scheduler, clock, _source = run(jobs, [
        (5, event('a', 'running')),
        (10, event('a', 'succeeded')),
        (12, event('b', 'succeeded')),
        (13, event('c', 'succeeded')),
        (14, event('d', 'failed_run_exit7')),
        (20, event('e', 'succeeded')),
    ])
    assert scheduler.peak == 2
    assert log == [('start', 'a'), ('start', 'b'),
                   ('start', 'c'), ('finish', 'a', 'Completed'),
                   ('start', 'd'), ('finish', 'b', 'Completed'),
                   ('start', 'e'), ('finish', 'c', 'Completed'),
                   ('finish', 'd', 'Error'),
                   ('finish', 'e', 'Completed')]
    assert clock.now == 1020.0
    assert jobs[3].outcome.exit_code == 7


def test_a_failure_does_not_stop_the_others():
    log = []
    jobs = [Job(log, 'a'), Job(log, 'b'), Job(log, 'c')]
    run(jobs, [(1, event('a', 'failed_run_exit7')), (3, event('b', 'succeeded')), (4, event('c', 'succeeded'))],
        max_concurrent=3)
    assert [job.outcome.state for job in jobs] == [states.FAILED, states.SUCCEEDED, states.SUCCEEDED]


def test_a_job_that_cannot_start_leaves_its_slot_to_the_next():
    log = []
    jobs = [Job(log, 'a', fails_to_start=True), Job(log, 'b'), Job(log, 'c', fails_to_start=True)]
    scheduler, _clock, _source = run(jobs, [(2, event('b', 'succeeded'))], max_concurrent=1)
    assert log == [('start', 'a'), ('start', 'b'), ('start', 'c'), ('finish', 'b', 'Completed')]
    assert jobs[0].outcome == jobs[2].outcome == 'could not start'
    assert scheduler.peak == 1


def test_every_job_failing_to_start_ends_the_run():
    log = []
    scheduler, _clock, source = run([Job(log, 'a', fails_to_start=True)], [])
    assert source.waits == [] and scheduler.peak == 0


def test_a_timeout_ends_one_build_while_the_others_go_on():
    log = []
    jobs = [Job(log, 'slow', timeout=30), Job(log, 'quick', timeout=300)]
    _scheduler, clock, source = run(jobs, [(1, event('slow', 'running')), (2, event('quick', 'running')),
                                           (40, event('quick', 'succeeded'))])
    assert log[2:] == [('finish', 'slow', states.TIMEOUT), ('finish', 'quick', 'Completed')]
    assert jobs[0].outcome.reason == states.TIMEOUT
    assert clock.now == 1040.0
    assert max(source.waits) <= sched.MAX_WATCH_SECONDS


def test_a_stream_of_events_from_one_pod_does_not_delay_another_s_timeout():
    log = []
    jobs = [Job(log, 'chatty', timeout=300), Job(log, 'stuck', timeout=10)]
    script = [(second, event('chatty', 'running')) for second in range(1, 30)]
    script.append((30, event('chatty', 'succeeded')))
    run(jobs, script)
    assert log.index(('finish', 'stuck', states.TIMEOUT)) < log.index(('finish', 'chatty', 'Completed'))
    assert jobs[1].outcome.reason == states.TIMEOUT


def test_an_unschedulable_pod_fails_after_its_threshold():
    log = []
    jobs = [Job(log, 'a', unschedulable_timeout=20)]
    _scheduler, clock, _source = run(jobs, [(1, event('a', 'unschedulable'))])
    assert jobs[0].outcome.reason == states.UNSCHEDULABLE
    assert clock.now == 1021.0


def test_deleted_and_foreign_pods():
    log = []
    jobs = [Job(log, 'a'), Job(log, 'b')]
    run(jobs, [(1, event('other', 'succeeded')), (2, event('a', 'running', kind='DELETED')),
               (3, event('b', 'succeeded', namespace='elsewhere')), (4, event('b', 'succeeded'))])
    assert jobs[0].outcome.reason == states.DELETED
    assert jobs[1].outcome.reason == 'Completed'


def test_a_new_list_after_410_tells_which_pods_are_gone():
    log = []
    jobs = [Job(log, 'a'), Job(log, 'b')]
    asked = []

    def exists(namespace, name):
        asked.append(name)
        return name == 'b'

    run(jobs, [(1, ('builds', sched.RELIST, set())), (2, event('b', 'succeeded'))], exists=exists)
    assert sorted(asked) == ['a', 'b']
    assert jobs[0].outcome.reason == states.DELETED
    assert jobs[1].outcome.reason == 'Completed'


def test_pods_in_several_namespaces():
    log = []
    jobs = [Job(log, 'a', namespace='one'), Job(log, 'a', namespace='two')]
    run(jobs, [(1, event('a', 'succeeded', namespace='two')), (2, event('a', 'failed_run_exit7', namespace='one'))])
    assert (jobs[0].outcome.reason, jobs[1].outcome.reason) == ('Error', 'Completed')


def test_a_failed_watch_is_raised():
    log = []
    jobs = [Job(log, 'a')]
    with pytest.raises(RuntimeError):
        run(jobs, [(1, ('builds', sched.FAILURE, RuntimeError('watch refused')))])


class GroupJob(Job):
    """A job of one platform of a build: it fails when its pod fails, and gives up when told to."""

    def __init__(self, log, name, **kwargs):
        super().__init__(log, name, **kwargs)
        self.error = None
        self.siblings = ()
        self.spec = type('Spec', (), {'platform': 'linux/' + name})()

    def finish(self, waited):
        super().finish(waited)
        if waited.outcome.state != states.SUCCEEDED:
            self.error = waited.outcome.reason

    def cancel(self, failed):
        self.outcome = 'cancelled'
        self.log.append(('cancel', self.name, failed.name))


def test_a_failed_platform_cancels_its_running_and_pending_siblings_and_nothing_else():
    log = []
    group = [GroupJob(log, name) for name in ('amd64', 'arm64', 's390x')]
    for job in group:
        job.siblings = [other for other in group if other is not job]
    other = Job(log, 'other')
    jobs = group[:2] + [other] + group[2:]  # s390x waits for a slot behind another build
    run(jobs, [(1, event('arm64', 'failed_run_exit7')), (5, event('other', 'succeeded'))], max_concurrent=3)
    assert ('cancel', 'amd64', 'arm64') in log and ('cancel', 's390x', 'arm64') in log
    assert ('start', 's390x') not in log  # never started
    assert group[0].outcome == group[2].outcome == 'cancelled'
    assert other.outcome.state == states.SUCCEEDED


def test_a_platform_that_succeeds_cancels_nothing():
    log = []
    group = [GroupJob(log, name) for name in ('amd64', 'arm64')]
    group[0].siblings, group[1].siblings = [group[1]], [group[0]]
    run(group, [(1, event('amd64', 'succeeded')), (2, event('arm64', 'succeeded'))])
    assert not [entry for entry in log if entry[0] == 'cancel']


class RetryJob(Job):
    """A job that runs again (as ``<name>-a2``, ...) while ``retries`` allows, after a pod lost through no fault
    of its own."""

    def __init__(self, log, name, retries=1, **kwargs):
        super().__init__(log, name, **kwargs)
        self.retries = retries
        self.attempt = 1
        self.lost = []

    def start(self):
        name = self.name if self.attempt == 1 else '{0}-a{1}'.format(self.name, self.attempt)
        self.log.append(('start', name))
        return pod(name, 'pending', self.namespace)

    def retry(self, waited):
        self.log.append(('retry', self.name, waited.outcome.reason))
        if len(self.lost) >= self.retries:
            return False
        self.lost.append(waited.outcome)
        self.attempt += 1
        return True


def lost(name, fixture='recorded/evicted_by_api', namespace='builds'):
    item = load_fixture('{0}.json'.format(fixture))['pod']
    item['metadata'].update(name=name, namespace=namespace)
    return (namespace, 'MODIFIED', item)


def test_a_lost_pod_runs_again_in_its_own_slot_before_the_builds_that_wait():
    log = []
    jobs = [RetryJob(log, 'a'), Job(log, 'b')]
    scheduler, _clock, _source = run(jobs, [(1, lost('a')), (2, event('a', 'succeeded')),
                                            (3, event('a-a2', 'succeeded')), (4, event('b', 'succeeded'))],
                                     max_concurrent=1)
    assert log == [('start', 'a'), ('retry', 'a', 'EvictionByEvictionAPI'), ('start', 'a-a2'),
                   ('start', 'b'), ('finish', 'a', 'Completed'), ('finish', 'b', 'Completed')]
    assert scheduler.peak == 1
    assert [outcome.loss.node for outcome in jobs[0].lost] == ['kiln-node']


def test_a_pod_lost_once_too_often_ends_its_build():
    log = []
    job = RetryJob(log, 'a', retries=1)
    run([job], [(1, lost('a', 'recorded/preempted')), (2, lost('a-a2', 'recorded/node_deleted'))])
    assert log == [('start', 'a'), ('retry', 'a', 'PreemptionByScheduler'), ('start', 'a-a2'),
                   ('retry', 'a', 'DeletionByPodGC'), ('finish', 'a', 'DeletionByPodGC')]
    assert job.outcome.loss.cause == 'DeletionByPodGC'


def test_a_pod_deleted_by_someone_else_is_lost_too_but_a_failure_is_never_retried():
    log = []
    jobs = [RetryJob(log, 'a', retries=0), RetryJob(log, 'b')]
    run(jobs, [(1, event('a', 'running', kind='DELETED')), (2, event('b', 'failed_run_exit7'))])
    assert ('retry', 'a', states.DELETED) in log and ('finish', 'a', states.DELETED) in log
    assert not [entry for entry in log if entry[:2] == ('retry', 'b')]
    assert ('finish', 'b', 'Error') in log
