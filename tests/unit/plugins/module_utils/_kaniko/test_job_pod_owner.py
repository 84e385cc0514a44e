# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Builds owned by the job pod the module runs in: finding that pod, and who gets it as owner."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import own_pod
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import edge
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engine import KubernetesEngine, Workload
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

JOB_POD = {'metadata': {'name': 'automation-job-7-abcde', 'namespace': 'awx', 'uid': 'uid-job'}}
OWNER = {'apiVersion': 'v1', 'kind': 'Pod', 'name': 'automation-job-7-abcde', 'uid': 'uid-job'}


def files(**content):
    def read(path):
        if path not in content:
            raise IOError(2, 'No such file', path)
        return content[path]
    return read


def test_where_reads_the_service_accounts_namespace_and_the_hostname():
    read = files(**{own_pod.SERVICE_ACCOUNT_NAMESPACE: 'awx'})
    assert own_pod.where(read, lambda: 'automation-job-7-abcde') == ('awx', 'automation-job-7-abcde')
    assert own_pod.where(read, lambda: 'automation-job-7-abcde.example.com') == ('awx', 'automation-job-7-abcde')
    assert own_pod.where(files(), lambda: 'host') is None  # not in a pod
    assert own_pod.where(read, lambda: '') is None


def job_core():
    core = FakeCore()
    core.pods[('awx', 'automation-job-7-abcde')] = JOB_POD
    return core


def test_reference_names_the_pod_by_its_uid_and_none_when_it_is_not_there():
    core = job_core()
    assert own_pod.reference(core, 'awx', 'automation-job-7-abcde') == OWNER
    assert own_pod.reference(core, 'awx', 'some-other-name') is None  # spec.hostname set, say


def owner_for(namespaces, owned=True, source='incluster', here=('awx', 'automation-job-7-abcde')):
    specs = [make_spec(namespace=namespace) for namespace in namespaces]
    return edge.job_pod_owner(dict(owned_by_job_pod=owned), job_core(), specs, where=lambda: here,
                              source=lambda params: source)


def test_builds_in_the_job_pods_namespace_get_it_as_owner():
    assert owner_for(['awx']) == ('awx', OWNER)
    assert owner_for(['builds', 'awx']) == ('awx', OWNER)


def test_no_owner_out_of_a_pod_across_namespaces_or_when_turned_off():
    assert owner_for(['awx'], source='kubeconfig') is None
    assert owner_for(['builds']) is None  # owner references cannot cross namespaces
    assert owner_for(['awx'], owned=False) is None
    assert owner_for(['awx'], here=None) is None


def test_the_engine_gives_the_owner_to_pods_of_its_namespace_only():
    core = FakeCore()
    engine = KubernetesEngine(core, owner=('awx', OWNER))
    mine = engine.create(make_spec(namespace='awx'), Workload('awx'), '.dockerconfigjson', 'r1')
    other = engine.create(make_spec(namespace='builds'), Workload('builds'), '.dockerconfigjson', 'r1')
    assert mine.pod['metadata']['ownerReferences'] == [OWNER]
    assert 'ownerReferences' not in other.pod['metadata']
