# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The life of one build (lifecycle.Build) against the shared core/v1 fake: a local context is sent once the
receive container runs, a failed send or fetch ends the build clearly, a signal while sending deletes the pod, the
temporary tar never outlives the task; and what is left behind when a signal or an outage comes at a bad time."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import ApiUnreachable
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import archive
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import export, pod_exec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.secrets import SecretReader
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed, BuildInterrupted, TransferError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import prepare, waiter
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.lifecycle import Build
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    load_fixture,
    make_spec,
    module_params,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.runs import Run, log_wait, single


def receive_running(name='kiln-build-1'):
    return {'metadata': {'name': name}, 'status': {'phase': 'Pending', 'initContainerStatuses': [
        {'name': 'receive', 'state': {'running': {}}}]}}


def succeeded(name='kiln-build-1'):
    return {'metadata': {'name': name}, 'status': {'phase': 'Running', 'containerStatuses': [
        {'name': 'kaniko', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed',
                                                    'message': 'r:5000/a@sha256:' + 'a' * 64}}},
        {'name': 'export', 'state': {'running': {}}}]}}


@pytest.fixture
def context(tmp_path):
    root = tmp_path / 'app'
    root.mkdir()
    (root / 'Dockerfile').write_text('FROM scratch\n')
    return root


@pytest.fixture(autouse=True)
def no_tar_left_behind(tmp_path, monkeypatch):
    """Pack into the test's folder, and check that no temporary tar outlives a test that ran the whole build."""
    spool = tmp_path / 'spool'
    spool.mkdir()
    monkeypatch.setenv('TMPDIR', str(spool))
    monkeypatch.setattr(archive.tempfile, 'tempdir', None)
    yield spool


def local_spec(context, **overrides):
    params = {**DOCKERCOINS_RNG, 'local_context': dict(path=str(context)), 'context_sub_path': '', **overrides}
    params.pop('git')
    return build_spec(module_params(**params))


def local_build(core, context, **overrides):
    """A prepared and started Build of a local context."""
    engine = KubernetesEngine(core, log_wait)
    build = Build(prepare.prepare(local_spec(context, **overrides), engine, SecretReader(core, None)), engine, 'run1',
                  time.monotonic, lambda message: None)
    build.start()
    return build


def local_run(core, context, **overrides):
    """The task of one local-context build whose pod runs its receive container, then (if nothing ends it first)
    succeeds."""
    return Run(core, [local_spec(context, **overrides)], plan={'registry:5000/rng:latest': [receive_running()]},
               items=False, resolver=None)


def test_the_context_is_sent_once_when_the_receive_container_runs(context, monkeypatch):
    sent = []

    def send_file(core, namespace, pod, container, command, path, size, timeout=None):
        with open(path, 'rb') as handle:
            sent.append((pod, container, command[-2], size, len(handle.read())))
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    build = local_build(Core(), context)
    tar = build.prepared.packed.file
    waiting = {'metadata': {'name': 'kiln-build-1'}, 'status': {'phase': 'Pending', 'initContainerStatuses': [
        {'name': 'receive', 'state': {'waiting': {'reason': 'PodInitializing'}}}]}}
    assert build.on_running(waiting) is None and sent == []
    assert build.on_running(receive_running()) is None
    assert build.on_running(receive_running()) is None
    assert sent == [('kiln-build-1', 'receive', str(build.spec.local.size), build.spec.local.size,
                     build.spec.local.size)]
    assert not os.path.exists(tar)  # removed once the pod has it


def test_a_failed_send_ends_the_build_naming_the_container_and_the_hint(context, monkeypatch, no_tar_left_behind):
    def send_file(*args, **kwargs):
        raise TransferError('the API server refused the exec (forbidden): the module needs the permission '
                            'to create pods/exec in namespace builds')
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    core = Core()
    run = local_run(core, context)
    with pytest.raises(BuildFailed) as caught:
        run.run()
    message = caught.value.message
    assert message.startswith("Build failed (ContextNotReceived) in container 'receive': could not send the build "
                              "context (")
    assert 'pods/exec' in message
    assert caught.value.details['container'] == 'receive'
    assert core.pods == {}  # given up on before it ended: deleted
    assert run.build_run.prepared[0].packed is None
    assert list(no_tar_left_behind.iterdir()) == []


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_context_is_sent_deletes_the_pod_and_the_tar(context, monkeypatch, signum):
    def send_file(*args, **kwargs):
        os.kill(os.getpid(), signum)
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    core = Core()
    run = local_run(core, context)
    files = []
    original = prepare.Prepared.pack

    def pack(self):
        original(self)
        files.append(self.packed.file)
    monkeypatch.setattr(prepare.Prepared, 'pack', pack)
    with pytest.raises(BuildInterrupted):
        run.run()
    assert core.pods == {} and core.called('delete_pod') == ['kiln-build-1']
    assert files and not os.path.exists(files[0])


