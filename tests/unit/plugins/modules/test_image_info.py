# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kiln.kaniko.image_info end to end through main(), with open_url answered by a stand-in registry."""

from __future__ import annotations

import json
import ssl
from urllib.error import URLError

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._registry import client
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest
from ansible_collections.kiln.kaniko.plugins.modules import image_info
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import FakeRegistry
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fixtures import (
    CONFIG_AMD64,
    MANIFEST_AMD64,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.modules import module_args

CONTENT = {
    '/v2/': ([], b'{}'),
    '/v2/team/app/manifests/1.0': ([('Content-Type', 'application/vnd.oci.image.manifest.v1+json')], MANIFEST_AMD64),
    '/v2/team/app/blobs/' + sha256_digest(CONFIG_AMD64): ([], CONFIG_AMD64),
    '/v2/team/app/tags/list?n=1000': ([], b'{"name":"team/app","tags":["1.0"]}'),
}


def run_main(capsys, monkeypatch, args, opener, check_mode=False):
    monkeypatch.setattr(client, 'open_url', opener)
    return module_args.run_main(capsys, image_info.main, args, check_mode)


def test_argument_spec_defaults_and_no_log():
    spec = image_info.argument_spec()
    assert spec['password']['no_log'] is True
    result = ArgumentSpecValidator(spec).validate({'reference': 'r:5000/a:b'})
    params = result.validated_parameters
    assert (params['insecure'], params['validate_certs'], params['list_tags'], params['timeout']) == (False, True, False, 30)


def test_found_in_check_mode(capsys, monkeypatch):
    registry = FakeRegistry(CONTENT, auth='basic', users={'ci': 'hunter2'}, scheme='http')
    result = run_main(capsys, monkeypatch, {'reference': 'registry.test:5000/team/app:1.0', 'insecure': True,
                                            'username': 'ci', 'password': 'hunter2', 'list_tags': True},
                      registry, check_mode=True)
    assert result['exists'] is True and result['changed'] is False
    assert result['digest'] == sha256_digest(MANIFEST_AMD64)
    assert result['tags'] == ['1.0']
    assert result['labels']['team'] == 'kiln'
    assert 'hunter2' not in json.dumps(result)


def test_missing_is_not_a_failure(capsys, monkeypatch):
    result = run_main(capsys, monkeypatch, {'reference': 'registry.test:5000/team/app:9.9'}, FakeRegistry(CONTENT))
    assert result.get('failed') is not True and result['exists'] is False


def test_unreachable_fails_naming_the_address(capsys, monkeypatch):
    def opener(url, **kwargs):
        raise URLError(ConnectionRefusedError(111, 'Connection refused'))
    result = run_main(capsys, monkeypatch, {'reference': '198.51.100.2:1/a:b', 'insecure': True}, opener)
    assert result['failed'] is True
    assert result['msg'] == ('reference: cannot reach the registry at http://198.51.100.2:1: [Errno 111] Connection '
                             'refused; check the registry host and port in reference, that the registry runs and '
                             'that this host reaches it')
    assert result['registry_address'] == 'http://198.51.100.2:1'
    assert result['option'] == 'reference'


def test_tls_to_a_plain_http_registry_points_at_insecure(capsys, monkeypatch):
    def opener(url, **kwargs):
        raise URLError(ssl.SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)'))
    result = run_main(capsys, monkeypatch, {'reference': '198.51.100.2:5000/a:b'}, opener)
    assert result['msg'].startswith('insecure: the registry at https://198.51.100.2:5000 does not answer with TLS (')
    assert result['msg'].endswith('; for a plain-HTTP registry set insecure: true')


def test_an_untrusted_certificate_points_at_ca_path(capsys, monkeypatch):
    def opener(url, **kwargs):
        raise URLError(ssl.SSLError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))
    result = run_main(capsys, monkeypatch, {'reference': 'registry.test/a:b'}, opener)
    assert result['msg'].startswith('ca_path: the certificate of the registry at https://registry.test is not trusted')
    assert 'validate_certs: false' in result['msg']


def test_a_missing_ca_file_is_named_before_any_request(capsys, monkeypatch):
    def opener(url, **kwargs):
        raise AssertionError('no request may be made')
    result = run_main(capsys, monkeypatch, {'reference': 'registry.test/a:b', 'ca_path': '/nonexistent/ca.crt'}, opener)
    assert result['msg'].startswith("ca_path: '/nonexistent/ca.crt' does not exist; ")


def test_bad_reference_fails(capsys, monkeypatch):
    result = run_main(capsys, monkeypatch, {'reference': 'https://r/a:b'}, FakeRegistry(CONTENT))
    assert result['failed'] is True and 'no scheme' in result['msg']
    assert result['msg'].startswith('reference: ') and result['option'] == 'reference'


@pytest.mark.parametrize('reference, reason', [
    ('registry.test:5000/app:café', "'café' is not a valid tag: it may hold only ASCII letters, digits, _, . and - "
                                    "and must not start with . or -"),
    ('registry.test:5000/Team/App:1', 'repository names are lower case'),
    ('a_b.c/app', "'a_b.c' is not a valid registry host[:port]"),
])
def test_a_reference_distribution_refuses_fails_before_any_request(capsys, monkeypatch, reference, reason):
    requests = []
    result = run_main(capsys, monkeypatch, {'reference': reference}, lambda url, **kwargs: requests.append(url))
    assert result['msg'] == "reference: '{0}' is not a valid image reference ({1}); use e.g. registry:5000/team/app:tag".format(
        reference, reason)
    assert (result['option'], result['reference'], requests) == ('reference', reference, [])


def test_username_needs_password(capsys, monkeypatch):
    result = run_main(capsys, monkeypatch, {'reference': 'r:5000/a:b', 'username': 'ci'}, FakeRegistry(CONTENT))
    assert result['failed'] is True and 'password' in result['msg']
