# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One build (a task without builds) against the shared core/v1 fake: what is left behind when a signal or an
outage comes at a bad time, and the messages for missing Secrets and an unwritable log_path."""

from __future__ import annotations

import base64
import os
import signal
import time

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import ApiUnreachable
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.secrets import SecretReader
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed, BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import prepare as preparation
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import waiter
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.lifecycle import Build
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.prepare import prepare
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture, make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.runs import Run, log_wait

AUTH = [{'server': 'registry:5000', 'username': 'ci', 'password': 'not-a-password'}]


def signal_self(signum):
    return lambda: os.kill(os.getpid(), signum)


def single(core, **overrides):
    """The one build of a task without builds, as the module runs it."""
    return Run(core, [make_spec(**overrides)], items=False, resolver=None)


def started(core, **overrides):
    """A prepared and started Build, and the warnings it gives."""
    warnings = []
    engine = KubernetesEngine(core, log_wait)
    prepared = prepare(make_spec(**overrides), engine, SecretReader(core, warnings.append))
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


@pytest.mark.parametrize('option, overrides', [
    ('registry_secret', {'registry_secret': 'push-secret'}),
    ('git.secret', {'git': {'repo': 'https://git.example.com/app.git', 'secret': 'git-token'}}),
])
def test_a_missing_secret_is_named_with_the_fix(option, overrides):
    with pytest.raises(ClusterError) as caught:
        single(Core(), **overrides).run()
    assert caught.value.message.startswith('{0}: Secret '.format(option))
    assert caught.value.message.endswith("was not found in namespace 'builds'; create it there, or correct the name")


CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


@pytest.mark.parametrize('entry, option, kind', [
    (dict(registry='registry:5000', config_map='registry-ca'), 'registry_ca[0].config_map', 'ConfigMap'),
    (dict(registry='registry:5000', secret='registry-ca'), 'registry_ca[0].secret', 'Secret'),
])
def test_a_missing_registry_ca_object_is_named_with_the_fix(entry, option, kind):
    core = Core()
    with pytest.raises(ClusterError) as caught:
        single(core, registry_ca=[entry]).run()
    assert caught.value.message == ("{0}: {1} 'registry-ca' was not found in namespace 'builds'; create it there, "
                                    "or correct the name".format(option, kind))
    assert not core.called('create_pod')


def test_a_registry_ca_key_that_is_missing_or_no_certificate_is_named_with_the_fix():
    core = Core(config_maps={'registry-ca': {'data': {'tls.crt': CA_PEM}}},
                secrets={'registry-ca': {'data': {'ca.crt': base64.b64encode(b'not a certificate').decode()}}})
    with pytest.raises(ClusterError) as caught:
        single(core, registry_ca=[dict(registry='registry:5000', config_map='registry-ca')]).run()
    assert caught.value.message == ("registry_ca[0].key: ConfigMap 'registry-ca' has no key 'ca.crt'; put the "
                                    "registry's CA (PEM) under that key, or name the key that holds it in "
                                    "registry_ca[0].key (it has: tls.crt)")
    with pytest.raises(ClusterError) as caught:
        single(core, registry_ca=[dict(registry='registry:5000', secret='registry-ca')]).run()
    assert caught.value.message.startswith("registry_ca[0].key: key 'ca.crt' of Secret 'registry-ca' holds no PEM "
                                           "certificate (-----BEGIN CERTIFICATE-----); put the registry's CA there")
    assert not core.called('create_pod')


def test_a_registry_ca_is_read_once_from_data_or_binary_data():
    core = Core(config_maps={'registry-ca': {'binaryData': {'ca.crt': base64.b64encode(CA_PEM.encode()).decode()}}})
    reader = SecretReader(core, warn=None)
    ca = make_spec(registry_ca=[dict(registry='registry:5000', config_map='registry-ca')]).registry_ca[0]
    assert reader.registry_ca('builds', ca) == CA_PEM
    assert reader.registry_ca('builds', ca) == CA_PEM
    assert core.calls == [('read_config_map', 'registry-ca')]


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


def test_a_pod_past_its_deadline_is_deleted_even_with_keep_pod_on_failure():
    core = Core()
    build, _warnings = started(core, keep_pod='on_failure')
    pod = load_fixture('recorded/deadline_exceeded.json')['pod']
    build.finish(waiter.WaitResult(states.classify(pod), pod))
    assert isinstance(build.error, BuildFailed)
    assert build.result['reason'] == 'DeadlineExceeded'
    assert build.result['pod_kept'] is False
    assert core.pods == {}
