# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure pod renderer: the pod and the registry Secret of a build, checked against the OpenAPI schema of two
Kubernetes versions; the pod of a local context (receive container) and of a tarball (export container)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import scripts
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    make_spec,
    module_params,
)

kubernetes_validate = pytest.importorskip('kubernetes_validate')

# The oldest Kubernetes minor this collection aims at, and the newest schema installed.
SCHEMA_VERSIONS = ('1.30', kubernetes_validate.latest_version())

FULL = dict(
    name='api',
    git=dict(repo='git@github.com:example/api.git', version='v2.3.0', depth=0, submodules=True, secret='deploy-key'),
    context_sub_path='',
    dockerfile='docker/Dockerfile.prod',
    insecure=False,
    destinations=['ghcr.io/example/api:v2.3.0', 'ghcr.io/example/api:latest'],
    build_args={'PYTHON_VERSION': '3.12', 'DEBUG': '0'},
    target='runtime',
    labels={'org.opencontainers.image.version': 'v2.3.0'},
    platform='linux/arm64',
    skip_tls_verify=True,
    insecure_registries=['registry:5000'],
    registry_mirrors=['mirror.gcr.io'],
    cache=True,
    cache_repo='ghcr.io/example/api-cache',
    cache_ttl='24h',
    registry_secret='ghcr-push',
    extra_args=['--compressed-caching=false', '--push-retry=3'],
    image_pull_policy='Always',
    pod=dict(
        labels={'team': 'api'},
        annotations={'example.com/ticket': 'OPS-1'},
        resources=dict(requests={'cpu': '1', 'memory': '2Gi'}, limits={'memory': '4Gi', 'ephemeral-storage': '20Gi'}),
        node_selector={'kubernetes.io/arch': 'arm64'},
        tolerations=[dict(key='build', operator='Equal', value='yes', effect='NoSchedule')],
        affinity=dict(node_affinity={'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
            {'matchExpressions': [{'key': 'pool', 'operator': 'In', 'values': ['builders']}]}]}}),
        service_account='builder',
        image_pull_secrets=['pull-ghcr'],
        priority_class='batch-low',
    ),
    timeout=3600,
)


def validate(manifest):
    for version in SCHEMA_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


def containers(manifest):
    spec = manifest['spec']
    return {c['name']: c for c in spec['initContainers'] + spec['containers']}


def test_dockercoins_pod_matches_the_openapi_schema():
    validate(render.render_pod(make_spec()))


def test_full_pod_matches_the_openapi_schema():
    validate(render.render_pod(make_spec(**FULL), registry_secret_key=render.CONFIG_JSON))
    validate(render.render_pod(make_spec(registry_auth=[dict(server='r:5000', username='u', password='p')]),
                               auth_secret_name='kiln-build-auth-abcde'))


def test_auth_secret_matches_the_openapi_schema():
    validate(render.render_auth_secret(make_spec(registry_auth=[dict(server='r:5000', username='u', password='p')])))


@pytest.mark.parametrize('breakage', [
    lambda m: m['spec']['containers'][0].__setitem__('args', '--destination=x'),
    lambda m: m['spec'].__setitem__('restartPolicy', ['Never']),
    lambda m: m['spec']['initContainers'][0]['securityContext'].__setitem__('runAsUser', 'nobody'),
    lambda m: m['spec']['containers'][0].__setitem__('volumeMount', []),
    lambda m: m['spec']['volumes'][0].__setitem__('emptydir', {}),
])
def test_the_schema_check_catches_broken_pods(breakage):
    manifest = render.render_pod(make_spec())
    breakage(manifest)
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(manifest)


def test_rendering_is_deterministic():
    first = json.dumps(render.render_pod(make_spec(**FULL)), sort_keys=False)
    second = json.dumps(render.render_pod(make_spec(**FULL)), sort_keys=False)
    assert first == second


