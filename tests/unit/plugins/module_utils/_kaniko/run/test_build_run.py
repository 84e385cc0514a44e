# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A list of builds against the shared core/v1 fake and recorded pod statuses: order of results, failures
named, skips without pods, everything checked before the first pod, cleanup of the whole run, and no value of
build_secrets in a pod, a result or a check-mode result."""

from __future__ import annotations

import base64
import hashlib
import json
import signal

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import pod_exec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import not_found
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    NETRC,
    TOKEN,
    VALUE,
    make_spec,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.runs import (
    Lookup,
    Resolver,
    Run,
    secret,
    single,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import FakeRegistry


def specs(*destinations, **overrides):
    return [make_spec(destinations=[destination], **overrides) for destination in destinations]


def runner(core, specs, plan=None, **kwargs):
    run = Run(core, specs, plan, **kwargs)
    return run, run.watch, run.warnings


def created(core):
    return [name for name in core.called('create_pod') if name]


def test_all_build_in_order_and_report_in_order():
    core = Core()
    run, watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1'))
    result = run.run()
    assert result['changed'] is True
    assert [item['failed'] for item in result['results']] == [False] * 3
    assert [item['pod_name'] for item in result['results']] == ['kiln-build-1', 'kiln-build-2', 'kiln-build-3']
    assert all(item['digest'].startswith('sha256:') and item['commit'] for item in result['results'])
    assert all(item['build_key'] and item['skip_check'] == build_key.MISSING for item in result['results'])
    assert result['msg'] == '3 builds: 3 built, 0 skipped, 0 failed'
    assert watch.namespaces == ['builds'] and watch.selector == 'kiln.kaniko/run=' + run.run_id
    assert [labels['kiln.kaniko/run'] for labels in core.created_labels] == [run.run_id] * 3
    assert not core.pods
    assert run.build_run.peak == 2 and watch.stopped


def test_one_failure_fails_the_task_names_it_and_reports_the_others():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/broken:1', 'registry:5000/c:1'),
                                    plan={'registry:5000/broken:1': 'failed_run_exit7'})
    with pytest.raises(KilnError) as caught:
        run.run()
    error = caught.value
    assert error.message.startswith('1 of 3 builds failed (2 built, 0 skipped, 1 failed): '
                                    "builds[1] (registry:5000/broken:1): Build failed in container 'kaniko' with exit code 7")
    results = error.details['results']
    assert error.details['changed'] is True
    assert [item['failed'] for item in results] == [False, True, False]
    assert results[1]['rc'] == 7 and results[1]['pod_kept'] is True
    assert results[0]['digest'] and results[2]['digest']


def test_unchanged_builds_are_skipped_without_a_pod():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'), built=['registry:5000/a:1'])
    result = run.run()
    assert created(core) == ['kiln-build-1']
    a, b = result['results']
    assert a['changed'] is False and a['skipped_reason'] and a['digest'] == 'sha256:' + 'f' * 64 and 'pod_name' not in a
    assert b['changed'] is True
    assert result['changed'] is True and result['msg'] == '2 builds: 1 built, 1 skipped, 0 failed'


def test_nothing_to_build_is_no_change_and_no_watch():
    core = Core()
    run, watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'),
                                   built=['registry:5000/a:1', 'registry:5000/b:1'])
    result = run.run()
    assert result['changed'] is False and not created(core) and watch.namespaces is None


def test_check_mode_reports_the_same_decision_and_creates_nothing():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'), built=['registry:5000/a:1'],
                                    check_mode=True)
    result = run.run()
    a, b = result['results']
    assert a['changed'] is False and a['skipped_reason']
    assert b['changed'] is True and b['pod']['kind'] == 'Pod'
    assert '--label=io.kiln.build-key=' + b['build_key'] in b['pod']['spec']['containers'][0]['args']
    assert not created(core) and result['msg'] == '2 builds: 1 would build, 1 would be skipped'


def test_force_builds_what_would_be_skipped():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', force=True), built=['registry:5000/a:1'])
    result = run.run()
    assert result['results'][0]['skip_check'] == build_key.FORCED and created(core)


def test_every_item_is_checked_before_the_first_pod():
    core = Core()
    items = specs('registry:5000/a:1') + [make_spec(destinations=['registry:5000/b:1'], registry_secret='missing')]
    run, _watch, _warnings = runner(core, items)
    with pytest.raises(KilnError) as caught:
        run.run()
    assert caught.value.message == ("builds[1].registry_secret: Secret 'missing' was not found in namespace 'builds'; "
                                    "create it there, or correct the name")
    assert caught.value.details['option'] == 'builds[1].registry_secret'
    assert not created(core)


def test_each_namespace_is_asked_for_once_however_many_builds_it_has():
    core = Core()
    items = specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1') + [
        make_spec(destinations=['registry:5000/d:1'], namespace='other')]
    run, _watch, _warnings = runner(core, items)
    run.run()
    assert sorted(core.called('read_namespace')) == ['builds', 'other']


def test_a_missing_namespace_is_asked_for_once_and_fails_its_first_build():
    def missing():
        raise not_found()
    core = Core(on={'read_namespace': missing})
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1'))
    with pytest.raises(KilnError) as caught:
        run.run()
    assert caught.value.message == "builds[0].namespace: 'builds' does not exist; create it first"
    assert core.called('read_namespace') == ['builds'] and not created(core)


def test_without_git_on_the_module_host_it_builds_and_says_why():
    core = Core()
    run, _watch, warnings = runner(core, specs('registry:5000/a:1'), resolver=Resolver(fail=True))
    result = run.run()
    item = result['results'][0]
    assert item['changed'] and item['skip_check'] == build_key.UNAVAILABLE and item['build_key'] is None
    assert 'git is not installed' in item['skip_detail']
    assert warnings == ['builds[0]: Building without looking for an existing image: ' + item['skip_detail']]


def test_a_pod_that_cannot_be_created_fails_its_item_only():
    core = Core(refuse_create=['registry:5000/b:1'])
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1'),
                                    max_concurrent=1)
    with pytest.raises(KilnError) as caught:
        run.run()
    results = caught.value.details['results']
    assert [item['failed'] for item in results] == [False, True, False]
    assert 'Could not create the build pod: Forbidden (403)' in results[1]['msg']
    assert "builds[1] (registry:5000/b:1): Could not create the build pod" in caught.value.message


def test_registry_auth_secrets_carry_the_run_label_and_go_away():
    core = Core()
    items = specs('registry:5000/a:1', 'registry:5000/b:1',
                  registry_auth=[dict(server='registry:5000', username='u', password='s3cr3t')])
    run, _watch, _warnings = runner(core, items)
    result = run.run()
    assert not core.secrets
    assert 's3cr3t' not in json.dumps(result)
    created_secrets = core.called('create_secret')
    assert len(created_secrets) == 2


def test_a_signal_deletes_every_pod_and_secret_of_the_run():
    core = Core()
    items = specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1',
                  registry_auth=[dict(server='registry:5000', username='u', password='p')])
    run, _watch, _warnings = runner(core, items, plan={'registry:5000/b:1': 'signal'}, max_concurrent=3)
    with pytest.raises(KilnError) as caught:
        run.run()
    assert caught.value.message == 'Build interrupted by SIGTERM'
    assert not core.pods and not core.secrets
    results = caught.value.details['results']
    assert results[0]['failed'] is False       # a finished before the signal
    assert results[1]['failed'] and results[1]['msg'] == 'Not finished: Build interrupted by SIGTERM'
    assert ('list_pods', 'kiln.kaniko/run=' + run.run_id) in core.calls
    assert signal.getsignal(signal.SIGTERM) is not None


def test_the_run_log_holds_every_build(tmp_path):
    core = Core()
    log_path = tmp_path / 'run.log'
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'), log_path=str(log_path))
    run.run()
    text = log_path.read_text()
    assert '==> builds[0] clone <==\nclone of kiln-build-1\n' in text
    assert '==> builds[1] kaniko <==\nkaniko of kiln-build-2\n' in text


def test_of_several_bad_items_the_first_is_named():
    core = Core()
    items = specs('registry:5000/a:1') + [
        make_spec(destinations=['registry:5000/b:1'], registry_secret='missing-b'),
        make_spec(destinations=['registry:5000/c:1'], registry_secret='missing-c')]
    for _attempt in range(5):
        run, _watch, _warnings = runner(core, items)
        with pytest.raises(KilnError) as caught:
            run.run()
        assert caught.value.message.startswith("builds[1].registry_secret: Secret 'missing-b'")
    assert not created(core)


def test_a_platform_no_node_can_take_fails_the_build_before_any_pod_or_secret():
    core = Core()
    spec = make_spec(destinations=['registry:5000/app:1'], platforms=['linux/amd64', 'linux/arm64'],
                     registry_auth=[dict(server='registry:5000', username='ci', password='push-secret-2')])
    run, _watch, _warnings = runner(core, [spec], items=False)
    with pytest.raises(KilnError) as caught:
        run.run()
    assert caught.value.message.startswith('platforms[1]: no schedulable node is linux/arm64 (the cluster has '
                                           'linux/amd64 (1 node))')
    assert created(core) == [] and core.called('create_secret') == []


def test_a_failed_platform_fails_the_build_and_its_sibling_pod_goes():
    core = Core()
    spec = make_spec(destinations=['registry:5000/app:1'], platforms=['linux/arm64', 'linux/amd64'],
                     cross_build=True, keep_pod='never')
    run, _watch, _warnings = runner(core, [spec], plan={
        'registry:5000/app:1-linux-arm64': 'failed_run_exit7',
        'registry:5000/app:1-linux-amd64': ['running', 'running', 'succeeded']}, items=False)
    with pytest.raises(KilnError) as caught:
        run.run()
    error = caught.value
    assert error.message.startswith("platform linux/arm64: Build failed in container 'kaniko' with exit code 7")
    entries = error.details['manifests']
    assert [entry['platform'] for entry in entries] == ['linux/arm64', 'linux/amd64']
    assert entries[1]['msg'] == 'Cancelled: the build of linux/arm64 failed' and entries[1]['failed']
    assert error.details['digest'] is None and error.details['rc'] == 7
    assert created(core) == ['kiln-build-linux-arm64-1', 'kiln-build-linux-amd64-2']
    assert not core.pods  # the cancelled amd64 pod and the failed one (keep_pod never) are deleted


# ---------------------------------------------------------------- build_secrets: their values reach nothing

def test_check_mode_shows_the_secret_names_and_keys_but_no_value():
    core = Core(secrets={'build-token': secret(token=VALUE), 'pip-auth': secret(**{'.netrc': VALUE + '-netrc'})})
    run = single(core, check_mode=True, build_secrets=[TOKEN, NETRC])
    result = run.run()
    assert result['changed'] is True and not core.called('create_pod')
    volume = result['pod']['spec']['volumes'][-1]
    assert [source['secret'] for source in volume['projected']['sources']] == [
        {'name': 'build-token', 'items': [{'key': 'token', 'path': 'token'}]},
        {'name': 'pip-auth', 'items': [{'key': '.netrc', 'path': 'netrc'}]}]
    shown = json.dumps(result) + json.dumps(run.warnings)
    assert VALUE not in shown and base64.b64encode(VALUE.encode()).decode() not in shown


def test_a_build_with_build_secrets_puts_no_value_into_the_pod_or_the_result():
    created = []
    core = Core(secrets={'build-token': secret(token=VALUE)}, on={'create_pod': lambda: created.append(
        json.dumps(list(core.pods.values())))})
    run = single(core, build_secrets=[TOKEN])
    result = run.run()
    assert result['changed'] is True and created and '--secret=id=token,src=/kaniko/build-secrets/token' in created[0]
    for shown in created + [json.dumps(result), json.dumps(run.warnings)]:
        assert VALUE not in shown and base64.b64encode(VALUE.encode()).decode() not in shown


class RegistryOn(Lookup):
    """The destinations hold nothing yet; the registry client answers from ``fake`` (a FakeRegistry)."""

    def __init__(self, fake):
        super().__init__()
        self.fake = fake

    def client(self, spec, ref):
        return RegistryClient(ref.api_host, insecure=True, opener=self.fake)


def test_the_sbom_the_pod_handed_over_is_attached_by_the_module_as_an_artifact(monkeypatch):
    image = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}'
    digest = sha256_digest(image)
    fake = FakeRegistry({'/v2/rng/manifests/' + digest: (
        [('Content-Type', 'application/vnd.oci.image.manifest.v1+json')], image)}, host='registry:5000', scheme='http')
    document = b'{"spdxVersion":"SPDX-2.3","name":"rng","packages":[]}\n'

    def exec_run(core, namespace, pod, container, command, timeout=None):
        assert container == 'attach'
        return hashlib.sha256(document).hexdigest() if 'sha256sum' in command[2] else document.decode()
    monkeypatch.setattr(pod_exec, 'run', exec_run)
    held = {'spec': {'containers': [{'name': 'sbom'}, {'name': 'attach'}]}, 'status': {
        'phase': 'Running',
        'initContainerStatuses': [
            {'name': 'clone', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed'}}},
            {'name': 'kaniko', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed',
                                                        'message': 'registry:5000/rng:latest@' + digest}}}],
        'containerStatuses': [{'name': 'sbom', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed'}}},
                              {'name': 'attach', 'state': {'running': {}}}]}}
    run = Run(Core(), [make_spec(**dict(DOCKERCOINS_RNG, sbom=dict(format='spdx-json')))],
              plan={'registry:5000/rng:latest': [held]}, items=False, resolver=None)
    run.build_run.lookup = RegistryOn(fake)
    result = run.run()
    assert result['changed'] and not result.get('failed') and result['signed'] is False
    (reference,) = result['sbom']['references']
    assert reference.startswith('registry:5000/rng@sha256:')
    artifact = json.loads(fake.content['/v2/rng/manifests/' + reference.split('@')[1]][1])
    assert artifact['subject']['digest'] == digest and artifact['artifactType'] == 'application/spdx+json'
    assert fake.content['/v2/rng/blobs/' + sha256_digest(document)][1] == document
    assert '/v2/rng/manifests/sha256-' + digest[7:] in fake.content  # no referrers API: the fallback tag
