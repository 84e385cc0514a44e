# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Builds owned by the job pod the module runs in: finding that pod, and who gets it as owner."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import own_pod
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import edge
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine, Workload
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


def test_read_gives_the_pod_and_none_when_it_is_not_there():
    core = job_core()
    assert own_pod.read(core, 'awx', 'automation-job-7-abcde') == JOB_POD
    assert own_pod.read(core, 'awx', 'some-other-name') is None  # spec.hostname set, say


def owner_for(namespaces, owned=True, source='incluster', here=('awx', 'automation-job-7-abcde'), warnings=None):
    specs = [make_spec(namespace=namespace) for namespace in namespaces]
    warnings = [] if warnings is None else warnings
    return edge.job_pod_owner(dict(owned_by_job_pod=owned), job_core(), specs, warnings.append, where=lambda: here,
                              source=lambda params: source)


def test_builds_in_the_job_pods_namespace_get_it_as_owner():
    assert owner_for(['awx']) == ('awx', OWNER)
    assert owner_for(['builds', 'awx']) == ('awx', OWNER)


def test_no_owner_out_of_a_pod_across_namespaces_or_when_turned_off():
    assert owner_for(['awx'], source='kubeconfig') is None
    assert owner_for(['builds']) is None  # owner references cannot cross namespaces
    assert owner_for(['awx'], owned=False) is None
    assert owner_for(['awx'], here=None) is None


def test_a_pod_of_another_name_is_said_and_a_pod_that_may_not_be_read_is_an_error():
    warnings = []
    assert owner_for(['awx'], here=('awx', 'custom-hostname'), warnings=warnings) is None
    assert 'spec.hostname' in warnings[0] and 'custom-hostname' in warnings[0]
    core = FakeCore()

    def refused(*_args, **_kwargs):
        raise forbidden()
    core.read_namespaced_pod = refused
    with pytest.raises(ClusterError) as raised:
        own_pod.read(core, 'awx', 'automation-job-7-abcde')
    assert "grant the verb 'get' on 'pods'" in raised.value.message
    assert 'owned_by_job_pod=false' in raised.value.message


def forbidden():
    exc = ApiException(status=403, reason='Forbidden')
    exc.body = json.dumps({'message': 'pods "automation-job-7-abcde" is forbidden: User "system:serviceaccount:awx:'
                                      'default" cannot get resource "pods" in API group "" in the namespace "awx"'})
    return exc


def test_the_engine_gives_the_owner_to_pods_of_its_namespace_only():
    core = FakeCore()
    engine = KubernetesEngine(core, owner=('awx', OWNER))
    mine = engine.create(make_spec(namespace='awx'), Workload('awx'), '.dockerconfigjson', 'r1')
    other = engine.create(make_spec(namespace='builds'), Workload('builds'), '.dockerconfigjson', 'r1')
    assert mine.pod['metadata']['ownerReferences'] == [OWNER]
    assert 'ownerReferences' not in other.pod['metadata']
