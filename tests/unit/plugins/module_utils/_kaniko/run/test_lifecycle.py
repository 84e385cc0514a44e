# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The life of one build (lifecycle.Build) against the shared core/v1 fake: a local context is sent once the
receive container runs, a failed send or fetch ends the build clearly, a signal while sending deletes the pod, the
temporary tar never outlives the task; and what is left behind when a signal or an outage comes at a bad time."""

from __future__ import annotations

import hashlib
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
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import Attempts
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    load_fixture,
    make_spec,
    module_params,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.run.test_scheduler import Clock
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


# A build lost through no fault of its own (option retries): pods as the lab of three nodes recorded them
# (fixtures/README.md).

def recorded(name, **ready):
    """The recorded pod ``name``, with the conditions named in ``ready`` set to that status."""
    pod = load_fixture('recorded/{0}.json'.format(name))['pod']
    for condition in pod['status']['conditions']:
        if condition['type'] in ready:
            condition['status'] = ready[condition['type']]
    return pod


def retried(core, plan, tmp_path=None, clock=None, **overrides):
    """The task of one build (registry_auth: a Secret for each pod) whose pods go through ``plan``."""
    params = dict(registry_auth=AUTH, **overrides)
    if tmp_path is not None:
        params['log_path'] = str(tmp_path / 'build.log')
    kwargs = dict(clock=clock) if clock is not None else {}
    return Run(core, [make_spec(**params)], plan={'registry:5000/rng:latest': plan}, items=False, resolver=None,
               **kwargs)


def test_an_evicted_build_runs_again_as_a_new_pod_kept_off_the_node(tmp_path):
    core = Core()
    created = []
    core.on['create_pod'] = lambda: created.append(max(core.pods.values(), key=lambda pod: pod['metadata']['name']))
    run = retried(core, Attempts(['evicted_by_api'], 'succeeded'), tmp_path, retries=2)
    result = run.run()
    assert result['changed'] is True and result['digest'] and result['pod_name'] == 'kiln-build-a2-4'
    first, second = result['attempts']
    assert first == dict(pod_name='kiln-build-2', node='kiln-node', reason='EvictionByEvictionAPI',
                         message='the pod was evicted from node kiln-node through the Eviction API (kubectl drain, '
                                 'the cluster autoscaler): Eviction API: evicting')
    assert second == dict(pod_name='kiln-build-a2-4', node='kiln-node', reason='Completed', message=None)
    # The lost pod went at once, with its Secret; the new pod has a Secret of its own, which went too.
    assert core.grace['kiln-build-2'] == 0
    assert core.called('delete_secret') == ['kiln-build-auth-1', 'kiln-build-auth-3']
    assert core.pods == {} and core.secrets == {}
    manifest = created[1]
    assert manifest['metadata']['generateName'] == 'kiln-build-a2-'
    assert manifest['spec']['affinity'] == {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {
        'nodeSelectorTerms': [{'matchFields': [{'key': 'metadata.name', 'operator': 'NotIn',
                                                'values': ['kiln-node']}]}]}}}
    log = (tmp_path / 'build.log').read_text()
    assert ('==> kiln-retry <==\npod kiln-build-2 was lost (EvictionByEvictionAPI): the pod was evicted from node '
            'kiln-node through the Eviction API (kubectl drain, the cluster autoscaler): Eviction API: evicting; '
            'running the build again as a new pod, attempt 2 of 3, kept off node kiln-node\n==> clone <==') in log


def test_a_drained_build_runs_again_though_its_kubelet_ended_the_pod_failed():
    # kubectl drain, recorded: the kubelet had stopped the pod (phase Failed, Kaniko's exit code 2) before the module
    # looked. It is the drain's doing: not kept as a failure is, even with keep_pod on_failure.
    core = Core()
    run = retried(core, Attempts(['drained'], 'succeeded'), keep_pod='on_failure', retries=1)
    result = run.run()
    assert result['attempts'][0] == dict(
        pod_name='kiln-build-2', node='kiln-node-3', reason='EvictionByEvictionAPI',
        message='the pod was evicted from node kiln-node-3 through the Eviction API (kubectl drain, the cluster '
                'autoscaler): Eviction API: evicting')
    assert result['attempts'][1]['reason'] == 'Completed'
    assert core.grace['kiln-build-2'] == 0


def test_without_retries_a_lost_node_fails_the_build_naming_pod_node_and_what_happened():
    core = Core()
    clock = Clock()
    marked = recorded('node_lost_marked')
    run = retried(core, [recorded('node_lost_marked', Ready='True'), marked], clock=clock)
    with pytest.raises(BuildFailed) as caught:
        run.run()
    assert caught.value.message == (
        'Build pod kiln-build-2 was lost (NodeLost): node kiln-node-3 stopped reporting to the API server: the node '
        "lifecycle controller marked the pod not ready at 2026-12-07T16:45:04Z (the build was in container 'kaniko') "
        '(hint: the build did not fail on its own: set retries to run it again as a new pod, kept off that node)')
    details = caught.value.details
    assert (details['reason'], details['pod_kept'], details['attempts']) == ('NodeLost', False, [dict(
        pod_name='kiln-build-2', node='kiln-node-3', reason='NodeLost',
        message='node kiln-node-3 stopped reporting to the API server: the node lifecycle controller marked the pod '
                'not ready at 2026-12-07T16:45:04Z')])
    assert clock.now - 1000 <= 2 * 15  # the mark stayed 15 s; the log of a lost node is not read again
    assert core.grace['kiln-build-2'] == 0 and core.pods == {} and core.secrets == {}
    assert 'read_node' not in [call for call, _name in core.calls]


def test_a_build_whose_every_pod_was_lost_says_so_and_runs_no_more():
    core = Core()
    run = retried(core, Attempts(['preempted'], ['taint_evicted']), retries=1)
    with pytest.raises(BuildFailed) as caught:
        run.run()
    assert caught.value.message.startswith('Build pod kiln-build-a2-4 was lost (DeletionByTaintManager): node '
                                           'kiln-node-3 has a NoExecute taint')
    assert caught.value.details['hint'] == (
        "the build did not fail on its own, but each of its 2 pods was lost: see the nodes and the namespace's "
        'events, or raise retries')
    assert [attempt['reason'] for attempt in caught.value.details['attempts']] == [
        'PreemptionByScheduler', 'DeletionByTaintManager']
    assert len(core.called('create_pod')) == 2 and core.pods == {} and core.secrets == {}


@pytest.mark.parametrize('fixture', ['recorded/failed_run_exit7.json', 'recorded/oomkilled.json',
                                     'recorded/err_image_pull.json', 'recorded/evicted_emptydir_limit.json'])
def test_a_build_that_failed_on_its_own_never_runs_again(fixture):
    core = Core()
    pod = load_fixture(fixture)
    run = retried(core, [pod.get('pod', pod)], retries=3)
    with pytest.raises(BuildFailed) as caught:
        run.run()
    assert len(core.called('create_pod')) == 1
    assert len(caught.value.details['attempts']) == 1


def test_the_node_of_a_pod_in_its_clone_is_asked_about_where_nodes_may_be_read():
    core = Core(nodes=[load_fixture('recorded/node_lost_clone.json')['node']])  # its node, as the lab recorded it
    clock = Clock()
    run = retried(core, Attempts([recorded('node_lost_clone')], 'succeeded'), clock=clock, retries=1)
    result = run.run()
    assert result['attempts'][0] == dict(
        pod_name='kiln-build-2', node='kiln-node-3', reason='NodeLost',
        message='node kiln-node-3 stopped reporting to the API server: its Ready condition is Unknown since '
                '2026-12-07T16:45:59Z: Kubelet stopped posting node status.')
    assert core.called('read_node') == ['kiln-node-3']


def test_nodes_refused_once_are_not_asked_about_again():
    core = Core(nodes=403)
    clock = Clock()
    run = retried(core, [recorded('node_lost_clone')], clock=clock, timeout=100)
    with pytest.raises(BuildFailed) as caught:
        run.run()
    assert caught.value.details['reason'] == states.TIMEOUT
    assert core.called('read_node') == ['kiln-node-3']


def test_a_local_context_is_sent_again_into_the_pod_of_a_build_that_runs_again(context, monkeypatch,
                                                                               no_tar_left_behind):
    sent = []

    def send_file(core, namespace, pod, container, command, path, size, timeout=None):
        with open(path, 'rb') as handle:
            sent.append((pod, len(handle.read())))
    monkeypatch.setattr(pod_exec, 'send_file', send_file)
    core = Core()
    evicted = load_fixture('recorded/evicted_by_api.json')['pod']
    run = Run(core, [local_spec(context, retries=1)], items=False, resolver=None,
              plan={'registry:5000/rng:latest': Attempts([receive_running(), evicted], [receive_running(), 'succeeded'])})
    result = run.run()
    size = run.build_run.prepared[0].spec.local.size
    assert sent == [('kiln-build-1', size), ('kiln-build-a2-2', size)]
    assert [attempt['reason'] for attempt in result['attempts']] == ['EvictionByEvictionAPI', 'Completed']
    run.build_run.release()
    assert list(no_tar_left_behind.iterdir()) == []


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


def sbom_held(name='kiln-build-1'):
    """syft done, and the attach container holding its SBOM for the module."""
    return {'metadata': {'name': name}, 'spec': {'containers': [{'name': 'sbom'}, {'name': 'attach'}]},
            'status': {'phase': 'Running', 'initContainerStatuses': [
                {'name': 'receive', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed'}}},
                {'name': 'kaniko', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed',
                                                            'message': 'r:5000/a@sha256:' + 'a' * 64}}}],
                'containerStatuses': [
                {'name': 'sbom', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed'}}},
                {'name': 'attach', 'state': {'running': {}}}]}}


SBOM_BYTES = b'{"spdxVersion":"SPDX-2.3","name":"app","packages":[]}\n'


def exec_answers(monkeypatch, sha256):
    """pod_exec.run answering the attach container's execs; returns the commands it was given."""
    seen = []

    def run(core, namespace, pod, container, command, timeout=None):
        seen.append((container, command))
        if 'sha256sum' in command[2]:
            return sha256 + '\n'
        if 'cat' in command[2]:
            return SBOM_BYTES.decode()
        return ''
    monkeypatch.setattr(pod_exec, 'run', run)
    return seen