def test_dockercoins_kaniko_arguments():
    manifest = render.render_pod(make_spec())
    kaniko = containers(manifest)['kaniko']
    assert kaniko['image'] == 'ghcr.io/osscontainertools/kaniko:v1.26.3'
    assert kaniko['args'] == [
        '--context=dir:///workspace/src/dockercoins/rng',
        '--dockerfile=/workspace/src/dockercoins/rng/Dockerfile',
        '--destination=registry:5000/rng:latest',
        '--image-name-with-digest-file=/dev/termination-log',
        '--insecure',
        '--cache=true',
        '--cache-repo=registry:5000/rng/cache',
    ]
    assert 'command' not in kaniko


def test_full_kaniko_arguments_in_order():
    kaniko = containers(render.render_pod(make_spec(**FULL)))['kaniko']
    assert kaniko['args'] == [
        '--context=dir:///workspace/src',
        '--dockerfile=/workspace/src/docker/Dockerfile.prod',
        '--destination=ghcr.io/example/api:v2.3.0',
        '--destination=ghcr.io/example/api:latest',
        '--image-name-with-digest-file=/dev/termination-log',
        '--build-arg=DEBUG=0',
        '--build-arg=PYTHON_VERSION=3.12',
        '--target=runtime',
        '--label=org.opencontainers.image.version=v2.3.0',
        '--custom-platform=linux/arm64',
        '--skip-tls-verify',
        '--insecure-registry=registry:5000',
        '--registry-mirror=mirror.gcr.io',
        '--cache=true',
        '--cache-repo=ghcr.io/example/api-cache',
        '--cache-ttl=24h',
        '--compressed-caching=false',
        '--push-retry=3',
    ]


def test_no_push():
    args = containers(render.render_pod(make_spec(destinations=None, push=False)))['kaniko']['args']
    assert '--no-push' in args
    # Kaniko exits with a usage error for a digest file without a destination.
    assert not [arg for arg in args if arg.startswith('--image-name-with-digest-file')]
    assert not any(arg.startswith('--destination') for arg in args)
    args = containers(render.render_pod(make_spec(push=False)))['kaniko']['args']
    assert '--no-push' in args and '--image-name-with-digest-file=/dev/termination-log' in args


def test_pod_shape_and_safety():
    manifest = render.render_pod(make_spec(timeout=900))
    spec = manifest['spec']
    assert manifest['metadata']['generateName'] == 'kiln-build-'
    assert manifest['metadata']['namespace'] == 'builds'
    assert 'name' not in manifest['metadata']
    assert spec['restartPolicy'] == 'Never'
    assert spec['automountServiceAccountToken'] is False
    assert spec['activeDeadlineSeconds'] == 960  # timeout + DEADLINE_GRACE: the task times out first
    assert spec['securityContext']['seccompProfile'] == {'type': 'RuntimeDefault'}
    assert [v['name'] for v in spec['volumes']] == ['workspace', 'git-home']
    assert all(set(v) <= {'name', 'emptyDir', 'secret'} for v in spec['volumes'])
    text = json.dumps(manifest)
    assert 'hostPath' not in text
    assert '"privileged": true' not in text
    for container in containers(manifest).values():
        assert container['terminationMessagePolicy'] == 'FallbackToLogsOnError'
        assert container['imagePullPolicy'] == 'IfNotPresent'
        assert {'name': 'workspace', 'mountPath': '/workspace'} in container['volumeMounts']


def test_clone_container_is_non_root_and_gets_everything_from_env():
    spec = make_spec(git=dict(repo='https://github.com/jpetazzo/container.training', version='main', depth=5))
    clone = containers(render.render_pod(spec))['clone']
    assert clone['image'] == 'docker.io/alpine/git:2.49.1'
    assert clone['command'] == ['/bin/sh', '-c', render.CLONE_SCRIPT]
    assert clone['securityContext'] == {
        'runAsNonRoot': True, 'runAsUser': 65534, 'runAsGroup': 65534, 'allowPrivilegeEscalation': False,
        'readOnlyRootFilesystem': True, 'capabilities': {'drop': ['ALL']},
    }
    env = {item['name']: item['value'] for item in clone['env']}
    assert env == {
        'HOME': '/kiln/home', 'GIT_TERMINAL_PROMPT': '0', 'KILN_SRC': '/workspace/src',
        'KILN_GIT_REPO': 'https://github.com/jpetazzo/container.training', 'KILN_GIT_VERSION': 'main',
        'KILN_GIT_DEPTH': '5', 'KILN_GIT_SUBMODULES': 'false', 'KILN_GIT_TRANSPORT': 'http', 'KILN_GIT_SECRET': '',
    }
    assert 'github.com' not in render.CLONE_SCRIPT
    assert [m['name'] for m in clone['volumeMounts']] == ['workspace', 'git-home']


