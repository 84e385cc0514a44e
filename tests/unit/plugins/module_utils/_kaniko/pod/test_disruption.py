# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pods lost through no fault of the build (pod/disruption.py), told apart from builds that failed on their own.

Both are what Kubernetes really reported (fixtures/recorded, written by tests/lab/record_statuses.py): the lost pods
on the lab of three nodes (Kubernetes 1.36.2), each on its node kiln-node-3. A node shutdown, which the lab cannot
make, and an eviction under node pressure are still written by hand (fixtures/README.md)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import disruption
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture

NODE = 'kiln-node-3'


def recorded(name):
    return load_fixture('recorded/{0}.json'.format(name))['pod']


def test_an_eviction_through_the_eviction_api_as_a_kubelet_reported_it():
    # What kubectl drain does to each pod, recorded: the condition comes with the deletion, while Kaniko runs.
    pod = recorded('evicted_by_api')
    outcome = states.classify(pod)
    assert (outcome.state, outcome.reason, outcome.container, outcome.exit_code) == (
        states.FAILED, 'EvictionByEvictionAPI', 'kaniko', None)
    assert (outcome.loss.pod, outcome.loss.node, outcome.loss.keep_off, outcome.loss.stays) == (
        'evicted-by-api', 'kiln-node', 'kiln-node', False)
    assert outcome.message == 'Eviction API: evicting'


def test_a_drained_pod_that_its_kubelet_ended_is_still_the_drains_loss():
    # kubectl drain, recorded once the kubelet had stopped the pod: phase Failed, Ready and ContainersReady False
    # (PodFailed), and Kaniko ended by the stop with exit code 2, in the very second the DisruptionTarget came.
    pod = recorded('drained')
    condition = [item for item in pod['status']['conditions'] if item['type'] == 'DisruptionTarget'][0]
    kaniko = pod['status']['containerStatuses'][0]['state']['terminated']
    assert (pod['status']['phase'], kaniko['exitCode']) == ('Failed', 2)
    assert kaniko['finishedAt'] == condition['lastTransitionTime']  # stopped by the drain, not failed before it
    assert not disruption.marked(pod) and not disruption.unmarkable(pod)
    outcome = states.classify(pod)
    assert (outcome.state, outcome.reason, outcome.container, outcome.exit_code, outcome.message) == (
        states.FAILED, 'EvictionByEvictionAPI', 'kaniko', None, 'Eviction API: evicting')
    assert (outcome.loss.node, outcome.loss.keep_off, outcome.loss.stays) == (NODE, NODE, False)
    # Kaniko's words (its termination message, the log of a build the stop cut short) say nothing of the build.
    assert states.describe(outcome, 'sleeping') == (
        'Build pod drained was lost (EvictionByEvictionAPI): the pod was evicted from node kiln-node-3 through the '
        "Eviction API (kubectl drain, the cluster autoscaler): Eviction API: evicting (the build was in container "
        "'kaniko') (hint: the build did not fail on its own: set retries to run it again as a new pod, kept off that "
        'node)')


@pytest.mark.parametrize('name, reason, node, keep_off, said', [
    ('recorded/preempted', 'PreemptionByScheduler', NODE, None,
     'default-scheduler: preempting to accommodate a higher priority pod'),
    ('recorded/taint_evicted', 'DeletionByTaintManager', NODE, NODE, 'Taint manager: deleting due to NoExecute taint'),
    ('recorded/node_deleted', 'DeletionByPodGC', NODE, NODE, 'PodGC: node no longer exists'),
    ('recorded/drained', 'EvictionByEvictionAPI', NODE, NODE, 'Eviction API: evicting'),
    ('handwritten_node_shutdown', 'Terminated', 'kiln-worker-2', 'kiln-worker-2',
     'Pod was terminated in response to imminent node shutdown.'),
])
def test_a_disruption_target_names_the_cause_the_pod_and_its_node(name, reason, node, keep_off, said):
    pod = load_fixture(name + '.json')['pod']
    outcome = states.classify(pod)
    assert (outcome.state, outcome.reason, outcome.exit_code) == (states.FAILED, reason, None)
    loss = outcome.loss
    assert (loss.cause, loss.pod, loss.node, loss.keep_off, loss.said) == (
        reason, pod['metadata']['name'], node, keep_off, said)
    assert outcome.message == said
    assert 'retries' in outcome.hint


def test_an_eviction_under_node_pressure_is_a_loss_and_keeps_its_words():
    outcome = states.classify(load_fixture('handwritten_failed_evicted.json'))
    assert (outcome.reason, outcome.loss.cause, outcome.loss.keep_off, outcome.loss.stays) == (
        'Evicted', 'Evicted', 'kiln-lab', True)
    assert outcome.message.startswith('The node was low on resource: ephemeral-storage.')
    assert outcome.hint == ('the node evicted the pod under resource pressure: set pod.resources.requests for memory '
                            'and ephemeral-storage, or set retries to run it again as a new pod, kept off that node')


def test_an_eviction_for_the_pods_own_limit_is_the_builds_failure():
    # The kubelet evicts a pod over its own emptyDir sizeLimit or ephemeral-storage limit without DisruptionTarget.
    outcome = states.classify(recorded('evicted_emptydir_limit'))
    assert (outcome.state, outcome.reason, outcome.loss) == (states.FAILED, 'Evicted', None)
    assert outcome.message == 'Usage of EmptyDir volume "scratch" exceeds the limit "8Mi". '


