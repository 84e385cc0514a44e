# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options sign and sbom: their checks, the steps after Kaniko in the pod (order, privileges, where the key and
its password come from), and a pod that only signs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps as supply
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_render import validate

SIGN = dict(key_secret='cosign-keys')
DIGEST = 'sha256:' + 'ab' * 32
PASSWORD = 'kiln-test-cosign-password-7c1e09'


def names(containers):
    return [container['name'] for container in containers]


def supply_spec(**overrides):
    params = dict(destinations=['registry:5000/app:1', 'registry:5000/app:latest', 'mirror:5000/team/app:1'],
                  sign=SIGN, sbom={})
    params.update(overrides)
    return make_spec(**params)


def test_sign_and_sbom_run_after_kaniko_which_becomes_an_init_container():
    manifest = render.render_pod(supply_spec(), auth_secret_name='push-auth')
    validate(manifest)
    pod_spec = manifest['spec']
    assert names(pod_spec['initContainers']) == ['clone', 'kaniko', 'sbom']
    assert names(pod_spec['containers']) == ['sign']
    kaniko = pod_spec['initContainers'][1]
    assert kaniko['args'][-1] == '--digest-file=' + supply.DIGEST_FILE
    assert {'name': 'supply', 'mountPath': supply.SUPPLY_DIR} in kaniko['volumeMounts']


def test_without_sign_the_sbom_is_held_beside_syft_for_the_module_and_cosign_does_not_run():
    manifest = render.render_pod(supply_spec(sign=None))
    validate(manifest)
    assert names(manifest['spec']['initContainers']) == ['clone', 'kaniko']
    assert names(manifest['spec']['containers']) == ['sbom', 'attach']
    attach = manifest['spec']['containers'][1]
    assert attach['image'] == manifest['spec']['containers'][0]['image']  # syft_image: no cosign without sign
    assert attach['command'][-1] == supply.RELEASED
    assert [mount['name'] for mount in attach['volumeMounts']] == ['supply']  # no registry credentials
    assert [item['name'] for item in attach['env']] == ['HOME']
    assert 'cosign-key' not in [volume['name'] for volume in manifest['spec']['volumes']]
    assert supply.hands_over(supply_spec(sign=None)) and not supply.hands_over(supply_spec())


def test_a_pod_that_only_adds_the_unsigned_sbom_runs_syft_and_holds_it():
    spec = supply_spec(sign=None)
    only = supply.supply_only(spec, 'sha256:' + 'ab' * 32, ['registry:5000/app@sha256:' + 'ab' * 32],
                              sign=False, attest=True)
    manifest = render.render_pod(dataclasses.replace(spec, supply_only=only))
    validate(manifest)
    assert names(manifest['spec']['initContainers']) == []
    assert names(manifest['spec']['containers']) == ['sbom', 'attach']


def test_cosign_is_kept_to_its_legacy_tags_without_a_transparency_log_with_either_major():
    assert 'legacy="--new-bundle-format=false --use-signing-config=false --tlog-upload=false"' in supply.COSIGN_SCRIPT
    assert supply.COSIGN_SCRIPT.count('$legacy') == 2 and 'attach sbom' not in supply.COSIGN_SCRIPT


def test_sign_alone_has_no_sbom_step():
    manifest = render.render_pod(supply_spec(sbom=None))
    assert names(manifest['spec']['initContainers']) == ['clone', 'kaniko']
    env = dict((item['name'], item.get('value')) for item in manifest['spec']['containers'][0]['env'])
    assert env['KILN_STEPS'] == 'sign'


def test_the_password_comes_from_the_secret_by_reference_and_only_cosign_key_is_mounted():
    manifest = render.render_pod(supply_spec())
    sign = manifest['spec']['containers'][0]
    password = [item for item in sign['env'] if item['name'] == 'COSIGN_PASSWORD']
    assert password == [{'name': 'COSIGN_PASSWORD', 'valueFrom': {'secretKeyRef': {
        'name': 'cosign-keys', 'key': 'cosign.password'}}}]
    volume = [item for item in manifest['spec']['volumes'] if item['name'] == 'cosign-key'][0]
    assert volume['secret'] == {'secretName': 'cosign-keys', 'items': [{'key': 'cosign.key', 'path': 'cosign.key'}],
                                'defaultMode': 0o440}
    for container in manifest['spec']['initContainers']:
        assert 'cosign-key' not in [mount['name'] for mount in container['volumeMounts']]
        assert 'COSIGN_PASSWORD' not in [item['name'] for item in container.get('env') or []]


def test_the_steps_run_without_privileges_on_a_read_only_root():
    manifest = render.render_pod(supply_spec())
    steps = manifest['spec']['initContainers'][2:] + manifest['spec']['containers']
    assert names(steps) == ['sbom', 'sign']
    for container in steps:
        assert container['securityContext'] == {
            'runAsNonRoot': True, 'runAsUser': supply.SUPPLY_UID, 'runAsGroup': supply.SUPPLY_UID,
            'allowPrivilegeEscalation': False, 'readOnlyRootFilesystem': True, 'capabilities': {'drop': ['ALL']}}


def test_each_repository_is_signed_once_and_syft_reads_the_first():
    manifest = render.render_pod(supply_spec())
    sbom, sign = manifest['spec']['initContainers'][2], manifest['spec']['containers'][0]
    assert sbom['command'][4:] == ['registry:5000/app']
    assert sign['command'][4:] == ['registry:5000/app', 'mirror:5000/team/app']
    assert sign['image'] == 'ghcr.io/sigstore/cosign/cosign:v2.6.5-dev'
    assert sbom['image'] == 'docker.io/anchore/syft:v1.57.2-debug'


