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
