# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""BuildRunner against a stand-in CoreV1Api: what is left behind when a signal or an outage comes at a bad time,
and the messages for missing Secrets and an unwritable log_path."""

from __future__ import annotations

import base64
import copy
import json
import os
import signal

import pytest

from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import ApiUnreachable
from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.exceptions import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed, BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import runner, status, waiter
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture, make_spec

AUTH = [{'server': 'registry:5000', 'username': 'ci', 'password': 'not-a-password'}]


class Response(object):
    def __init__(self, data):
        self.data = json.dumps(data).encode()


class Core(object):
    """Pods and Secrets in memory. ``on`` maps a call name to a function run inside that call."""

    def __init__(self, on=None, secrets=None, config_maps=None):
        self.on = on or {}
        self.pods = {}
        self.secrets = {}
        self.existing = secrets or {}
        self.config_maps = config_maps or {}
        self.calls = []

    def _hook(self, name):
        self.calls.append(name)
        if name in self.on:
            self.on[name]()

    def read_namespace(self, name, **kwargs):
        self._hook('read_namespace')

    def read_namespaced_secret(self, name, namespace, **kwargs):
        self._hook('read_secret')
        if name not in self.existing:
            raise ApiException(status=404, reason='Not Found')
        return Response(self.existing[name])

    def read_namespaced_config_map(self, name, namespace, **kwargs):
        self._hook('read_config_map')
        if name not in self.config_maps:
            raise ApiException(status=404, reason='Not Found')
        return Response(self.config_maps[name])

    def create_namespaced_secret(self, namespace, body, **kwargs):
        name = body['metadata']['generateName'] + 'abcde'
        self.secrets[name] = body
        self._hook('create_secret')
        return Response({'metadata': {'name': name}})

    def patch_namespaced_secret(self, name, namespace, body, **kwargs):
        self._hook('patch_secret')

    def create_namespaced_pod(self, namespace, body, **kwargs):
        created = copy.deepcopy(body)
        created['metadata'].update(name=body['metadata']['generateName'] + 'xyz12', uid='u1', resourceVersion='1')
        self.pods[created['metadata']['name']] = created
        self._hook('create_pod')  # the pod exists; the answer is on its way back
        return Response(created)

    def delete_namespaced_pod(self, name, namespace, **kwargs):
        self._hook('delete_pod')
        self.pods.pop(name, None)

    def delete_namespaced_secret(self, name, namespace, **kwargs):
        self._hook('delete_secret')
        self.secrets.pop(name, None)


def signal_self(signum):
    return lambda: os.kill(os.getpid(), signum)


def build_runner(core, **overrides):
    warnings = []
    spec = make_spec(**overrides)
    return runner.BuildRunner(core, spec, warn=warnings.append), warnings


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_pod_is_created_still_deletes_the_pod_and_the_secret(signum):
    core = Core(on={'create_pod': signal_self(signum)})
    build, _warnings = build_runner(core, registry_auth=AUTH)
    with pytest.raises(BuildInterrupted) as caught:
        build.run()
    assert signal.Signals(signum).name in caught.value.message
    assert core.pods == {} and core.secrets == {}
    assert caught.value.details['pod_name'] == 'kiln-build-xyz12'
    assert core.calls[-2:] == ['delete_secret', 'delete_pod']


def test_a_second_signal_does_not_cut_the_cleanup_short():
    core = Core(on={'create_pod': signal_self(signal.SIGINT), 'delete_secret': signal_self(signal.SIGTERM)})
    build, _warnings = build_runner(core, registry_auth=AUTH)
    with pytest.raises(BuildInterrupted):
        build.run()
    assert core.pods == {} and core.secrets == {}


def test_the_pod_is_still_deleted_when_the_secret_cannot_be():
    def gone():
        raise ApiUnreachable('Lost the Kubernetes API server at https://10.0.0.1:6443 for 120 s: refused')
    core = Core(on={'delete_secret': gone})
    build, warnings = build_runner(core, registry_auth=AUTH)
    build.prepare()
    build.start()
    build.abort()
    assert core.pods == {}
    assert warnings == ['Could not delete secret kiln-build-auth-abcde in namespace builds: Lost the Kubernetes API '
                        'server at https://10.0.0.1:6443 for 120 s: refused; the deletion of its pod removes it '
                        '(it is owned by the pod)']


@pytest.mark.parametrize('option, overrides', [
    ('registry_secret', {'registry_secret': 'push-secret'}),
    ('git.secret', {'git': {'repo': 'https://git.example.com/app.git', 'secret': 'git-token'}}),
])
def test_a_missing_secret_is_named_with_the_fix(option, overrides):
    build, _warnings = build_runner(Core(), **overrides)
    with pytest.raises(ClusterError) as caught:
        build.run()
    assert caught.value.message.startswith('{0}: Secret '.format(option))
    assert caught.value.message.endswith("was not found in namespace 'builds'; create it there, or correct the name")


CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


@pytest.mark.parametrize('entry, option, kind', [
    (dict(registry='registry:5000', config_map='registry-ca'), 'registry_ca[0].config_map', 'ConfigMap'),
    (dict(registry='registry:5000', secret='registry-ca'), 'registry_ca[0].secret', 'Secret'),
])
def test_a_missing_registry_ca_object_is_named_with_the_fix(entry, option, kind):
    core = Core()
    build, _warnings = build_runner(core, registry_ca=[entry])
    with pytest.raises(ClusterError) as caught:
        build.run()
    assert caught.value.message == ("{0}: {1} 'registry-ca' was not found in namespace 'builds'; create it there, "
                                    "or correct the name".format(option, kind))
    assert 'create_pod' not in core.calls


def test_a_registry_ca_key_that_is_missing_or_no_certificate_is_named_with_the_fix():
    core = Core(config_maps={'registry-ca': {'data': {'tls.crt': CA_PEM}}},
                secrets={'registry-ca': {'data': {'ca.crt': base64.b64encode(b'not a certificate').decode()}}})
    build, _warnings = build_runner(core, registry_ca=[dict(registry='registry:5000', config_map='registry-ca')])
    with pytest.raises(ClusterError) as caught:
        build.run()
    assert caught.value.message == ("registry_ca[0].key: ConfigMap 'registry-ca' has no key 'ca.crt'; put the "
                                    "registry's CA (PEM) under that key, or name the key that holds it in "
                                    "registry_ca[0].key (it has: tls.crt)")
    build, _warnings = build_runner(core, registry_ca=[dict(registry='registry:5000', secret='registry-ca')])
    with pytest.raises(ClusterError) as caught:
        build.run()
    assert caught.value.message.startswith("registry_ca[0].key: key 'ca.crt' of Secret 'registry-ca' holds no PEM "
                                           "certificate (-----BEGIN CERTIFICATE-----); put the registry's CA there")
    assert 'create_pod' not in core.calls


def test_a_registry_ca_is_read_once_from_data_or_binary_data():
    core = Core(config_maps={'registry-ca': {'binaryData': {'ca.crt': base64.b64encode(CA_PEM.encode()).decode()}}})
    reader = runner.SecretReader(core, warn=None)
    ca = make_spec(registry_ca=[dict(registry='registry:5000', config_map='registry-ca')]).registry_ca[0]
    assert reader.registry_ca('builds', ca) == CA_PEM
    assert reader.registry_ca('builds', ca) == CA_PEM
    assert core.calls == ['read_config_map']


def test_an_unwritable_log_path_is_named_with_the_fix(tmp_path):
    core = Core()
    build, _warnings = build_runner(core, log_path=str(tmp_path / 'missing' / 'build.log'))
    with pytest.raises(ValidationError) as caught:
        build.run()
    assert caught.value.message == ('log_path: cannot write {0}: No such file or directory; give a file in a directory '
                                    'that exists and is writable'.format(tmp_path / 'missing' / 'build.log'))
    assert 'create_pod' not in core.calls


class Resolver(object):
    """Stands for RemoteResolver; the test replaces identify(), which would ask it."""


def test_an_unwritable_log_path_fails_even_when_the_build_would_be_skipped(tmp_path, monkeypatch):
    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import build_key
    skip = build_key.Decision(build_key.FOUND, 'the registry holds it', commit='a' * 40, key='sha256:' + 'b' * 64)
    monkeypatch.setattr(runner, 'identify', lambda spec, resolver, lookup: skip)
    core = Core()
    build = runner.BuildRunner(core, make_spec(log_path=str(tmp_path / 'missing' / 'build.log')), resolver=Resolver())
    with pytest.raises(ValidationError) as caught:
        build.run()
    assert caught.value.message.startswith('log_path: cannot write ')
    assert core.calls == []  # refused before the cluster is asked anything


@pytest.mark.parametrize('make, reason', [
    (lambda tmp: tmp, 'Is a directory'),
    (lambda tmp: tmp / 'no' / 'such' / 'dir' / 'build.log', 'No such file or directory'),
])
def test_check_log_path(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(ValidationError) as caught:
        runner.check_log_path(str(path))
    assert caught.value.message == ('log_path: cannot write {0}: {1}; give a file in a directory that exists and '
                                    'is writable'.format(path, reason))
    runner.check_log_path(str(tmp_path / 'build.log'))
    assert not (tmp_path / 'build.log').exists()


class NoEvents(object):
    def events(self, timeout):
        return []


def test_a_pod_past_its_deadline_is_deleted_even_with_keep_pod_on_failure():
    core = Core()
    build, _warnings = build_runner(core, keep_pod='on_failure')
    build.prepare()
    build.start()
    build.pod_events = NoEvents()
    pod = load_fixture('recorded/deadline_exceeded.json')['pod']
    with pytest.raises(BuildFailed) as caught:
        build.result(waiter.WaitResult(status.classify(pod), pod), 30.0, [])
    assert caught.value.details['reason'] == 'DeadlineExceeded'
    assert caught.value.details['pod_kept'] is False
    assert core.pods == {}
