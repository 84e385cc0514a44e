# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A private CA and a server certificate for a registry, kept as long as they still fit.

Runs on the controller with ``cryptography``, which ansible-core itself requires, so nothing is added.
``ensure()`` takes what a Secret holds now and returns what it should hold: the same PEM text
while the CA is valid and the server certificate was issued by it for exactly the names asked for
and is not about to expire, new PEM text otherwise. The CA is only replaced when it is missing,
unusable or about to expire, because every node and client that trusts it would have to be told.
"""

from __future__ import annotations

import datetime
import ipaddress

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - ansible-core depends on cryptography
    HAS_CRYPTOGRAPHY = False

KEYS = ('ca_crt', 'ca_key', 'tls_crt', 'tls_key')


class PkiError(ValueError):
    """Input the certificates cannot be made from."""


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _not_after(cert):
    try:
        return cert.not_valid_after_utc
    except AttributeError:  # cryptography < 42
        return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode('ascii')


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def _public_bytes(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load(cert_pem, key_pem):
    """(cert, key) when both parse and belong together, else None."""
    if not cert_pem or not key_pem:
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode('ascii'))
        key = serialization.load_pem_private_key(key_pem.encode('ascii'), password=None)
    except (ValueError, TypeError, UnicodeError):
        return None
    if _public_bytes(cert.public_key()) != _public_bytes(key.public_key()):
        return None
    return cert, key


def _san(cert):
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return (set(names.get_values_for_type(x509.DNSName)),
            set(str(ip) for ip in names.get_values_for_type(x509.IPAddress)))


def _issued_by(cert, ca_cert):
    if cert.issuer != ca_cert.subject:
        return False
    try:
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except (InvalidSignature, TypeError, ValueError, AttributeError):
        return False
    return True


def normalise_names(dns_names, ip_addresses):
    """Sorted, de-duplicated DNS names (lower case) and IP addresses (canonical text)."""
    dns = sorted(set(str(name).strip().lower().rstrip('.') for name in dns_names or [] if str(name).strip()))
    ips = set()
    for address in ip_addresses or []:
        address = str(address).strip()
        if not address:
            continue
        try:
            ips.add(str(ipaddress.ip_address(address)))
        except ValueError:
            raise PkiError('%r is not an IP address' % address) from None
    if not dns and not ips:
        raise PkiError('a server certificate needs at least one DNS name or IP address')
    return dns, sorted(ips, key=lambda ip: (ipaddress.ip_address(ip).version, ipaddress.ip_address(ip)))


def _new_ca(common_name, days, now):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _new_server_cert(ca_cert, ca_key, dns, ips, days, now):
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = dns[0] if dns else ips[0]
    alt_names = [x509.DNSName(name) for name in dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(min(now + datetime.timedelta(days=days), _not_after(ca_cert)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def ensure(current, dns_names=(), ip_addresses=(), ca_common_name='kiln registry CA',
           ca_days=3650, cert_days=365, renew_days=30, now=None):
    """The CA and server certificate a registry should have, as PEM text.

    ``current`` is a dict with any of ca_crt, ca_key, tls_crt, tls_key (PEM text); the result has all four,
    and ``renewed`` (a list naming what was made anew: ``ca``, ``server``).
    """
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        raise PkiError('the Python library cryptography is needed on the controller to make certificates')
    if not 1 <= renew_days < cert_days <= ca_days:
        raise PkiError('need 1 <= renew_days < cert_days <= ca_days')
    now = now or _utcnow()
    current = dict(current or {})
    dns, ips = normalise_names(dns_names, ip_addresses)
    margin = now + datetime.timedelta(days=renew_days)
    renewed = []

    ca = _load(current.get('ca_crt'), current.get('ca_key'))
    if ca is None or _not_after(ca[0]) <= margin:
        ca = _new_ca(ca_common_name, ca_days, now)
        renewed.append('ca')
    ca_cert, ca_key = ca

    server = None if renewed else _load(current.get('tls_crt'), current.get('tls_key'))
    if (server is None or not _issued_by(server[0], ca_cert) or _san(server[0]) != (set(dns), set(ips))
            or _not_after(server[0]) <= margin):
        server = _new_server_cert(ca_cert, ca_key, dns, ips, cert_days, now)
        renewed.append('server')

    if 'ca' in renewed:
        result_ca_crt, result_ca_key = _pem_cert(ca_cert), _pem_key(ca_key)
    else:
        result_ca_crt, result_ca_key = current['ca_crt'], current['ca_key']
    if 'server' in renewed:
        result_crt, result_key = _pem_cert(server[0]), _pem_key(server[1])
    else:
        result_crt, result_key = current['tls_crt'], current['tls_key']
    return {
        'ca_crt': result_ca_crt,
        'ca_key': result_ca_key,
        'tls_crt': result_crt,
        'tls_key': result_key,
        'renewed': renewed,
    }
