# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""RegistryClient against a table-driven stand-in for open_url: auth flows, errors, paging."""

from __future__ import annotations

import socket
from urllib.error import URLError

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient, next_link
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import (
    AuthenticationError,
    RegistryError,
    RegistryUnreachable,
    TagNotDeletable,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import (
    FakeRegistry,
    basic,
    recorded,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fixtures import (
    CONFIG_AMD64,
    MANIFEST_AMD64,
)

OCI = [('Content-Type', 'application/vnd.oci.image.manifest.v1+json')]
CONTENT = {
    '/v2/': ([], b'{}'),
    '/v2/team/app/manifests/1.0': (OCI + [('Docker-Content-Digest', sha256_digest(MANIFEST_AMD64))], MANIFEST_AMD64),
    '/v2/team/app/manifests/' + sha256_digest(MANIFEST_AMD64): (OCI, MANIFEST_AMD64),
    '/v2/team/app/manifests/lying': (OCI, MANIFEST_AMD64),
    '/v2/team/app/blobs/' + sha256_digest(CONFIG_AMD64): ([], CONFIG_AMD64),
    '/v2/team/app/blobs/sha256:' + 'f' * 64: ([], b'not what the digest says'),
    '/v2/team/app/manifests/broken': 500,
}


def client(registry, **kwargs):
    return RegistryClient('registry.test:5000', opener=registry, **kwargs)


def test_anonymous_read_and_request_options():
    registry = FakeRegistry(CONTENT)
    c = client(registry, ca_path='/tmp/ca.pem', timeout=7)
    c.ping()
    body, content_type, digest = c.get_manifest('team/app', '1.0')
    assert body == MANIFEST_AMD64 and digest == sha256_digest(MANIFEST_AMD64)
    assert content_type == 'application/vnd.oci.image.manifest.v1+json'
    method, url, headers, options = registry.requests[-1]
    assert url == 'https://registry.test:5000/v2/team/app/manifests/1.0'
    assert 'application/vnd.oci.image.index.v1+json' in headers['Accept']
    assert 'Authorization' not in headers
    assert options['ca_path'] == '/tmp/ca.pem' and options['timeout'] == 7 and options['validate_certs'] is True
    # Authorization must not follow a redirect to another host (object storage behind blob URLs).
    assert options['unredirected_headers'] == ['Authorization'] and options['follow_redirects'] == 'safe'
    assert options['use_netrc'] is False


def test_missing_manifest_is_none_and_server_errors_raise():
    c = client(FakeRegistry(CONTENT))
    assert c.get_manifest('team/app', '2.0') is None
    with pytest.raises(RegistryError) as err:
        c.get_manifest('team/app', 'broken')
    assert 'HTTP 500' in err.value.message and 'UNKNOWN: boom' in err.value.message


def test_digest_is_checked():
    c = client(FakeRegistry(CONTENT))
    assert c.get_blob('team/app', sha256_digest(CONFIG_AMD64)) == CONFIG_AMD64
    with pytest.raises(RegistryError, match='does not match its digest'):
        c.get_blob('team/app', 'sha256:' + 'f' * 64)
    registry = FakeRegistry(dict(CONTENT, **{'/v2/team/app/manifests/sha256:' + 'e' * 64: (OCI, MANIFEST_AMD64)}))
    with pytest.raises(RegistryError, match='whose digest is'):
        client(registry).get_manifest('team/app', 'sha256:' + 'e' * 64)


def test_digest_computed_when_header_is_missing():
    _body, _type, digest = client(FakeRegistry(CONTENT)).get_manifest('team/app', 'lying')
    assert digest == sha256_digest(MANIFEST_AMD64)


def test_bearer_token_flow_with_credentials():
    registry = FakeRegistry(CONTENT, auth='bearer', users={'ci': 's3cret'})
    c = client(registry, username='ci', password='s3cret')
    c.ping()
    assert c.get_manifest('team/app', '1.0')[0] == MANIFEST_AMD64
    token_requests = [r for r in registry.requests if '/token' in r[1]]
    assert len(token_requests) == 1
    assert token_requests[0][1] == ('https://registry.test:5000/token?service=registry.test'
                                    '&scope=repository%3Ateam%2Fapp%3Apull')
    assert token_requests[0][2]['Authorization'] == basic('ci', 's3cret')
    # The token is reused for the same scope: no second token request.
    c.get_blob('team/app', sha256_digest(CONFIG_AMD64))
    assert len([r for r in registry.requests if '/token' in r[1]]) == 1
    assert registry.requests[-1][2]['Authorization'] == 'Bearer token-1'


def test_bearer_anonymous_token():
    registry = FakeRegistry(CONTENT, auth='bearer')
    assert client(registry).get_manifest('team/app', '1.0') is not None
    token_request = [r for r in registry.requests if '/token' in r[1]][0]
    assert 'Authorization' not in token_request[2]


def test_bearer_refused_credentials():
    registry = FakeRegistry(CONTENT, auth='bearer', users={'ci': 's3cret'})
    with pytest.raises(AuthenticationError) as err:
        client(registry, username='ci', password='wrong').get_manifest('team/app', '1.0')
    assert 'token service https://registry.test:5000/token refused the credentials (HTTP 401)' in err.value.message
    assert 'wrong' not in err.value.message


def test_basic_flow():
    registry = FakeRegistry(CONTENT, auth='basic', users={'ci': 's3cret'})
    c = client(registry, username='ci', password='s3cret')
    c.ping()  # learns that the registry wants Basic: no 401 round trip afterwards
    before = len(registry.requests)
    assert c.get_manifest('team/app', '1.0') is not None
    assert len(registry.requests) == before + 1
    assert registry.requests[-1][2]['Authorization'] == basic('ci', 's3cret')


def test_basic_without_or_with_wrong_credentials():
    registry = FakeRegistry(CONTENT, auth='basic', users={'ci': 's3cret'})
    with pytest.raises(AuthenticationError, match='needs credentials for repository team/app'):
        client(registry).get_manifest('team/app', '1.0')
    with pytest.raises(AuthenticationError) as err:
        client(registry, username='ci', password='nope').get_manifest('team/app', '1.0')
    assert 'refused the credentials for access to repository team/app (HTTP 401)' in err.value.message
    assert 'nope' not in err.value.message


@pytest.mark.parametrize('error, reason', [
    (URLError(ConnectionRefusedError(111, 'Connection refused')), 'Connection refused'),
    (URLError(socket.gaierror(-2, 'Name or service not known')), 'Name or service not known'),
    (socket.timeout('timed out'), 'timed out'),
])
def test_unreachable_names_the_address(error, reason):
    def opener(url, **kwargs):
        raise error
    with pytest.raises(RegistryUnreachable) as err:
        RegistryClient('registry.test:5000', insecure=True, opener=opener).ping()
    assert err.value.message.startswith('cannot reach the registry at http://registry.test:5000: ')
    assert reason in err.value.message
    assert err.value.details == {'registry_address': 'http://registry.test:5000'}


def test_ping_rejects_what_is_not_a_registry():
    with pytest.raises(RegistryError, match='does not look like a registry: GET /v2/ answered HTTP 404'):
        client(FakeRegistry({})).ping()


def test_tags_follow_pages():
    registry = FakeRegistry({
        '/v2/team/app/tags/list?n=2': ([('Link', '</v2/team/app/tags/list?last=b&n=2>; rel="next"')],
                                       b'{"name":"team/app","tags":["a","b"]}'),
        '/v2/team/app/tags/list?last=b&n=2': ([], b'{"name":"team/app","tags":["c"]}'),
    }, auth='bearer')
    assert client(registry).list_tags('team/app', page_size=2) == ['a', 'b', 'c']
    assert client(registry).list_tags('team/none', page_size=2) is None


def test_tags_of_empty_repository():
    registry = FakeRegistry({'/v2/team/app/tags/list?n=1000': ([], b'{"name":"team/app","tags":null}')})
    assert client(registry).list_tags('team/app') == []


@pytest.mark.parametrize('header, expected', [
    ('</v2/a/tags/list?last=x&n=2>; rel="next"', 'https://r/v2/a/tags/list?last=x&n=2'),
    ('<https://other/v2/a/tags/list?last=x>; type="x"; rel=next', 'https://other/v2/a/tags/list?last=x'),
    ('</prev>; rel="prev"', None),
    ('', None),
])
def test_next_link(header, expected):
    assert next_link(header, 'https://r/v2/a/tags/list?n=2') == expected


def test_put_manifest_asks_a_push_token_and_checks_the_digest_the_registry_names():
    registry = FakeRegistry({'/v2/': ([], b'{}')}, auth='bearer', users={'ci': 'push-secret-1'})
    c = client(registry, username='ci', password='push-secret-1')
    body = b'{"schemaVersion":2,"manifests":[]}'
    assert c.put_manifest('team/app', '1.0', body, 'application/vnd.oci.image.index.v1+json') == sha256_digest(body)
    method, url, headers, options = registry.requests[-1]
    assert (method, url) == ('PUT', 'https://registry.test:5000/v2/team/app/manifests/1.0')
    assert headers['Content-Type'] == 'application/vnd.oci.image.index.v1+json' and options['data'] == body
    token = headers['Authorization'].replace('Bearer ', '')
    assert registry.issued[token][1] == ['repository:team/app:pull,push']


def test_put_manifest_refused_says_so():
    registry = FakeRegistry({'/v2/': ([], b'{}'), ('PUT', '/v2/team/app/manifests/1.0'): 403})
    with pytest.raises(RegistryError) as info:
        client(registry).put_manifest('team/app', '1.0', b'{}', 'application/vnd.oci.image.index.v1+json')
    assert info.value.message == ('https://registry.test:5000 answered HTTP 403 when storing the manifest 1.0 of '
                                  'team/app: DENIED: requested access to the resource is denied')


# DELETE of a tag, as distribution 3.1.2 and Debian's 2.8.2 answered it (tests/lab/record_registry.py).
TAGGED = '/v2/team/app/manifests/1.0-linux-amd64'


def tagged_registry(name, scenario, **kwargs):
    content = dict(CONTENT)
    content[TAGGED] = CONTENT['/v2/team/app/manifests/1.0']
    return FakeRegistry(content, deletes=recorded(name, scenario), **kwargs)


def test_distribution_3_deletes_a_tag_and_then_has_none_to_delete():
    registry = tagged_registry('distribution-3.1', 'delete_enabled')
    c = client(registry)
    assert c.delete_tag('team/app', '1.0-linux-amd64') is True
    assert registry.deleted == [TAGGED] and TAGGED not in registry.content
    method, url, _headers, _options = registry.requests[-1]
    assert (method, url) == ('DELETE', 'https://registry.test:5000' + TAGGED)
    assert c.delete_tag('team/app', '1.0-linux-amd64') is False


def test_a_tag_delete_asks_the_token_service_for_delete():
    registry = tagged_registry('distribution-3.1', 'delete_enabled', auth='bearer', users={'u': 'p'})
    assert client(registry, username='u', password='p').delete_tag('team/app', '1.0-linux-amd64') is True
    assert [scopes for _basic, scopes in registry.issued.values()] == [['repository:team/app:delete']]


@pytest.mark.parametrize('name, scenario, reason', [
    ('distribution-2.8', 'delete_enabled', 'it deletes manifests by digest only, not tags (distribution before 3.0) '
                                           '(HTTP 400: DIGEST_INVALID: provided digest did not match uploaded content)'),
    ('distribution-2.8', 'delete_disabled', 'it accepts no deletes (storage.delete.enabled is false, or it is '
                                            'read-only or a pull-through cache) (HTTP 405: UNSUPPORTED: The operation '
                                            'is unsupported.)'),
    ('distribution-3.1', 'delete_disabled', 'it accepts no deletes (storage.delete.enabled is false, or it is '
                                            'read-only or a pull-through cache) (HTTP 405: UNSUPPORTED: The operation '
                                            'is unsupported.)'),
])
def test_a_registry_that_keeps_tags_says_why(name, scenario, reason):
    registry = tagged_registry(name, scenario)
    with pytest.raises(TagNotDeletable) as caught:
        client(registry).delete_tag('team/app', '1.0-linux-amd64')
    assert caught.value.message == 'https://registry.test:5000 keeps the tag 1.0-linux-amd64 of team/app: ' + reason
    assert TAGGED in registry.content


@pytest.mark.parametrize('reference', ['sha256:' + 'a' * 64, 'app@sha256:' + 'a' * 64, '', '-x'])
def test_only_tags_are_deleted_never_a_digest(reference):
    registry = tagged_registry('distribution-3.1', 'delete_enabled')
    with pytest.raises(RegistryError, match='only tags are deleted, never a manifest by digest'):
        client(registry).delete_tag('team/app', reference)
    assert registry.requests == []