def test_the_clone_home_with_the_ssh_key_copy_is_in_memory():
    volumes = {v['name']: v for v in render.render_pod(make_spec(**FULL))['spec']['volumes']}
    assert volumes['git-home']['emptyDir'] == {'medium': 'Memory', 'sizeLimit': '16Mi'}
    assert 'ssh-privatekey' in render.CLONE_SCRIPT and 'cp "$secret_dir/ssh-privatekey" "$HOME/.ssh/id"' in render.CLONE_SCRIPT


def test_kaniko_keeps_only_the_capabilities_a_build_needs():
    kaniko = containers(render.render_pod(make_spec()))['kaniko']
    capabilities = kaniko['securityContext']['capabilities']
    assert capabilities['drop'] == ['ALL']
    assert set(capabilities['add']) == {'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE',
                                        'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID'}
    # The Pod Security "baseline" level allows adding these; nothing privileged, nothing from the host.
    baseline_allowed = {'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
                        'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'}
    assert set(capabilities['add']) <= baseline_allowed
    assert set(kaniko['securityContext']) == {'capabilities'}


def test_git_secret_is_mounted_only_into_the_clone_container():
    manifest = render.render_pod(make_spec(**FULL), registry_secret_key=render.CONFIG_JSON)
    by_name = containers(manifest)
    assert {'name': 'git-secret', 'mountPath': '/var/run/kiln/git-secret', 'readOnly': True} in by_name['clone']['volumeMounts']
    assert 'git-secret' not in [m['name'] for m in by_name['kaniko']['volumeMounts']]
    volume = [v for v in manifest['spec']['volumes'] if v['name'] == 'git-secret'][0]
    assert volume['secret']['secretName'] == 'deploy-key'
    env = {item['name']: item['value'] for item in by_name['clone']['env']}
    assert (env['KILN_GIT_TRANSPORT'], env['KILN_GIT_SECRET'], env['KILN_GIT_SUBMODULES'], env['KILN_GIT_DEPTH']) == (
        'ssh', 'deploy-key', 'true', '0')


@pytest.mark.parametrize('repo, transport', [
    ('ssh://git@git.lab:2222/app.git', 'ssh'),
    ('SSH://git@git.lab/app.git', 'ssh'),
    ('git@github.com:example/api.git', 'ssh'),
    ('https://github.com/x/y', 'http'),
    ('https://builder@git.lab/app.git', 'http'),
    ('git://git.lab/app.git', 'http'),
])
def test_the_clone_script_is_told_ssh_or_http(repo, transport):
    spec = make_spec(git=dict(repo=repo))
    env = {item['name']: item['value'] for item in containers(render.render_pod(spec))['clone']['env']}
    assert (env['KILN_GIT_TRANSPORT'], env['KILN_GIT_REPO']) == (transport, spec.git.repo.url)
    assert env['KILN_GIT_REPO'] == (repo if repo[0].islower() else 'ssh' + repo[3:])  # git wants ssh://, not SSH://


