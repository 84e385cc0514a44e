# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ansible.errors import AnsibleFilterError

from ansible_collections.kiln.kaniko.plugins.filter.registry_certificates import registry_certificates
from ansible_collections.kiln.kaniko.plugins.plugin_utils import _registry_pki

DNS = ['registry', 'registry.kiln.svc', 'Registry.kiln.svc.cluster.local.']
IPS = ['10.96.0.20', '198.51.100.2']


def load(pem):
    return x509.load_pem_x509_certificate(pem.encode())


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(ext.get_values_for_type(x509.DNSName)), sorted(str(i) for i in ext.get_values_for_type(x509.IPAddress))


def test_new_ca_and_server_certificate():
    result = registry_certificates({}, dns_names=DNS, ip_addresses=IPS)
    assert result['renewed'] == ['ca', 'server']
    ca, server = load(result['ca_crt']), load(result['tls_crt'])
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert sans(server) == (['registry', 'registry.kiln.svc', 'registry.kiln.svc.cluster.local'], IPS)
    assert server.issuer == ca.subject
    ca.public_key().verify(server.signature, server.tbs_certificate_bytes, ec.ECDSA(server.signature_hash_algorithm))
    assert 'PRIVATE KEY' in result['tls_key'] and 'PRIVATE KEY' in result['ca_key']


def test_second_call_keeps_everything():
    first = registry_certificates({}, dns_names=DNS, ip_addresses=IPS)
    second = registry_certificates(first, dns_names=list(reversed(DNS)), ip_addresses=list(reversed(IPS)))
    assert second['renewed'] == []
    assert {k: second[k] for k in _registry_pki.KEYS} == {k: first[k] for k in _registry_pki.KEYS}


def test_new_names_reissue_the_server_certificate_with_the_same_ca():
    first = registry_certificates({}, dns_names=DNS, ip_addresses=IPS[:1])
    second = registry_certificates(first, dns_names=DNS, ip_addresses=IPS)
    assert second['renewed'] == ['server']
    assert second['ca_crt'] == first['ca_crt'] and second['tls_crt'] != first['tls_crt']
    assert sans(load(second['tls_crt']))[1] == IPS


def test_expiring_server_certificate_is_renewed():
    first = registry_certificates({}, dns_names=DNS, cert_days=40)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=15)
    assert _registry_pki.ensure(first, dns_names=DNS, now=later, cert_days=40)['renewed'] == ['server']


def test_expiring_ca_is_replaced():
    first = registry_certificates({}, dns_names=DNS, ca_days=60, cert_days=40)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=45)
    assert _registry_pki.ensure(first, dns_names=DNS, now=later, ca_days=60, cert_days=40)['renewed'] == ['ca', 'server']


def test_server_certificate_of_another_ca_or_key_is_replaced():
    first = registry_certificates({}, dns_names=DNS)
    other = registry_certificates({}, dns_names=DNS)
    mixed = dict(first, tls_crt=other['tls_crt'], tls_key=other['tls_key'])
    assert registry_certificates(mixed, dns_names=DNS)['renewed'] == ['server']
    wrong_key = dict(first, tls_key=other['tls_key'])
    assert registry_certificates(wrong_key, dns_names=DNS)['renewed'] == ['server']
    garbage = dict(first, ca_crt='not a certificate')
    assert registry_certificates(garbage, dns_names=DNS)['renewed'] == ['ca', 'server']


def test_server_certificate_never_outlives_its_ca():
    result = registry_certificates({}, dns_names=DNS, ca_days=100, cert_days=100)
    assert load(result['tls_crt']).not_valid_after_utc <= load(result['ca_crt']).not_valid_after_utc


@pytest.mark.parametrize('value, kwargs, message', [
    ('x', {}, 'must be a dictionary'),
    ({}, {}, 'at least one DNS name or IP address'),
    ({}, {'ip_addresses': ['not-an-ip']}, 'is not an IP address'),
    ({}, {'dns_names': ['a'], 'cert_days': 10, 'renew_days': 30}, 'renew_days'),
])
def test_invalid(value, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        registry_certificates(value, **kwargs)
