# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kiln.kaniko.container_build's parameters -> the BuildSpec kiln.kaniko.build would make: the same checks and build
key, and the git credentials and CA files that are options here."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import cli
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import container_spec
from ansible_collections.kiln.kaniko.plugins.modules import container_build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

TOKEN = 'ghp_not-a-real-token'


def params(**overrides):
    given = dict(git=dict(repo='https://github.com/jpetazzo/container.training'), context_sub_path='dockercoins/rng',
                 destinations=['registry:5000/rng:latest'], insecure=True)
    given.update(overrides)
    validator = ArgumentSpecValidator(container_build.argument_spec(),
                                      mutually_exclusive=container_build.MUTUALLY_EXCLUSIVE,
                                      required_one_of=container_build.REQUIRED_ONE_OF)
    checked = validator.validate(given)
    assert not checked.error_messages, checked.error_messages
    return checked.validated_parameters


def spec_of(**overrides):
    return container_spec(params(**overrides))


def test_the_spec_and_the_build_key_are_those_of_build():
    spec, credentials = spec_of()
    pod_spec = make_spec()
    assert credentials is None and spec.namespace is None and spec.keep_pod == 'never'
    assert spec.retries == 0  # a build container of the module's own host is never lost to a node
    assert build_key(spec, 'c' * 40) == build_key(pod_spec, 'c' * 40)
    assert cli.kaniko_args(spec)[:3] == render.kaniko_args(pod_spec)[:3]


def test_the_checks_are_those_of_build():
    with pytest.raises(ValidationError) as caught:
        spec_of(destinations=['registry:5000/Rng'])
    assert caught.value.details['option'] == 'destinations[0]'
    with pytest.raises(ValidationError) as caught:
        spec_of(extra_args=['--destination=x:1'])
    assert caught.value.message == 'extra_args[0]: --destination is set through destinations, not extra_args'


@pytest.mark.parametrize('git, option', [
    (dict(repo='ssh://git@example.com/app.git'), 'git.key_file'),
    (dict(repo='ssh://git@example.com/app.git', key_file='/k', known_hosts_file='/h', token='t'), 'git.token'),
    (dict(repo='https://example.com/app.git', key_file='/k'), 'git.key_file'),
    (dict(repo='https://example.com/app.git', username='u'), 'git.password'),
    (dict(repo='https://example.com/app.git', token='t', password='p'), 'git.password'),
])
def test_git_credentials_that_do_not_fit_the_repository_are_refused(git, option):
    with pytest.raises(ValidationError) as caught:
        spec_of(git=git)
    assert caught.value.details['option'] == option


def test_git_credentials_stand_for_the_secret_of_build():
    spec, credentials = spec_of(git=dict(repo='https://example.com/app.git', token=TOKEN))
    assert spec.git.secret == 'git.token' and credentials.token == TOKEN
    assert TOKEN not in repr(spec) and TOKEN not in repr(credentials)


def test_registry_ca_is_a_file_of_the_host():
    spec, _credentials = spec_of(registry_ca=[dict(registry='registry.example.com', path='/etc/ssl/ca.pem')])
    assert spec.registry_ca[0].name == '/etc/ssl/ca.pem'
    with pytest.raises(ValidationError) as caught:
        spec_of(registry_ca=[dict(registry='registry.example.com', path='ca.pem')])
    assert caught.value.details['option'] == 'registry_ca[0].path'


# ---------------------------------------------------------------------------------------------------- podman's arguments


# ---------------------------------------------------------------------------------------------------- state -> outcome