def test_registry_secret_is_mounted_as_config_json():
    for key in (render.DOCKERCONFIGJSON, render.CONFIG_JSON):
        manifest = render.render_pod(make_spec(registry_secret='push'), registry_secret_key=key)
        volume = [v for v in manifest['spec']['volumes'] if v['name'] == 'docker-config'][0]
        assert volume['secret']['secretName'] == 'push'
        assert volume['secret']['items'] == [{'key': key, 'path': 'config.json'}]
        kaniko = containers(manifest)['kaniko']
        assert {'name': 'docker-config', 'mountPath': '/kaniko/.docker', 'readOnly': True} in kaniko['volumeMounts']
        assert 'docker-config' not in [m['name'] for m in containers(manifest)['clone']['volumeMounts']]


REGISTRY_CA = [dict(registry='registry.example.com:5000', config_map='registry-ca'),
               dict(registry='10.0.0.7', secret='mirror-tls', key='tls-ca.pem')]


def test_registry_ca_pod_matches_the_openapi_schema():
    validate(render.render_pod(make_spec(insecure=False, registry_ca=REGISTRY_CA)))


def test_registry_ca_is_mounted_read_only_and_named_by_registry_certificate():
    manifest = render.render_pod(make_spec(insecure=False, registry_ca=REGISTRY_CA))
    kaniko = containers(manifest)['kaniko']
    assert [arg for arg in kaniko['args'] if arg.startswith('--registry-certificate')] == [
        '--registry-certificate=registry.example.com:5000=/kaniko/ssl/kiln/0/ca.crt',
        '--registry-certificate=10.0.0.7=/kaniko/ssl/kiln/1/ca.crt',
    ]
    assert kaniko['args'].index('--registry-certificate=10.0.0.7=/kaniko/ssl/kiln/1/ca.crt') < kaniko['args'].index(
        '--cache=true')
    assert [m for m in kaniko['volumeMounts'] if m['name'].startswith('registry-ca')] == [
        {'name': 'registry-ca-0', 'mountPath': '/kaniko/ssl/kiln/0', 'readOnly': True},
        {'name': 'registry-ca-1', 'mountPath': '/kaniko/ssl/kiln/1', 'readOnly': True},
    ]
    assert not [m for m in containers(manifest)['clone']['volumeMounts'] if m['name'].startswith('registry-ca')]
    volumes = {v['name']: v for v in manifest['spec']['volumes']}
    assert volumes['registry-ca-0'] == {'name': 'registry-ca-0', 'configMap': {
        'name': 'registry-ca', 'items': [{'key': 'ca.crt', 'path': 'ca.crt'}], 'defaultMode': 0o444}}
    assert volumes['registry-ca-1'] == {'name': 'registry-ca-1', 'secret': {
        'secretName': 'mirror-tls', 'items': [{'key': 'tls-ca.pem', 'path': 'ca.crt'}], 'defaultMode': 0o444}}


def test_no_registry_ca_no_mounts_and_no_flags():
    manifest = render.render_pod(make_spec())
    assert not [v for v in manifest['spec']['volumes'] if v['name'].startswith('registry-ca')]
    assert not [arg for arg in containers(manifest)['kaniko']['args'] if arg.startswith('--registry-certificate')]


def test_registry_auth_never_reaches_the_pod():
    spec = make_spec(registry_auth=[dict(server='registry.example.com', username='builder', password='s3cr3t-pw')])
    manifest = render.render_pod(spec, auth_secret_name='kiln-build-auth-x1y2z')
    text = json.dumps(manifest)
    assert 's3cr3t-pw' not in text
    assert base64.b64encode(b'builder:s3cr3t-pw').decode() not in text
    volume = [v for v in manifest['spec']['volumes'] if v['name'] == 'docker-config'][0]
    assert volume['secret'] == {'secretName': 'kiln-build-auth-x1y2z', 'defaultMode': 0o440,
                                'items': [{'key': '.dockerconfigjson', 'path': 'config.json'}]}


