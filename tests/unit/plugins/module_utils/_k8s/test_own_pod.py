# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod the module runs in (for owned_by_job_pod): where it is, and reading it."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import own_pod
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore


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


JOB_POD = {'metadata': {'name': 'automation-job-7-abcde', 'namespace': 'awx', 'uid': 'uid-job'}}


def job_core():
    core = FakeCore()
    core.pods[('awx', 'automation-job-7-abcde')] = JOB_POD
    return core


def test_read_gives_the_pod_and_none_when_it_is_not_there():
    core = job_core()
    assert own_pod.read(core, 'awx', 'automation-job-7-abcde') == JOB_POD
    assert own_pod.read(core, 'awx', 'some-other-name') is None  # spec.hostname set, say
