# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""BuildRunner with a local context and a tarball, against stand-ins: the context is sent once the receive
container runs, a failed send or fetch ends the build clearly, a signal while sending deletes the pod, and the
temporary tar never outlives the task."""

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed, BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import pod_exec, runner, status, waiter
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    module_params,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.test_runner import Core


def receive_running(name='kiln-build-xyz12'):
    return {'metadata': {'name': name}, 'status': {'phase': 'Pending', 'initContainerStatuses': [
        {'name': 'receive', 'state': {'running': {}}}]}}


def succeeded(name='kiln-build-xyz12'):
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
    monkeypatch.setattr(runner.context_tar.tempfile, 'tempdir', None)
    yield spool


def local_runner(core, context, **overrides):
    params = {**DOCKERCOINS_RNG, 'local_context': dict(path=str(context)), 'context_sub_path': '', **overrides}
    params.pop('git')
    build = runner.BuildRunner(core, build_spec(module_params(**params)))
    build.collected = []
    build._collect_logs = lambda: []
    build._warning_events = lambda: []
    return build


def test_the_context_is_sent_once_when_the_receive_container_runs(context, monkeypatch):
    sent = []

    def send_file(core, namespace, pod, container, command, path, size, timeout=None):
        with open(path, 'rb') as handle:
            sent.append((pod, container, command[-2], size, len(handle.read())))
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    build = local_runner(Core(), context)
    build.prepare()
    build.start()
    tar = build.packed.file
    waiting = {'metadata': {'name': 'kiln-build-xyz12'}, 'status': {'phase': 'Pending', 'initContainerStatuses': [
        {'name': 'receive', 'state': {'waiting': {'reason': 'PodInitializing'}}}]}}
    assert build.on_running(waiting) is None and sent == []
    assert build.on_running(receive_running()) is None
    assert build.on_running(receive_running()) is None
    assert sent == [('kiln-build-xyz12', 'receive', str(build.spec.local.size), build.spec.local.size,
                     build.spec.local.size)]
    assert not os.path.exists(tar)  # removed once the pod has it


def test_a_failed_send_ends_the_build_naming_the_container_and_the_hint(context, monkeypatch, no_tar_left_behind):
    def send_file(*args, **kwargs):
        raise pod_exec.ExecError('the API server refused the exec (forbidden): the module needs the permission '
                                 'to create pods/exec in namespace builds')
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    core = Core()
    build = local_runner(core, context)
    monkeypatch.setattr(runner, 'wait_for_pod', lambda source, clock, timeout, unschedulable, on_running: (
        waiter.WaitResult(on_running(receive_running()), receive_running())))
    with pytest.raises(BuildFailed) as caught:
        build.run()
    message = caught.value.message
    assert message.startswith("Build failed (ContextNotReceived) in container 'receive': could not send the build "
                              "context (")
    assert 'pods/exec' in message
    assert caught.value.details['container'] == 'receive'
    assert core.pods == {}  # given up on before it ended: deleted
    assert build.packed is None
    assert list(no_tar_left_behind.iterdir()) == []


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_context_is_sent_deletes_the_pod_and_the_tar(context, monkeypatch, signum):
    def send_file(*args, **kwargs):
        os.kill(os.getpid(), signum)
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    core = Core()
    build = local_runner(core, context)
    monkeypatch.setattr(runner, 'wait_for_pod', lambda source, clock, timeout, unschedulable, on_running: (
        waiter.WaitResult(on_running(receive_running()), receive_running())))
    files = []
    original = runner.BuildRunner.pack

    def pack(self):
        original(self)
        files.append(self.packed.file)
    monkeypatch.setattr(runner.BuildRunner, 'pack', pack)
    with pytest.raises(BuildInterrupted):
        build.run()
    assert core.pods == {} and core.calls[-1] == 'delete_pod'
    assert files and not os.path.exists(files[0])


def test_a_tarball_that_cannot_be_fetched_fails_the_build_and_deletes_the_pod(context, tmp_path, monkeypatch):
    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import tarball as tarball_file

    def fetch(core, namespace, pod, spec):
        raise pod_exec.ExecError('received 10 bytes of a tarball of 20 bytes')
    monkeypatch.setattr(tarball_file, 'fetch', fetch)
    core = Core()
    build = local_runner(core, context, tarball=dict(dest=str(tmp_path / 'out.tar')), destinations=['app:1'])
    build.prepare()
    build.start()
    with pytest.raises(BuildFailed) as caught:
        build.result(waiter.WaitResult(status.classify(succeeded()), succeeded()), 1.0, [])
    assert caught.value.message == ("Build failed (TarballNotFetched) in container 'export': could not fetch the "
                                    "tarball: received 10 bytes of a tarball of 20 bytes (hint: the tarball could "
                                    "not be brought out of the pod: the module needs the permission to create "
                                    "pods/exec in the namespace, and git_image needs sh, stat, cat and sha256sum)")
    assert core.pods == {}
    assert not (tmp_path / 'out.tar').exists()
    build.release()


def test_a_fetched_tarball_is_in_the_result(context, tmp_path, monkeypatch):
    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import tarball as tarball_file
    monkeypatch.setattr(tarball_file, 'fetch', lambda core, namespace, pod, spec: dict(
        path=spec.tarball.dest, size=20, sha256='c' * 64))
    core = Core()
    build = local_runner(core, context, tarball=dict(dest=str(tmp_path / 'out.tar')), destinations=['app:1'])
    build.prepare()
    build.start()
    result = build.result(waiter.WaitResult(status.classify(succeeded()), succeeded()), 1.0, [])
    assert result['tarball'] == dict(path=str(tmp_path / 'out.tar'), size=20, sha256='c' * 64)
    assert result['msg'] == 'Built app:1 into the tarball {0}'.format(tmp_path / 'out.tar')
    assert result['local_context']['size'] == build.spec.local.size
    assert core.pods == {}
    build.release()
