# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What is checked of each build before any pod, against the shared core/v1 fake: the Secrets of build_secrets and
their keys (a Secret that may not be read is mounted unchecked, with a warning), and log_path."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import prepare as preparation
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    NETRC,
    TOKEN,
    VALUE,
    make_spec,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.runs import Run, secret, single


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


def test_an_unwritable_log_path_is_named_with_the_fix(tmp_path):
    core = Core()
    with pytest.raises(ValidationError) as caught:
        single(core, log_path=str(tmp_path / 'missing' / 'build.log')).run()
    assert caught.value.message == ('log_path: cannot write {0}: No such file or directory; give a file in a directory '
                                    'that exists and is writable'.format(tmp_path / 'missing' / 'build.log'))
    assert not core.called('create_pod')


class Resolver(object):
    """Stands for RemoteResolver; the test replaces identify(), which would ask it."""


def test_an_unwritable_log_path_fails_even_when_the_build_would_be_skipped(tmp_path, monkeypatch):
    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
    skip = build_key.Decision(build_key.FOUND, 'the registry holds it', commit='a' * 40, key='sha256:' + 'b' * 64)
    monkeypatch.setattr(preparation, 'identify', lambda spec, resolver, lookup: skip)
    core = Core()
    run = Run(core, [make_spec(log_path=str(tmp_path / 'missing' / 'build.log'))], items=False, resolver=Resolver())
    with pytest.raises(ValidationError) as caught:
        run.run()
    assert caught.value.message.startswith('log_path: cannot write ')
    assert core.calls == []  # refused before the cluster is asked anything


@pytest.mark.parametrize('make, reason', [
    (lambda tmp: tmp, 'Is a directory'),
    (lambda tmp: tmp / 'no' / 'such' / 'dir' / 'build.log', 'No such file or directory'),
])
def test_check_log_path(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(ValidationError) as caught:
        preparation.check_log_path(str(path))
    assert caught.value.message == ('log_path: cannot write {0}: {1}; give a file in a directory that exists and '
                                    'is writable'.format(path, reason))
    preparation.check_log_path(str(tmp_path / 'build.log'))
    assert not (tmp_path / 'build.log').exists()
