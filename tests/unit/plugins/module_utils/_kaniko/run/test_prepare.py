# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option build_secrets in the pod (volume, read-only mount in the kaniko container only, --secret, the feature
flag), in a check-mode result, and against the cluster: a missing Secret or key refused before any pod."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.runs import Run
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_render import FULL, containers, validate

from kubernetes.client.exceptions import ApiException

TOKEN = dict(id='token', secret='build-token', key='token')
NETRC = dict(id='netrc', secret='pip-auth', key='.netrc')
VALUE = 'kiln-test-build-secret-value-3f9a1c'


def secret(**data):
    return {'type': 'Opaque', 'data': {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


def test_the_pod_with_build_secrets_matches_the_openapi_schema():
    validate(render.render_pod(make_spec(build_secrets=[TOKEN, NETRC])))
    validate(render.render_pod(make_spec(build_secrets=[TOKEN], **FULL), registry_secret_key=render.CONFIG_JSON))


def test_one_projected_volume_holds_each_key_under_its_id_for_root_only():
    volumes = render.render_pod(make_spec(build_secrets=[TOKEN, NETRC, dict(id='other', secret='build-token',
                                                                            key='other')]))['spec']['volumes']
    assert volumes[-1] == {'name': 'build-secrets', 'projected': {'defaultMode': 0o400, 'sources': [
        {'secret': {'name': 'build-token', 'items': [{'key': 'token', 'path': 'token'}]}},
        {'secret': {'name': 'pip-auth', 'items': [{'key': '.netrc', 'path': 'netrc'}]}},
        {'secret': {'name': 'build-token', 'items': [{'key': 'other', 'path': 'other'}]}},
    ]}}
    assert [volume['name'] for volume in volumes].count('build-secrets') == 1


def test_they_are_mounted_read_only_into_the_kaniko_container_only():
    for overrides in ({}, dict(git=dict(repo='https://git.example.com/app.git', secret='git-token'))):
        manifest = render.render_pod(make_spec(build_secrets=[TOKEN], **overrides))
        mounts = {name: [m for m in c['volumeMounts'] if m['name'] == 'build-secrets']
                  for name, c in containers(manifest).items()}
        assert mounts == {'clone': [], 'kaniko': [{'name': 'build-secrets', 'mountPath': '/kaniko/build-secrets',
                                                   'readOnly': True}]}


def test_kaniko_is_told_each_id_and_file_and_gets_the_feature_flag():
    kaniko = containers(render.render_pod(make_spec(build_secrets=[TOKEN, NETRC])))['kaniko']
    secrets = [arg for arg in kaniko['args'] if arg.startswith('--secret')]
    assert secrets == ['--secret=id=token,src=/kaniko/build-secrets/token',
                       '--secret=id=netrc,src=/kaniko/build-secrets/netrc']
    assert kaniko['env'] == [{'name': 'FF_KANIKO_RUN_MOUNT_SECRET', 'value': '1'}]


def test_without_build_secrets_no_volume_no_flag_and_no_environment():
    for spec in (make_spec(), make_spec(build_secrets=[]), make_spec(**FULL)):
        manifest = render.render_pod(spec)
        kaniko = containers(manifest)['kaniko']
        assert 'env' not in kaniko
        assert not [arg for arg in kaniko['args'] if arg.startswith('--secret')]
        assert 'build-secrets' not in json.dumps(manifest)
        assert 'FF_KANIKO_RUN_MOUNT_SECRET' not in json.dumps(manifest)


def single(core, check_mode=False, **overrides):
    return Run(core, [make_spec(**overrides)], items=False, resolver=None, check_mode=check_mode)


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


def test_a_missing_secret_is_refused_before_any_pod():
    core = Core(secrets={'build-token': secret(token=VALUE)})
    with pytest.raises(ClusterError) as caught:
        single(core, build_secrets=[TOKEN, NETRC]).run()
    assert caught.value.message == ("build_secrets[1].secret: Secret 'pip-auth' was not found in namespace 'builds'; "
                                    "create it there, or correct the name")
    assert caught.value.details['option'] == 'build_secrets[1].secret'
    assert not core.called('create_pod') and not core.called('create_secret')


def test_a_secret_without_the_key_is_refused_before_any_pod_naming_its_keys_only():
    core = Core(secrets={'build-token': secret(token=VALUE, other=VALUE)})
    with pytest.raises(ClusterError) as caught:
        single(core, build_secrets=[TOKEN, dict(id='npm', secret='build-token', key='npmrc')]).run()
    assert caught.value.message == ("build_secrets[1].key: Secret 'build-token' has no key 'npmrc'; put the value "
                                    "under that key, or give the key that holds it instead (it has: other, token)")
    assert caught.value.details['option'] == 'build_secrets[1].key'
    assert not core.called('create_pod')
    assert core.called('read_secret') == ['build-token']  # read once for both entries


def test_an_item_s_missing_key_names_the_item():
    core = Core(secrets={'build-token': secret(other=VALUE)})
    specs = [make_spec(destinations=['registry:5000/a:1']),
             make_spec(destinations=['registry:5000/b:1'], build_secrets=[TOKEN])]
    with pytest.raises(KilnError) as caught:
        Run(core, specs, resolver=None).run()
    assert caught.value.message == ("builds[1].build_secrets[0].key: Secret 'build-token' has no key 'token'; put the "
                                    "value under that key, or give the key that holds it instead (it has: other)")
    assert caught.value.details['option'] == 'builds[1].build_secrets[0].key'
    assert not core.called('create_pod')


def test_a_secret_that_may_not_be_read_is_mounted_unchecked_with_a_warning():
    def forbidden():
        raise ApiException(status=403, reason='Forbidden')
    core = Core(on={'read_secret': forbidden}, secrets={'build-token': secret(token=VALUE)})
    run = single(core, check_mode=True, build_secrets=[TOKEN])
    result = run.run()
    assert result['changed'] is True
    assert run.warnings[0].startswith("Could not read Secret 'build-token' (build_secrets[0].secret) to check it: ")
