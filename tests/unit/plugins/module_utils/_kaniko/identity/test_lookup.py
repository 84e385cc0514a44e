# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the destinations' labels with the registry client, against a stand-in registry."""

from __future__ import annotations

import base64
import json
import os
from urllib.error import URLError

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import lookup as rl
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry import fixtures
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import FakeRegistry

KEY = 'sha256:' + 'e' * 64
CONFIG = fixtures.dump({'architecture': 'amd64', 'os': 'linux',
                        'config': {'Labels': {'io.kiln.build-key': KEY, 'org.opencontainers.image.revision': 'a' * 40}}})
MANIFEST = fixtures.image_manifest(CONFIG)
OCI = [('Content-Type', 'application/vnd.oci.image.manifest.v1+json')]


def content():
    return {
        '/v2/': ([], b'{}'),
        '/v2/team/rng/manifests/1': (OCI, MANIFEST),
        '/v2/team/rng/blobs/' + sha256_digest(CONFIG): ([], CONFIG),
        '/v2/team/multi/manifests/1': ([('Content-Type', 'application/vnd.oci.image.index.v1+json')], fixtures.INDEX),
    }


def lookup(registry, secrets=None):
    def client_class(api_host, **kwargs):
        return RegistryClient(api_host, opener=registry, **kwargs)
    return rl.RegistryLookup(lambda namespace, name: (secrets or {}).get(name), client_class=client_class)


def existing(remote, spec, destination):
    """What ``destination`` holds, asked as the build's registry check asks: with its parsed reference."""
    return remote.existing(spec, destination, ImageReference.parse(destination))


def plain_spec(**overrides):
    overrides.setdefault('destinations', ['registry.test:5000/team/rng:1'])
    overrides.setdefault('insecure_registries', ['registry.test:5000'])
    return make_spec(insecure=False, **overrides)


def test_labels_and_digest_of_an_image():
    registry = FakeRegistry(content(), scheme='http')
    found = existing(lookup(registry), plain_spec(), 'registry.test:5000/team/rng:1')
    assert found.labels['io.kiln.build-key'] == KEY
    assert found.digest == sha256_digest(MANIFEST)
    assert found.repository == 'registry.test:5000/team/rng'
    assert all(url.startswith('http://') for _method, url, _headers, _kwargs in registry.requests)


def test_a_missing_tag_has_no_labels():
    found = existing(lookup(FakeRegistry(content(), scheme='http')), plain_spec(), 'registry.test:5000/team/rng:2')
    assert found.labels is None and found.digest is None


def test_an_index_is_not_a_kaniko_build():
    found = existing(lookup(FakeRegistry(content(), scheme='http')), plain_spec(), 'registry.test:5000/team/multi:1')
    assert found.labels == {}


def test_https_with_the_push_credentials_of_registry_auth():
    registry = FakeRegistry(content(), auth='basic', users={'builder': 'pw'})
    spec = make_spec(insecure=False, destinations=['registry.test:5000/team/rng:1'],
                     registry_auth=[dict(server='registry.test:5000', username='builder', password='pw')])
    assert existing(lookup(registry), spec, 'registry.test:5000/team/rng:1').labels['io.kiln.build-key'] == KEY
    assert all(url.startswith('https://') for _method, url, _headers, _kwargs in registry.requests)


@pytest.mark.parametrize('key', ['.dockerconfigjson', 'config.json'])
def test_the_push_credentials_of_registry_secret(key):
    registry = FakeRegistry(content(), auth='bearer', users={'builder': 'pw'})
    config = json.dumps({'auths': {'https://registry.test:5000/v1/': {
        'auth': base64.b64encode(b'builder:pw').decode()}}})
    spec = make_spec(insecure=False, destinations=['registry.test:5000/team/rng:1'], registry_secret='push')
    found = existing(lookup(registry, {'push': {key: config}}), spec, 'registry.test:5000/team/rng:1')
    assert found.labels['io.kiln.build-key'] == KEY
    token_request = [headers for _m, url, headers, _k in registry.requests if url.startswith(registry.base + '/token')]
    assert token_request and token_request[0]['Authorization'].startswith('Basic ')


