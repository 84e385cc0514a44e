# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Grammars the build options must follow, as pure checks.

- image references: the distribution reference grammar
  (domain[:port]/path[:tag][@digest]), with Docker's rule for telling a domain
  from the first path component: it holds a '.' or a ':', or is 'localhost';
- Kubernetes quantities (resource requests and limits);
- Kubernetes names, label keys and values;
- Go durations (kaniko's --cache-ttl).

Each check returns None when the value is fine, else the reason it is not.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

NAME_TOTAL_LENGTH_MAX = 255
TAG_LENGTH_MAX = 128

_DOMAIN_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_DOMAIN_NAME = _DOMAIN_COMPONENT + r'(?:\.' + _DOMAIN_COMPONENT + r')*'
_IPV6 = r'\[[a-fA-F0-9:]+\]'
_HOST = r'(?:' + _DOMAIN_NAME + r'|' + _IPV6 + r')'
_DOMAIN_RE = re.compile(r'^' + _HOST + r'(?::[0-9]+)?$')
_PATH_COMPONENT_RE = re.compile(r'^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$')
_TAG_RE = re.compile(r'^[\w][\w.-]{0,127}$')
_DIGEST_RE = {
    'sha256': re.compile(r'^[a-f0-9]{64}$'),
    'sha512': re.compile(r'^[a-f0-9]{128}$'),
}


class ImageReference(object):
    """A parsed image reference; ``repository`` is domain/path without tag or digest."""

    __slots__ = ('domain', 'path', 'tag', 'digest')

    def __init__(self, domain, path, tag, digest):
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest

    @property
    def repository(self):
        return '{0}/{1}'.format(self.domain, self.path) if self.domain else self.path


def parse_image_reference(value):
    """Parse ``value``; return (ImageReference, None) or (None, reason)."""
    if not isinstance(value, str) or not value:
        return None, 'it is empty'
    if value != value.strip() or any(c.isspace() for c in value):
        return None, 'it contains white space'

    remainder, digest = value, None
    if '@' in value:
        remainder, digest = value.split('@', 1)
        algorithm, _sep, encoded = digest.partition(':')
        if algorithm not in _DIGEST_RE:
            return None, 'the digest must be sha256:<64 hex digits>'
        if not _DIGEST_RE[algorithm].match(encoded):
            return None, 'the digest must be {0}:<{1} lower-case hex digits>'.format(
                algorithm, 64 if algorithm == 'sha256' else 128)

    tag = None
    last_slash = remainder.rfind('/')
    last_colon = remainder.rfind(':')
    if last_colon > last_slash:
        remainder, tag = remainder[:last_colon], remainder[last_colon + 1:]
        if len(tag) > TAG_LENGTH_MAX:
            return None, 'the tag is longer than {0} characters'.format(TAG_LENGTH_MAX)
        if not _TAG_RE.match(tag):
            return None, 'the tag may hold only letters, digits, _, . and - and must not start with . or -'

    domain, path = None, remainder
    first, sep, rest = remainder.partition('/')
    if sep and ('.' in first or ':' in first or first == 'localhost'):
        domain, path = first, rest
        if not _DOMAIN_RE.match(domain):
            return None, "'{0}' is not a valid registry host[:port]".format(domain)
    if not path:
        return None, 'the repository path is empty'
    if len(remainder) > NAME_TOTAL_LENGTH_MAX:
        return None, 'the name is longer than {0} characters'.format(NAME_TOTAL_LENGTH_MAX)
    if path != path.lower():
        return None, 'repository names are lower case'
    for component in path.split('/'):
        if not _PATH_COMPONENT_RE.match(component):
            return None, ("path component '{0}' must be lower-case letters and digits, "
                          "separated by '.', '_', '__' or dashes".format(component))
    return ImageReference(domain, path, tag, digest), None


def registry_host_problem(value):
    """Check a registry written as host[:port] (insecure_registries)."""
    if not isinstance(value, str) or not _DOMAIN_RE.match(value):
        return 'it must be a registry host[:port], e.g. registry:5000'
    return None


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


def parse_quantity(value):
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


def dns_label_problem(value, max_length=63):
    """Check an RFC 1123 label (namespace names, name prefixes)."""
    if not isinstance(value, str) or not _DNS_LABEL_RE.match(value):
        return 'it must be lower-case letters, digits and -, starting and ending with a letter or digit'
    if len(value) > max_length:
        return 'it must be at most {0} characters'.format(max_length)
    return None


def dns_subdomain_problem(value):
    """Check an RFC 1123 subdomain (names of Secrets, service accounts, priority classes)."""
    if not isinstance(value, str) or not _DNS_SUBDOMAIN_RE.match(value) or len(value) > 253:
        return ('it must be a Kubernetes object name: lower-case letters, digits, - and ., '
                'at most 253 characters')
    return None


def label_key_problem(key):
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


def label_value_problem(value):
    """Check a label value: empty, or at most 63 letters, digits, -, _ or ."""
    if not isinstance(value, str):
        return 'values must be strings'
    if value and (not _QUALIFIED_NAME_RE.match(value) or len(value) > 63):
        return ("value '{0}' must be at most 63 letters, digits, -, _ or ., "
                "starting and ending with a letter or digit".format(value))
    return None


_GO_DURATION_RE = re.compile(r'^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|\u00b5s|ms|s|m|h))+$')


def go_duration_problem(value):
    """Check a Go duration such as 336h or 1h30m (kaniko flags take them)."""
    if not isinstance(value, str) or not _GO_DURATION_RE.match(value):
        return 'it must be a duration such as 336h, 90m or 1h30m'
    return None
