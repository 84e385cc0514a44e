# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: registry_certificates
short_description: A private CA and a server certificate for a registry, kept while they still fit
version_added: 0.1.0
description:
  - Takes the PEM text a Secret holds now and returns what it should hold.
  - The CA (ECDSA P-256) is kept while it parses, matches its key and is valid for more than O(renew_days);
    otherwise a new one is made, and every client that trusted the old one must be given the new one.
  - The server certificate is kept while it was issued by that CA for exactly O(dns_names) and O(ip_addresses)
    and is valid for more than O(renew_days); otherwise a new key and certificate are issued by the CA.
  - Calling the filter again with its own output and the same names returns the same text, so a task that
    writes the result reports no change.
  - Needs the Python library C(cryptography) on the controller, which ansible-core already requires.
options:
  _input:
    description:
      - What there is now, a dictionary with any of C(ca_crt), C(ca_key), C(tls_crt) and C(tls_key) (PEM text).
        Missing or empty entries are made.
    type: dict
    required: true
  dns_names:
    description: DNS names the server certificate is for.
    type: list
    elements: str
    default: []
  ip_addresses:
    description: IP addresses the server certificate is for.
    type: list
    elements: str
    default: []
  ca_common_name:
    description: Common name of a new CA.
    type: str
    default: kiln registry CA
  ca_days:
    description: Validity of a new CA, in days.
    type: int
    default: 3650
  cert_days:
    description: Validity of a new server certificate, in days (never beyond the CA's).
    type: int
    default: 365
  renew_days:
    description: Certificates valid for fewer days than this are replaced.
    type: int
    default: 30
author:
  - kiln.kaniko maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Certificates for a registry Service
  ansible.builtin.set_fact:
    registry_pki: >-
      {{ current_pki | default({}) | kiln.kaniko.registry_certificates(
           dns_names=['registry', 'registry.registry.svc', 'registry.registry.svc.cluster.local'],
           ip_addresses=['10.96.12.34']) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The CA and server certificate.
  type: dict
  contains:
    ca_crt:
      description: The CA certificate, PEM.
      type: str
    ca_key:
      description: The CA's private key, PEM (PKCS#8, not encrypted).
      type: str
    tls_crt:
      description: The server certificate, PEM.
      type: str
    tls_key:
      description: The server's private key, PEM (PKCS#8, not encrypted).
      type: str
    renewed:
      description: What was made anew, V(ca) and/or V(server); empty when the input was kept.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.kiln.kaniko.plugins.plugin_utils._registry_pki import KEYS, PkiError, ensure


def registry_certificates(value, dns_names=None, ip_addresses=None, ca_common_name='kiln registry CA',
                          ca_days=3650, cert_days=365, renew_days=30):
    if not isinstance(value, dict):
        raise AnsibleFilterError('registry_certificates: the input must be a dictionary (it may be empty)')
    current = dict((key, to_text(value.get(key) or '')) for key in KEYS)
    try:
        return ensure(current, dns_names=dns_names or [], ip_addresses=ip_addresses or [],
                      ca_common_name=ca_common_name, ca_days=int(ca_days), cert_days=int(cert_days),
                      renew_days=int(renew_days))
    except PkiError as exc:
        raise AnsibleFilterError('registry_certificates: %s' % exc) from None


class FilterModule(object):

    def filters(self):
        return {'registry_certificates': registry_certificates}