@pytest.mark.parametrize('keep_pod, released', [('never', False), ('always', True)])
def test_the_unsigned_sbom_is_read_out_of_the_attach_container(context, monkeypatch, keep_pod, released):
    seen = exec_answers(monkeypatch, hashlib.sha256(SBOM_BYTES).hexdigest())
    core = Core()
    build = local_build(core, context, sbom=dict(format='spdx-json'), destinations=['app:1'], keep_pod=keep_pod)
    build.finish(waiter.WaitResult(states.classify(sbom_held()), sbom_held()))
    assert build.result['failed'] is False and build.sbom_document == SBOM_BYTES
    assert [container for container, _command in seen] == ['attach'] * (3 if released else 2)
    assert [command[-1] for _container, command in seen] == ['/kiln/supply/sbom.json'] * 2 + (
        ['/kiln/supply/released'] if released else [])
    assert (core.pods == {}) is not released
    build.prepared.release()


def test_an_sbom_that_differs_from_what_syft_wrote_fails_the_build_naming_attach(context, monkeypatch):
    exec_answers(monkeypatch, '0' * 64)
    core = Core()
    build = local_build(core, context, sbom=dict(format='spdx-json'), destinations=['app:1'])
    build.finish(waiter.WaitResult(states.classify(sbom_held()), sbom_held()))
    assert isinstance(build.error, BuildFailed) and build.sbom_document is None
    assert build.error.message.startswith("Build failed (SbomNotFetched) in container 'attach': could not read the "
                                          "SBOM: read 54 bytes whose sha256 is not the '0000")
    assert 'syft_image needs sh, cat and sha256sum' in build.error.message
    assert core.pods == {}
    build.prepared.release()