def test_a_tarball_that_cannot_be_fetched_fails_the_build_and_deletes_the_pod(context, tmp_path, monkeypatch):
    def fetch(core, namespace, pod, spec):
        raise TransferError('received 10 bytes of a tarball of 20 bytes')
    monkeypatch.setattr(export, 'fetch', fetch)
    core = Core()
    build = local_build(core, context, tarball=dict(dest=str(tmp_path / 'out.tar')), destinations=['app:1'])
    build.finish(waiter.WaitResult(states.classify(succeeded()), succeeded()))
    assert isinstance(build.error, BuildFailed)
    assert build.error.message == ("Build failed (TarballNotFetched) in container 'export': could not fetch the "
                                   "tarball: received 10 bytes of a tarball of 20 bytes (hint: the tarball could "
                                   "not be brought out of the pod: the module needs the permission to create "
                                   "pods/exec in the namespace, and git_image needs sh, stat, cat and sha256sum)")
    assert core.pods == {}
    assert not (tmp_path / 'out.tar').exists()
    build.prepared.release()


def test_a_fetched_tarball_is_in_the_result(context, tmp_path, monkeypatch):
    monkeypatch.setattr(export, 'fetch', lambda core, namespace, pod, spec: dict(
        path=spec.tarball.dest, size=20, sha256='c' * 64))
    core = Core()
    build = local_build(core, context, tarball=dict(dest=str(tmp_path / 'out.tar')), destinations=['app:1'])
    build.finish(waiter.WaitResult(states.classify(succeeded()), succeeded()))
    result = build.result
    assert result['tarball'] == dict(path=str(tmp_path / 'out.tar'), size=20, sha256='c' * 64)
    assert result['msg'] == 'Built app:1 into the tarball {0}'.format(tmp_path / 'out.tar')
    assert result['local_context']['size'] == build.spec.local.size
    assert core.pods == {} and result['failed'] is False
    build.prepared.release()


AUTH = [{'server': 'registry:5000', 'username': 'ci', 'password': 'not-a-password'}]


def signal_self(signum):
    return lambda: os.kill(os.getpid(), signum)


def started(core, **overrides):
    """A prepared and started Build, and the warnings it gives."""
    warnings = []
    engine = KubernetesEngine(core, log_wait)
    prepared = prepare.prepare(make_spec(**overrides), engine, SecretReader(core, warnings.append))
    build = Build(prepared, engine, 'run1', time.monotonic, warnings.append)
    build.start()
    return build, warnings


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_pod_is_created_still_deletes_the_pod_and_the_secret(signum):
    core = Core(on={'create_pod': signal_self(signum)})
    run = single(core, registry_auth=AUTH)
    with pytest.raises(BuildInterrupted) as caught:
        run.run()
    assert signal.Signals(signum).name in caught.value.message
    assert core.pods == {} and core.secrets == {}
    assert caught.value.details['pod_name'] == 'kiln-build-2'
    deletions = [call for call, _name in core.calls if call.startswith('delete')]
    assert deletions == ['delete_secret', 'delete_pod']
    assert core.calls[-2:] == [('list_pods', 'kiln.kaniko/run=' + run.run_id),  # then whatever else the run made
                               ('list_secrets', 'kiln.kaniko/run=' + run.run_id)]


def test_a_second_signal_does_not_cut_the_cleanup_short():
    core = Core(on={'create_pod': signal_self(signal.SIGINT), 'delete_secret': signal_self(signal.SIGTERM)})
    with pytest.raises(BuildInterrupted):
        single(core, registry_auth=AUTH).run()
    assert core.pods == {} and core.secrets == {}


def test_the_pod_is_still_deleted_when_the_secret_cannot_be():
    def gone():
        raise ApiUnreachable('Lost the Kubernetes API server at https://10.0.0.1:6443 for 120 s: refused')
    core = Core(on={'delete_secret': gone})
    build, warnings = started(core, registry_auth=AUTH)
    build.abort()
    assert core.pods == {}
    assert warnings == ['Could not delete secret kiln-build-auth-1 in namespace builds: Lost the Kubernetes API '
                        'server at https://10.0.0.1:6443 for 120 s: refused; the deletion of its pod removes it '
                        '(it is owned by the pod)']


def test_a_pod_past_its_deadline_is_deleted_even_with_keep_pod_on_failure():
    core = Core()
    build, _warnings = started(core, keep_pod='on_failure')
    pod = load_fixture('recorded/deadline_exceeded.json')['pod']
    build.finish(waiter.WaitResult(states.classify(pod), pod))
    assert isinstance(build.error, BuildFailed)
    assert build.result['reason'] == 'DeadlineExceeded'
    assert build.result['pod_kept'] is False
    assert core.pods == {}


def test_an_ended_build_keeps_its_pod_s_name_and_lets_go_of_the_rest():
    core = Core()
    build, _warnings = started(core)
    created = build.workload.pod
    assert created['spec'] and build.logs is not None
    pod = load_fixture('recorded/succeeded.json')['pod']
    pod['metadata']['name'] = build.pod_name
    build.finish(waiter.WaitResult(states.classify(pod), pod))
    assert build.result['failed'] is False and build.result['pod_name'] == created['metadata']['name']
    # A run holds every build to its end: an ended one holds no pod manifest and no log follower.
    assert build.workload.pod == {'metadata': {'name': created['metadata']['name'], 'namespace': build.namespace}}
    assert build.pod_name == created['metadata']['name'] and build.logs is None