def test_auth_secret_holds_a_docker_config():
    spec = make_spec(name='rng', registry_auth=[dict(server='registry.example.com', username='builder', password='s3cr3t-pw'),
                                                dict(server='ghcr.io', username='bot', password='ghp_token')])
    secret = render.render_auth_secret(spec)
    assert secret['type'] == 'kubernetes.io/dockerconfigjson'
    assert secret['metadata']['generateName'] == 'rng-auth-'
    assert secret['metadata']['labels']['app.kubernetes.io/managed-by'] == 'kiln.kaniko'
    config = json.loads(base64.b64decode(secret['data']['.dockerconfigjson']))
    assert config == {'auths': {
        'registry.example.com': {'auth': base64.b64encode(b'builder:s3cr3t-pw').decode()},
        'ghcr.io': {'auth': base64.b64encode(b'bot:ghp_token').decode()},
    }}


def test_labels_annotations_and_scheduling():
    manifest = render.render_pod(make_spec(**FULL), registry_secret_key=render.CONFIG_JSON)
    metadata, spec = manifest['metadata'], manifest['spec']
    assert metadata['labels'] == {'team': 'api', 'app.kubernetes.io/managed-by': 'kiln.kaniko',
                                  'app.kubernetes.io/name': 'kaniko-build'}
    assert metadata['annotations'] == {'example.com/ticket': 'OPS-1',
                                       'kiln.kaniko/git-repo': 'git@github.com:example/api.git',
                                       'kiln.kaniko/git-version': 'v2.3.0'}
    assert spec['serviceAccountName'] == 'builder'
    assert spec['automountServiceAccountToken'] is False
    assert spec['imagePullSecrets'] == [{'name': 'pull-ghcr'}]
    assert spec['nodeSelector'] == {'kubernetes.io/arch': 'arm64'}
    assert spec['tolerations'] == [{'key': 'build', 'operator': 'Equal', 'value': 'yes', 'effect': 'NoSchedule'}]
    assert list(spec['affinity']) == ['nodeAffinity']
    assert spec['priorityClassName'] == 'batch-low'
    for container in containers(manifest).values():
        assert container['resources'] == {'requests': {'cpu': '1', 'memory': '2Gi'},
                                          'limits': {'ephemeral-storage': '20Gi', 'memory': '4Gi'}}
        assert container['imagePullPolicy'] == 'Always'


def test_rendering_does_not_share_state_with_the_spec():
    spec = make_spec(**FULL)
    manifest = render.render_pod(spec, registry_secret_key=render.CONFIG_JSON)
    before = copy.deepcopy(spec)
    manifest['spec']['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution'] = {}
    manifest['spec']['tolerations'][0]['value'] = 'no'
    assert spec == before


def test_owner_reference():
    created = {'metadata': {'name': 'kiln-build-x7k2p', 'uid': '0b9f6f0e-5c1f-4c8e-9d55-2f0f3e7c1a10'}}
    assert render.owner_reference(created) == {'apiVersion': 'v1', 'kind': 'Pod', 'name': 'kiln-build-x7k2p',
                                               'uid': '0b9f6f0e-5c1f-4c8e-9d55-2f0f3e7c1a10'}


# ---------------------------------------------------------------- a local context and a tarball

LOCAL = dict(local_context=dict(path='/home/ci/app'), context_sub_path='web')
DEST = dict(tarball=dict(dest='/tmp/out/app.tar'))
PVC = dict(tarball=dict(pvc='artifacts', path='images/app.tar'))


def local_spec(**overrides):
    params = {**DOCKERCOINS_RNG, **LOCAL}
    params.pop('git')
    params.update(overrides)
    spec = build_spec(module_params(**params))
    return dataclasses.replace(spec, local=dataclasses.replace(spec.local, size=10240, sha256='ab' * 32))


@pytest.mark.parametrize('overrides', [{}, DEST, PVC, dict(PVC, tarball=dict(pvc='artifacts', path='app.tar'))])
def test_local_and_tarball_pods_match_the_openapi_schema(overrides):
    validate(render.render_pod(local_spec(**overrides)))
    validate(render.render_pod(make_spec(**overrides)))