@pytest.mark.parametrize('auths, registry, expected', [
    ({'ghcr.io': {'username': 'u', 'password': 'p'}}, 'ghcr.io', ('u', 'p')),
    ({'https://index.docker.io/v1/': {'auth': base64.b64encode(b'u:p:q').decode()}}, 'docker.io', ('u', 'p:q')),
    ({'ghcr.io': {'auth': base64.b64encode(b'u:p').decode()}}, 'quay.io', None),
    ({'ghcr.io': {'identitytoken': 'x'}}, 'ghcr.io', None),
])
def test_docker_config_credentials(auths, registry, expected):
    assert rl.docker_config_credentials(json.dumps({'auths': auths}), registry) == expected
    assert rl.docker_config_credentials('not json', registry) is None


def test_an_unreachable_registry_is_asked_once_per_run():
    calls = []

    def opener(url, **kwargs):
        calls.append(url)
        raise URLError('Name or service not known')

    remote = lookup(opener)
    spec = plain_spec(destinations=['registry.test:5000/team/rng:1', 'registry.test:5000/team/rng:2'])
    for destination in spec.destinations:
        with pytest.raises(rl.LookupUnavailable) as caught:
            existing(remote, spec, destination)
        assert 'Name or service not known' in str(caught.value)
    assert len(calls) == 1


def test_a_refusal_is_unavailable_too():
    registry = FakeRegistry(content(), auth='basic', users={'builder': 'pw'})
    spec = make_spec(insecure=False, destinations=['registry.test:5000/team/rng:1'])
    with pytest.raises(rl.LookupUnavailable) as caught:
        existing(lookup(registry), spec, 'registry.test:5000/team/rng:1')
    assert 'registry.test:5000/team/rng:1' in str(caught.value)


CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


def test_https_trusts_the_ca_of_registry_ca_for_that_registry_only():
    registry = FakeRegistry(content())
    read = []

    def read_ca(namespace, ca):
        read.append((namespace, ca.kind, ca.name, ca.key))
        return CA_PEM

    def client_class(api_host, **kwargs):
        return RegistryClient(api_host, opener=registry, **kwargs)

    remote = rl.RegistryLookup(lambda namespace, name: None, read_ca, client_class=client_class)
    spec = make_spec(insecure=False, destinations=['registry.test:5000/team/rng:1'],
                     registry_ca=[dict(registry='other.test', secret='other-ca'),
                                  dict(registry='registry.test:5000', config_map='registry-ca')])
    assert existing(remote, spec, 'registry.test:5000/team/rng:1').labels['io.kiln.build-key'] == KEY
    assert read == [('builds', 'ConfigMap', 'registry-ca', 'ca.crt')]
    ca_paths = set(kwargs['ca_path'] for _method, _url, _headers, kwargs in registry.requests)
    assert len(ca_paths) == 1
    path = ca_paths.pop()
    with open(path) as handle:
        assert handle.read() == CA_PEM
    remote.close()
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))


def test_a_registry_without_registry_ca_gets_no_ca_file():
    registry = FakeRegistry(content())

    def client_class(api_host, **kwargs):
        return RegistryClient(api_host, opener=registry, **kwargs)

    remote = rl.RegistryLookup(lambda namespace, name: None, lambda namespace, ca: CA_PEM, client_class=client_class)
    spec = make_spec(insecure=False, destinations=['registry.test:5000/team/rng:1'],
                     registry_ca=[dict(registry='other.test', secret='other-ca')])
    existing(remote, spec, 'registry.test:5000/team/rng:1')
    assert all(kwargs['ca_path'] is None for _method, _url, _headers, kwargs in registry.requests)
    remote.close()


def test_a_ca_that_may_not_be_read_makes_the_lookup_unavailable():
    remote = rl.RegistryLookup(lambda namespace, name: None, lambda namespace, ca: None,
                               client_class=lambda api_host, **kwargs: None)
    spec = make_spec(insecure=False, destinations=['registry.test:5000/team/rng:1'],
                     registry_ca=[dict(registry='registry.test:5000', secret='registry-ca')])
    with pytest.raises(rl.LookupUnavailable) as caught:
        existing(remote, spec, 'registry.test:5000/team/rng:1')
    assert str(caught.value) == ("could not read the CA of registry.test:5000 from Secret 'registry-ca' "
                                 "(registry_ca[0])")
