# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KubernetesEngine: what it makes of a build in the cluster."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Workload
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture, make_spec

OWNER = {'apiVersion': 'v1', 'kind': 'Pod', 'name': 'automation-job-7-abcde', 'uid': 'uid-job'}


def test_the_engine_gives_the_owner_to_pods_of_its_namespace_only():
    core = FakeCore()
    engine = KubernetesEngine(core, owner=('awx', OWNER))
    mine = engine.create(make_spec(namespace='awx'), Workload('awx'), '.dockerconfigjson', 'r1')
    other = engine.create(make_spec(namespace='builds'), Workload('builds'), '.dockerconfigjson', 'r1')
    assert mine.pod['metadata']['ownerReferences'] == [OWNER]
    assert 'ownerReferences' not in other.pod['metadata']


# The node objects the module's node check read on the lab of three nodes (fixtures/recorded), kiln-node-3 each time.
NODE = 'kiln-node-3'
STOPPED = 'Kubelet stopped posting node status.'


def recorded_node(name):
    """The node recorded with the lost pod ``name`` (``{}``: there was none), as a FakeCore holds nodes."""
    node = load_fixture('recorded/{0}.json'.format(name))['node']
    return [node] if node else []


@pytest.mark.parametrize('name, lost', [
    ('node_lost_marked', ('NodeLost', 'its Ready condition is Unknown since 2026-12-07T16:45:04Z: ' + STOPPED)),
    ('node_lost_clone', ('NodeLost', 'its Ready condition is Unknown since 2026-12-07T16:45:59Z: ' + STOPPED)),
    ('taint_evicted', ('NodeLost', 'its Ready condition is Unknown since 2026-12-07T16:47:19Z: ' + STOPPED)),
    ('node_deleted', ('NodeDeleted', 'the API server has no node kiln-node-3')),
    ('drained', None),  # cordoned, and its kubelet reports
    ('preempted', None),
])
def test_a_node_is_lost_when_its_ready_condition_is_unknown_and_gone_when_it_is_not_there(name, lost):
    assert KubernetesEngine(FakeCore(nodes=recorded_node(name))).lost_node(NODE) == lost


def test_a_node_is_lost_from_the_moment_its_ready_condition_turns_unknown():
    # The node as a watch saw it when its kubelet stopped: Ready Unknown came first, the unreachable taints after.
    watched = load_fixture('recorded/node_stopped_watch.json')['nodes']
    assert [len(node['spec'].get('taints') or []) for node in watched] == [0, 0, 1, 2]
    found = [KubernetesEngine(FakeCore(nodes=[node])).lost_node(NODE) for node in watched]
    assert found == [None] + 3 * [('NodeLost', 'its Ready condition is Unknown since 2026-12-07T16:06:22Z: ' + STOPPED)]


def test_a_node_whose_kubelet_says_it_is_not_ready_is_not_lost():
    # No recording has one: the recorded ready node, with what a kubelet writes when its runtime is down
    # (pkg/kubelet/nodestatus, reason KubeletNotReady).
    node = recorded_node('preempted')[0]
    ready = [condition for condition in node['status']['conditions'] if condition['type'] == 'Ready'][0]
    ready.update(status='False', reason='KubeletNotReady', message='container runtime is down')
    assert KubernetesEngine(FakeCore(nodes=[node])).lost_node(NODE) is None


def test_nodes_refused_are_not_asked_for_again():
    core = FakeCore(nodes=403)
    engine = KubernetesEngine(core)
    assert engine.lost_node('w1') is None and engine.lost_node('w1') is None
    assert core.called('read_node') == ['w1']