def test_a_local_context_has_a_receive_container_instead_of_the_clone():
    manifest = render.render_pod(local_spec())
    assert [c['name'] for c in manifest['spec']['initContainers']] == ['receive']
    receive = containers(manifest)['receive']
    assert receive['image'] == 'docker.io/alpine/git:2.49.1'
    assert receive['command'][:2] == ['/bin/sh', '-c'] and scripts.RECEIVED in receive['command'][2]
    assert receive['securityContext']['runAsNonRoot'] and receive['securityContext']['capabilities'] == {'drop': ['ALL']}
    assert 'env' not in receive
    volumes = [v['name'] for v in manifest['spec']['volumes']]
    assert volumes == ['workspace']  # no git home, no git secret
    annotations = manifest['metadata']['annotations']
    assert annotations == {render.ANNOTATION_CONTEXT: 'ab' * 32}
    kaniko = containers(manifest)['kaniko']
    assert kaniko['args'][:2] == ['--context=dir:///workspace/src/web', '--dockerfile=/workspace/src/web/Dockerfile']


def test_tarball_dest_pod():
    manifest = render.render_pod(make_spec(**DEST))
    kaniko = containers(manifest)['kaniko']
    assert '--no-push' in kaniko['args']
    assert '--tar-path=/kiln/out/image.tar' in kaniko['args']
    assert '--destination=registry:5000/rng:latest' in kaniko['args']
    assert {'name': 'out', 'mountPath': '/kiln/out'} in kaniko['volumeMounts']
    export = containers(manifest)['export']
    assert [c['name'] for c in manifest['spec']['containers']] == ['kaniko', 'export']
    assert export['volumeMounts'] == [{'name': 'out', 'mountPath': '/kiln/out'},
                                      {'name': 'export-state', 'mountPath': '/kiln/state'}]
    assert export['securityContext']['capabilities'] == {'drop': ['ALL']}
    assert export['securityContext']['allowPrivilegeEscalation'] is False
    assert scripts.RELEASED in export['command'][2]
    volumes = {v['name']: v for v in manifest['spec']['volumes']}
    assert volumes['out'] == {'name': 'out', 'emptyDir': {}}
    assert volumes['export-state']['emptyDir']['medium'] == 'Memory'


def test_tarball_pvc_pod_writes_a_partial_file_in_the_claims_folder():
    manifest = render.render_pod(make_spec(**PVC))
    kaniko = containers(manifest)['kaniko']
    assert '--tar-path=/kiln/out/.app.tar.kiln-partial' in kaniko['args']
    mount = {'name': 'out', 'mountPath': '/kiln/out', 'subPath': 'images'}
    assert mount in kaniko['volumeMounts'] and mount in containers(manifest)['export']['volumeMounts']
    volumes = {v['name']: v for v in manifest['spec']['volumes']}
    assert volumes['out'] == {'name': 'out', 'persistentVolumeClaim': {'claimName': 'artifacts'}}


def test_a_pod_of_a_build_that_runs_again_has_a_fresh_name_and_keeps_off_the_lost_nodes():
    spec = dataclasses.replace(make_spec(**FULL), attempt=3, avoid_nodes=('worker-2', 'worker-5'))
    manifest = render.render_pod(spec, registry_secret_key=render.CONFIG_JSON)
    validate(manifest)
    assert manifest['metadata']['generateName'] == 'api-a3-'
    assert render.render_pod(make_spec(**FULL))['metadata']['generateName'] == 'api-'
    required = manifest['spec']['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']
    assert required['nodeSelectorTerms'] == [{
        'matchExpressions': [{'key': 'pool', 'operator': 'In', 'values': ['builders']}],
        'matchFields': [{'key': 'metadata.name', 'operator': 'NotIn', 'values': ['worker-2', 'worker-5']}]}]
    assert spec.pod.affinity['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution'] == FULL['pod'][
        'affinity']['node_affinity']['requiredDuringSchedulingIgnoredDuringExecution']  # the spec's is untouched


def test_the_longest_name_still_leaves_room_for_the_suffix_of_an_attempt():
    spec = dataclasses.replace(make_spec(name='b' * 52), attempt=100)
    assert len(render.pod_prefix(spec)) + 5 <= 63  # the API server adds 5 characters
    validate(render.render_pod(spec))
