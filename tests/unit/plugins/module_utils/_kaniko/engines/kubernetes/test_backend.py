# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Kubernetes backend of kiln.kaniko.build: which builds get the job pod the module runs in as their owner
(backend.job_pod_owner; finding that pod is _k8s/test_own_pod.py's)."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import own_pod
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import backend
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

JOB_POD = {'metadata': {'name': 'automation-job-7-abcde', 'namespace': 'awx', 'uid': 'uid-job'}}
OWNER = {'apiVersion': 'v1', 'kind': 'Pod', 'name': 'automation-job-7-abcde', 'uid': 'uid-job'}


def job_core():
    core = FakeCore()
    core.pods[('awx', 'automation-job-7-abcde')] = JOB_POD
    return core


def owner_for(namespaces, owned=True, source='incluster', here=('awx', 'automation-job-7-abcde'), warnings=None):
    specs = [make_spec(namespace=namespace) for namespace in namespaces]
    warnings = [] if warnings is None else warnings
    return backend.job_pod_owner(dict(owned_by_job_pod=owned), job_core(), specs, warnings.append, where=lambda: here,
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