@pytest.mark.parametrize('name', [
    'failed_run_exit7', 'failed_clone_missing_ref', 'oomkilled', 'err_image_pull', 'image_pull_backoff',
    'invalid_image_name', 'create_container_config_error', 'deadline_exceeded', 'unschedulable', 'running',
    'pending_missing_secret_volume', 'succeeded', 'evicted_emptydir_limit',
])
def test_nothing_a_kubelet_reported_of_a_build_of_its_own_is_a_loss(name):
    pod = recorded(name)
    assert disruption.loss(pod) is None
    assert not disruption.marked(pod)
    assert states.classify(pod).loss is None


@pytest.mark.parametrize('name', ['handwritten_failed_kaniko_oomkilled.json',
                                  'handwritten_running_clone_failed_phase_lag.json',
                                  'handwritten_pending_clone_imagepullbackoff.json'])
def test_nor_what_was_written_of_one(name):
    assert states.classify(load_fixture(name)).loss is None


def test_a_build_that_had_failed_before_the_disruption_failed_on_its_own():
    pod = recorded('failed_run_exit7')
    finished = pod['status']['containerStatuses'][0]['state']['terminated']['finishedAt']
    later = copy.deepcopy(pod)
    later['status']['conditions'].append({'type': 'DisruptionTarget', 'status': 'True',
                                          'reason': 'EvictionByEvictionAPI', 'message': 'Eviction API: evicting',
                                          'lastTransitionTime': '2099-01-01T00:00:00Z'})
    later['metadata']['deletionTimestamp'] = '2099-01-01T00:00:30Z'
    assert disruption.loss(later) is None
    # ... whereas a container stopped by the disruption (it ended at or after it) says nothing of the build.
    earlier = copy.deepcopy(later)
    earlier['status']['conditions'][-1]['lastTransitionTime'] = finished
    assert disruption.loss(earlier).cause == 'EvictionByEvictionAPI'


def test_a_disruption_counts_once_the_pod_is_deleted_or_has_failed():
    # The deletion follows the condition at once; a condition left on a running pod is stale (the disruption
    # controller sets it to False after two minutes).
    pod = copy.deepcopy(recorded('evicted_by_api'))
    del pod['metadata']['deletionTimestamp']
    assert disruption.loss(pod) is None and states.classify(pod).state == states.RUNNING
    pod['status']['phase'] = 'Failed'
    assert disruption.loss(pod).cause == 'EvictionByEvictionAPI'


def test_a_container_out_of_memory_failed_on_its_own_whenever_it_ended():
    pod = load_fixture('handwritten_failed_kaniko_oomkilled.json')
    pod['status']['conditions'] = [{'type': 'DisruptionTarget', 'status': 'True', 'reason': 'TerminationByKubelet',
                                    'lastTransitionTime': '1970-01-01T00:00:00Z'}]
    assert disruption.loss(pod) is None


def test_the_node_controllers_mark_is_ready_false_beside_containers_ready_true():
    marked = recorded('node_lost_marked')
    assert disruption.marked(marked) and not disruption.unmarkable(marked)
    assert states.classify(marked).state == states.RUNNING  # the waiter confirms it over time
    loss = disruption.node_lost(marked)
    assert (loss.cause, loss.node, loss.keep_off) == ('NodeLost', NODE, NODE)
    assert loss.said == 'the node lifecycle controller marked the pod not ready at 2026-12-07T16:45:04Z'
    events = load_fixture('recorded/node_lost_marked.json')['events']
    assert states.warning_messages(events) == ['NodeNotReady: Node is not ready']


def test_a_pod_whose_ready_is_false_already_cannot_show_the_mark():
    clone = recorded('node_lost_clone')
    assert disruption.unmarkable(clone) and not disruption.marked(clone)
    assert not disruption.unmarkable(recorded('unschedulable'))  # on no node
    assert not disruption.unmarkable(recorded('succeeded'))
    assert not disruption.unmarkable(recorded('evicted_by_api'))  # being deleted


def test_a_lost_build_is_described_with_its_pod_its_node_and_what_happened():
    outcome = states.lost(recorded('node_lost_marked'), disruption.node_lost(recorded('node_lost_marked')))
    assert states.describe(outcome, 'INFO[0010] RUN make') == (
        'Build pod node-lost-marked was lost (NodeLost): node kiln-node-3 stopped reporting to the API server: the '
        "node lifecycle controller marked the pod not ready at 2026-12-07T16:45:04Z (the build was in container "
        "'kaniko') (hint: the build did not fail on its own: set retries to run it again as a new pod, kept off "
        "that node)")
    preempted = states.classify(recorded('preempted'))
    assert preempted.hint == 'the build did not fail on its own: set retries to run it again as a new pod'


def test_a_deleted_pod_says_its_disruption_when_it_had_one():
    drained = states.deleted(recorded('evicted_by_api'))
    assert (drained.reason, drained.loss.keep_off) == ('EvictionByEvictionAPI', 'kiln-node')
    gone = states.deleted(recorded('running'))
    assert (gone.reason, gone.loss.cause, gone.loss.node) == ('Deleted', 'Deleted', 'kiln-node')
    assert gone.loss.keep_off is None
    assert gone.hint.endswith('and run the build again, or set retries to run it again as a new pod')
    assert states.deleted().loss == disruption.Loss('Deleted')


def test_hints_of_a_build_whose_every_pod_was_lost():
    assert disruption.exhausted_hint(3) == (
        "the build did not fail on its own, but each of its 3 pods was lost: see the nodes and the namespace's "
        "events, or raise retries")
