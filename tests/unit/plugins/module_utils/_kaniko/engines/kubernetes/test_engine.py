# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KubernetesEngine: what it makes of a build in the cluster."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Workload
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

OWNER = {'apiVersion': 'v1', 'kind': 'Pod', 'name': 'automation-job-7-abcde', 'uid': 'uid-job'}


def test_the_engine_gives_the_owner_to_pods_of_its_namespace_only():
    core = FakeCore()
    engine = KubernetesEngine(core, owner=('awx', OWNER))
    mine = engine.create(make_spec(namespace='awx'), Workload('awx'), '.dockerconfigjson', 'r1')
    other = engine.create(make_spec(namespace='builds'), Workload('builds'), '.dockerconfigjson', 'r1')
    assert mine.pod['metadata']['ownerReferences'] == [OWNER]
    assert 'ownerReferences' not in other.pod['metadata']


def node(name, ready):
    return {'metadata': {'name': name}, 'status': {'conditions': [
        {'type': 'MemoryPressure', 'status': 'Unknown'},
        {'type': 'Ready', 'status': ready, 'reason': 'NodeStatusUnknown', 'message': 'Kubelet stopped posting node status.',
         'lastTransitionTime': '2026-11-24T10:00:50Z'}]}}


def test_a_node_is_lost_when_its_ready_condition_is_unknown_and_gone_when_it_is_not_there():
    engine = KubernetesEngine(FakeCore(nodes=[node('w1', 'True'), node('w2', 'Unknown'), node('w3', 'False')]))
    assert engine.lost_node('w1') is None
    assert engine.lost_node('w2') == ('NodeLost', 'its Ready condition is Unknown since 2026-11-24T10:00:50Z: '
                                                  'Kubelet stopped posting node status.')
    assert engine.lost_node('w3') is None  # its kubelet reports, and says it is not ready
    assert engine.lost_node('w4') == ('NodeDeleted', 'the API server has no node w4')


def test_nodes_refused_are_not_asked_for_again():
    core = FakeCore(nodes=403)
    engine = KubernetesEngine(core)
    assert engine.lost_node('w1') is None and engine.lost_node('w1') is None
    assert core.called('read_node') == ['w1']
