# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Grammars the build options must follow, as pure checks.

- Kubernetes quantities (resource requests and limits);
- Kubernetes names, label keys and values;
- Go durations (kaniko's --cache-ttl).

Each check returns None when the value is fine, else the reason it is not. Image references and
registry hosts are _registry/reference.py's (ImageReference, registry_host_problem).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Callable, Optional

# A check of a value: None when it is fine, else the reason it is not.
Check = Callable[[str], Optional[str]]

# Kubernetes quantities: <signed number><suffix>; suffix is a binary SI unit (Ki..Ei),
# a decimal SI unit (m, k, M..E, or none) or a decimal exponent (e3, E-2).
_QUANTITY_RE = re.compile(
    r'^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))'
    r'(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$')
_QUANTITY_MULTIPLIERS = {
    None: Decimal(1), 'm': Decimal('0.001'), 'k': Decimal(10) ** 3, 'M': Decimal(10) ** 6,
    'G': Decimal(10) ** 9, 'T': Decimal(10) ** 12, 'P': Decimal(10) ** 15, 'E': Decimal(10) ** 18,
    'Ki': Decimal(2) ** 10, 'Mi': Decimal(2) ** 20, 'Gi': Decimal(2) ** 30, 'Ti': Decimal(2) ** 40,
    'Pi': Decimal(2) ** 50, 'Ei': Decimal(2) ** 60,
}


def parse_quantity(value: object) -> Decimal | None:
    """Return the Decimal value of a Kubernetes quantity string, or None if it is not one."""
    if not isinstance(value, str):
        return None
    match = _QUANTITY_RE.match(value)
    if not match:
        return None
    suffix = match.group('suffix')
    try:
        number = Decimal(match.group('number'))
        if suffix in _QUANTITY_MULTIPLIERS:
            return number * _QUANTITY_MULTIPLIERS[suffix]
        return number * (Decimal(10) ** int(suffix[1:]))  # a decimal exponent: e3, E-2
    except (InvalidOperation, OverflowError):
        return None


_DNS_LABEL_RE = re.compile(r'^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$')
_DNS_SUBDOMAIN_RE = re.compile(r'^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$')
_QUALIFIED_NAME_RE = re.compile(r'^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$')


def dns_label_problem(value: object, max_length: int = 63) -> str | None:
    """Check an RFC 1123 label (namespace names, name prefixes)."""
    if not isinstance(value, str) or not _DNS_LABEL_RE.match(value):
        return 'it must be lower-case letters, digits and -, starting and ending with a letter or digit'
    if len(value) > max_length:
        return 'it must be at most {0} characters'.format(max_length)
    return None


_CONFIG_KEY_RE = re.compile(r'^[-._a-zA-Z0-9]+$')


def is_config_key(key: str) -> bool:
    """Whether ``key`` can be a key of a Secret or ConfigMap (Kubernetes' IsConfigMapKey): letters, digits, '-',
    '_' and '.', at most 253 characters, not '.' and not starting with '..'."""
    return bool(_CONFIG_KEY_RE.match(key)) and len(key) <= 253 and key != '.' and not key.startswith('..')


def dns_subdomain_problem(value: object) -> str | None:
    """Check an RFC 1123 subdomain (names of Secrets, service accounts, priority classes)."""
    if not isinstance(value, str) or not _DNS_SUBDOMAIN_RE.match(value) or len(value) > 253:
        return ('it must be a Kubernetes object name: lower-case letters, digits, - and ., '
                'at most 253 characters')
    return None


def label_key_problem(key: object) -> str | None:
    """Check a label or annotation key: [prefix/]name."""
    if not isinstance(key, str) or not key:
        return 'keys must be non-empty strings'
    prefix, sep, name = key.rpartition('/')
    if sep and dns_subdomain_problem(prefix):
        return "key '{0}': the prefix must be a DNS subdomain".format(key)
    if not _QUALIFIED_NAME_RE.match(name) or len(name) > 63:
        return ("key '{0}': the name must be at most 63 letters, digits, -, _ or ., "
                "starting and ending with a letter or digit".format(key))
    return None


def label_value_problem(value: object) -> str | None:
    """Check a label value: empty, or at most 63 letters, digits, -, _ or ."""
    if not isinstance(value, str):
        return 'values must be strings'
    if value and (not _QUALIFIED_NAME_RE.match(value) or len(value) > 63):
        return ("value '{0}' must be at most 63 letters, digits, -, _ or ., "
                "starting and ending with a letter or digit".format(value))
    return None


_GO_DURATION_RE = re.compile(r'^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|\u00b5s|ms|s|m|h))+$')


def go_duration_problem(value: object) -> str | None:
    """Check a Go duration such as 336h or 1h30m (kaniko flags take them)."""
    if not isinstance(value, str) or not _GO_DURATION_RE.match(value):
        return 'it must be a duration such as 336h, 90m or 1h30m'
    return None