def test_plain_http_and_unverified_tls_follow_the_push_options():
    def env(spec, index):
        return dict((item['name'], item.get('value'))
                    for item in render.render_pod(spec)['spec']['initContainers'][index]['env'])
    plain = supply_spec(insecure=True)
    assert env(plain, 2)['SYFT_REGISTRY_INSECURE_USE_HTTP'] == 'true'
    sign = dict((item['name'], item.get('value')) for item in render.render_pod(plain)['spec']['containers'][0]['env'])
    assert sign['KILN_COSIGN_FLAGS'] == '--allow-http-registry --allow-insecure-registry'
    secure = supply_spec(insecure=False)
    assert 'SYFT_REGISTRY_INSECURE_USE_HTTP' not in env(secure, 2)
    sign = dict((item['name'], item.get('value')) for item in render.render_pod(secure)['spec']['containers'][0]['env'])
    assert sign['KILN_COSIGN_FLAGS'] == ''


def test_registry_credentials_and_cas_reach_the_steps_as_files():
    spec = supply_spec(registry_ca=[dict(registry='registry:5000', config_map='registry-ca')])
    manifest = render.render_pod(spec, auth_secret_name='push-auth')
    sign = manifest['spec']['containers'][0]
    env = dict((item['name'], item.get('value')) for item in sign['env'])
    assert env['DOCKER_CONFIG'] == supply.DOCKER_DIR
    assert env['SSL_CERT_DIR'] == '/etc/ssl/certs:/kiln/ca/0'
    mounts = dict((mount['name'], mount['mountPath']) for mount in sign['volumeMounts'])
    assert mounts['docker-config'] == supply.DOCKER_DIR and mounts['registry-ca-0'] == '/kiln/ca/0'


def test_no_credential_value_reaches_the_pod():
    spec = supply_spec(registry_auth=[dict(server='registry:5000', username='bot', password=PASSWORD)])
    text = json.dumps(render.render_pod(spec, auth_secret_name='auth'))
    assert PASSWORD not in text


def test_a_pod_that_only_signs_has_neither_source_nor_kaniko():
    spec = supply_spec()
    adds = supply.supply_only(spec, DIGEST, ['registry:5000/app@' + DIGEST], sign=False, attest=True)
    only = dataclasses.replace(spec, supply_only=adds)
    manifest = render.render_pod(only)
    validate(manifest)
    assert names(manifest['spec']['initContainers']) == ['sbom']
    assert names(manifest['spec']['containers']) == ['sign']
    assert [volume['name'] for volume in manifest['spec']['volumes']] == ['supply', 'cosign-key']
    env = dict((item['name'], item.get('value')) for item in manifest['spec']['containers'][0]['env'])
    assert env['KILN_STEPS'] == 'attest' and env['KILN_DIGEST'] == DIGEST
    assert render.log_containers(only) == ('sbom', 'sign')
    signs_only = dataclasses.replace(spec, supply_only=supply.supply_only(spec, DIGEST, [], sign=True, attest=False))
    manifest = render.render_pod(signs_only)
    assert manifest['spec']['initContainers'] == [] and names(manifest['spec']['containers']) == ['sign']


@pytest.mark.parametrize('overrides, option, text', [
    (dict(sign={'key_secret': 'Bad_Name'}), 'sign.key_secret', "'Bad_Name'"),
    (dict(sign={'key_secret': ''}), 'sign.key_secret', 'is required'),
    (dict(push=False), 'sign', 'works on a pushed image; leave push true'),
    (dict(sign=None, push=False), 'sbom', 'works on a pushed image'),
    (dict(tarball=dict(dest='/tmp/app.tar'), push=None), 'sign', 'a tarball build pushes none'),
    (dict(cosign_image='registry:5000/cosign@md5:00'), 'cosign_image', ''),
    (dict(syft_image=' syft'), 'syft_image', ''),
])
def test_bad_sign_and_sbom_options_are_refused_naming_the_option(overrides, option, text):
    with pytest.raises(ValidationError) as raised:
        supply_spec(**overrides)
    assert raised.value.message.startswith(option + ':')
    assert text in raised.value.message


def test_the_attach_container_holds_until_released_and_the_execs_hand_the_sbom_over(tmp_path):
    sbom, released = tmp_path / 'sbom.json', tmp_path / 'released'
    sbom.write_bytes(b'{"spdxVersion":"SPDX-2.3"}\n')
    holder = subprocess.Popen(['/bin/sh', '-c', supply.ATTACH_SCRIPT, 'kiln', str(released)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.poll() is None
        digest = subprocess.run(['/bin/sh', '-c', supply.SHA256_EXEC, 'kiln', str(sbom)], capture_output=True,
                                text=True, check=True).stdout.strip()
        document = subprocess.run(['/bin/sh', '-c', supply.HAND_OVER_EXEC, 'kiln', str(sbom)], capture_output=True,
                                  check=True).stdout
        assert digest == hashlib.sha256(document).hexdigest() and document == sbom.read_bytes()
        subprocess.run(['/bin/sh', '-c', supply.RELEASE_EXEC, 'kiln', str(released)], check=True)
        assert holder.wait(timeout=10) == 0 and holder.stdout.read() == 'kiln attach: released\n'
    finally:
        holder.kill()
        holder.wait()
