# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option build_secrets from the parameters to the spec: the entries, the messages that refuse them (pinned),
--secret in extra_args, the items of builds, and the build key."""

from __future__ import annotations

import dataclasses

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import items
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSecret
from ansible_collections.kiln.kaniko.plugins.modules import build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec, module_params

TOKEN = dict(id='token', secret='build-token', key='token')
NETRC = dict(id='netrc', secret='pip-auth', key='.netrc')
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


@pytest.mark.parametrize('arg', ['--secret', '--secret=id=token,src=/kaniko/token'])
def test_secret_in_extra_args_is_refused(arg):
    error = refused(extra_args=['--push-retry=3', arg, 'id=token,src=/kaniko/token'])
    assert str(error) == 'extra_args[1]: --secret is set through build_secrets, not extra_args'


def test_an_item_inherits_the_top_level_list_or_replaces_it():
    inherited, replaced, emptied = specs([{'destinations': ['registry:5000/a:1']},
                                          {'destinations': ['registry:5000/b:1'], 'build_secrets': [NETRC]},
                                          {'destinations': ['registry:5000/c:1'], 'build_secrets': []}],
                                         build_secrets=[TOKEN])
    assert [entry.id for entry in inherited.build_secrets] == ['token']
    assert [entry.id for entry in replaced.build_secrets] == ['netrc']
    assert emptied.build_secrets == ()


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


def test_the_top_level_entries_need_all_three_names():
    with pytest.raises(AssertionError) as caught:
        module_params(namespace='builds', git=dict(repo='https://example.com/a.git'), destinations=['r:5000/a:1'],
                      build_secrets=[dict(id='token', secret='build-token')])
    assert 'missing required arguments: key found in build_secrets' in str(caught.value)


# The keys of builds without build_secrets, from before the option existed: images built then are still found.
KEYS_WITHOUT_BUILD_SECRETS = [
    (dict(), 'sha256:49adbf13639e6dfa3e376bc7a9862a830c370cf8fdb016860631aaf157a26507'),
    (dict(build_args={'A': '1'}, labels={'x': 'y'}, target='t', platform='linux/arm64', extra_args=['--reproducible']),
     'sha256:8db640fa221b1832947634f37b8a30248687b4c2dd2482871e0f73afb30121c2'),
]


@pytest.mark.parametrize('overrides, key', KEYS_WITHOUT_BUILD_SECRETS)
def test_a_build_without_build_secrets_keeps_its_key(overrides, key):
    assert build_key.build_key(make_spec(**overrides), COMMIT) == key
    assert build_key.build_key(make_spec(build_secrets=[], **overrides), COMMIT) == key


def test_a_local_context_without_build_secrets_keeps_its_key():
    spec = build_spec(module_params(namespace='builds', local_context=dict(path='/tmp'),
                                    destinations=['registry:5000/rng:latest']))
    spec = dataclasses.replace(spec, local=dataclasses.replace(spec.local, sha256='b' * 64))
    assert build_key.build_key(spec, None) == 'sha256:76c6c94f45fc85757708d627e6120c913113deb49d2a77fdf9f180ed7daa47d6'


@pytest.mark.parametrize('other', [
    [dict(TOKEN, id='token2')],
    [dict(TOKEN, secret='other-token')],
    [dict(TOKEN, key='other')],
    [TOKEN, NETRC],
])
def test_the_names_of_build_secrets_are_in_the_key(other):
    with_token = build_key.build_key(make_spec(build_secrets=[TOKEN]), COMMIT)
    assert with_token != build_key.build_key(make_spec(), COMMIT)
    assert build_key.build_key(make_spec(build_secrets=other), COMMIT) != with_token


def test_the_order_of_build_secrets_is_not():
    assert (build_key.build_key(make_spec(build_secrets=[TOKEN, NETRC]), COMMIT)
            == build_key.build_key(make_spec(build_secrets=[NETRC, TOKEN]), COMMIT))


def test_the_option_holds_names_that_are_not_masked():
    result = ArgumentSpecValidator(build.argument_spec()).validate(dict(
        namespace='builds', git=dict(repo='https://example.com/a.git'), destinations=['r:5000/a:1'],
        build_secrets=[TOKEN]))
    assert not result.error_messages and not result._warnings
    assert not {'token', 'build-token'} & set(result._no_log_values)
