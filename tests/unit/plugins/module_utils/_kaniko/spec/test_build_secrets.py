# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option build_secrets (spec/build_secrets.py): the entries, the messages that refuse them (pinned), also in the
items of builds; and what the pod gets of them (the volume, its read-only mount in the kaniko container only,
--secret, the feature flag)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import items
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSecret
from ansible_collections.kiln.kaniko.plugins.modules import build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import NETRC, TOKEN, make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_render import FULL, containers, validate

COMMIT = 'a' * 40
ID_FIX = ("is not an id Kaniko's --secret can take (it splits on ',' and '='); use letters, digits, '.', '_' "
          "and '-', not starting with '.' or '-', such as npm_token")


def specs(builds, **top):
    """The BuildSpecs of the items ``builds`` under the DockerCoins top level and ``top``."""
    given = dict(namespace='builds', git=dict(repo='https://github.com/jpetazzo/container.training'), builds=builds)
    given.update(top)
    result = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE).validate(given)
    assert not result.error_messages, result.error_messages
    return items.item_specs(result.validated_parameters, build.build_options())[0]


def refused(**overrides):
    with pytest.raises(ValidationError) as caught:
        make_spec(**overrides)
    return caught.value


def refused_item(builds, **top):
    with pytest.raises(ValidationError) as caught:
        specs(builds, **top)
    return caught.value


def test_entries_become_build_secrets_in_order():
    spec = make_spec(build_secrets=[TOKEN, NETRC, dict(id='Another_one.v2', secret='build-token', key='other')])
    assert spec.build_secrets == (BuildSecret('token', 'build-token', 'token'), BuildSecret('netrc', 'pip-auth', '.netrc'),
                                  BuildSecret('Another_one.v2', 'build-token', 'other'))
    assert make_spec().build_secrets == ()


def test_an_id_given_twice_is_refused():
    error = refused(build_secrets=[TOKEN, NETRC, dict(TOKEN, secret='other')])
    assert str(error) == ("build_secrets[2].id: 'token' is also the id of build_secrets[0]; give each secret an id "
                          "of its own")
    assert error.option == 'build_secrets[2].id'


@pytest.mark.parametrize('secret_id', ['a,src=/etc/shadow', 'a=b', 'has space', 'a/b', '.hidden', '..', '-flag',
                                       'x' * 254, 'tök'])
def test_an_id_kaniko_cannot_take_is_refused(secret_id):
    error = refused(build_secrets=[TOKEN, dict(TOKEN, id=secret_id)])
    assert str(error) == "build_secrets[1].id: '{0}' {1}".format(secret_id, ID_FIX)


@pytest.mark.parametrize('entry, message', [
    (dict(TOKEN, secret='Build_Token'), "build_secrets[0].secret: 'Build_Token': it must be a Kubernetes object name: "
                                        "lower-case letters, digits, - and ., at most 253 characters"),
    (dict(TOKEN, key='a/b'), "build_secrets[0].key: 'a/b' is not a key of a Secret (letters, digits, -, _ and .), "
                             "such as token"),
    (dict(TOKEN, key='..data'), "build_secrets[0].key: '..data' is not a key of a Secret (letters, digits, -, _ and "
                                ".), such as token"),
])
def test_a_secret_or_key_that_cannot_be_is_refused(entry, message):
    assert str(refused(build_secrets=[entry])) == message


@pytest.mark.parametrize('entry, message', [
    (dict(TOKEN, id='a,b'), "builds[0].build_secrets[1].id: 'a,b' " + ID_FIX),
    (dict(NETRC, id='token'), "builds[0].build_secrets[1].id: 'token' is also the id of build_secrets[0]; give each "
                              "secret an id of its own"),
    (dict(id='npm', key='token'), 'builds[0].build_secrets[1].secret: is required: the name of the Secret in '
                                  'namespace that holds the value'),
    (dict(secret='s', key='k'), 'builds[0].build_secrets[1].id: is required: the id that RUN '
                                '--mount=type=secret,id=<id> names in the Dockerfile, such as npm_token'),
    (dict(id='npm', secret='s'), 'builds[0].build_secrets[1].key: is required: the key of that Secret that holds '
                                 'the value, such as token'),
])
def test_an_item_s_entries_are_named_with_the_item(entry, message):
    error = refused_item([{'destinations': ['registry:5000/a:1'], 'build_secrets': [TOKEN, entry]}])
    assert str(error) == message


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
