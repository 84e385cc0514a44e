# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image references (``host[:port]/repository[:tag][@digest]``), parsed and checked.

The grammar is the one of distribution's reference package: a first component with a dot or a
colon, or ``localhost``, names the registry; without one the image is on Docker Hub, whose
one-component names live under ``library/``.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference

DOCKER_HUB = 'docker.io'
DOCKER_HUB_ALIASES = ('docker.io', 'index.docker.io', 'registry-1.docker.io')
DOCKER_HUB_API = 'registry-1.docker.io'
DEFAULT_TAG = 'latest'

_COMPONENT = re.compile(r'^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$')
_TAG = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
_DIGEST = re.compile(r'^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$')
_DIGEST_LENGTHS = {'sha256': 64, 'sha384': 96, 'sha512': 128}
_HOST = re.compile(
    r'^(?:'
    r'(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*'
    r'|\[[0-9A-Fa-f:.]+\]'
    r')(?::[0-9]{1,5})?$'
)
MAX_NAME = 255


class Reference(namedtuple('Reference', 'registry repository tag digest')):
    """registry as written (``docker.io`` for Docker Hub), repository path, tag or None, digest or None."""

    __slots__ = ()

    @property
    def api_host(self):
        """The host[:port] the registry API answers on."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def manifest_reference(self):
        """What to ask /v2/<name>/manifests/ for: the digest when there is one, else the tag."""
        return self.digest or self.tag

    def __str__(self):
        text = '%s/%s' % (self.registry, self.repository)
        if self.tag:
            text += ':' + self.tag
        if self.digest:
            text += '@' + self.digest
        return text


def validate_digest(digest):
    if not _DIGEST.match(digest or ''):
        raise InvalidReference('%r is not a digest (algorithm:hex, for example sha256:...)' % digest)
    algorithm, encoded = digest.split(':', 1)
    expected = _DIGEST_LENGTHS.get(algorithm)
    if expected is not None and (len(encoded) != expected or not re.match(r'^[a-f0-9]+$', encoded)):
        raise InvalidReference('%r is not a %s digest (%d lower-case hex digits)' % (digest, algorithm, expected))
    return digest


def _is_host(component):
    return '.' in component or ':' in component or component == 'localhost' or component.startswith('[')


def parse_reference(text):
    """A Reference from ``text``; raises InvalidReference naming what is wrong."""
    original = text
    if not isinstance(text, str) or not text.strip():
        raise InvalidReference('an image reference must not be empty')
    text = text.strip()
    if '://' in text:
        raise InvalidReference('%r: an image reference has no scheme; write host/repository:tag' % original)
    if any(c.isspace() for c in text):
        raise InvalidReference('%r: an image reference contains no spaces' % original)

    digest = None
    if '@' in text:
        text, digest = text.rsplit('@', 1)
        validate_digest(digest)

    tag = None
    slash = text.rfind('/')
    colon = text.rfind(':')
    if colon > slash:
        text, tag = text[:colon], text[colon + 1:]
        if not _TAG.match(tag):
            raise InvalidReference('%r: %r is not a valid tag' % (original, tag))

    parts = text.split('/')
    if len(parts) > 1 and _is_host(parts[0]):
        registry, path = parts[0], parts[1:]
        if not _HOST.match(registry):
            raise InvalidReference('%r: %r is not a registry host[:port]' % (original, registry))
        if registry.lower() in DOCKER_HUB_ALIASES:
            registry = DOCKER_HUB
    else:
        registry, path = DOCKER_HUB, parts
    if registry == DOCKER_HUB and len(path) == 1:
        path = ['library'] + path
    for component in path:
        if not _COMPONENT.match(component):
            raise InvalidReference('%r: repository path component %r must be lower-case letters and digits, '
                                   'separated by ".", "_", "__" or "-"' % (original, component))
    repository = '/'.join(path)
    if len(registry) + 1 + len(repository) > MAX_NAME:
        raise InvalidReference('%r: the name is longer than %d characters' % (original, MAX_NAME))
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, repository, tag, digest)
