# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image references (``[host[:port]/]path[:tag][@digest]``): the one parsed value of the collection.

``ImageReference.parse`` follows ``ParseNormalizedNamed`` of github.com/distribution/reference
(v0.6.0), the parser Docker and containerd use, and its digests follow github.com/opencontainers/go-digest:

- a first component with a '.' or a ':', equal to 'localhost', or holding an upper-case letter
  is the domain; otherwise the image is on Docker Hub (``docker.io``), where a one-component path
  lives under ``library/``; only ``index.docker.io`` is rewritten to ``docker.io``;
- the text is taken as it is: no white space is stripped, and only ASCII is allowed;
- the path (the repository name without the domain) has at most 255 characters; a tag at most 128;
- 64 hexadecimal digits alone are an image ID, not a name;
- a digest is sha256, sha384 or sha512 with exactly 64, 96 or 128 lower-case hex digits.

Where distribution only says "invalid reference format", the message here says which part is wrong.
The regular expressions below are regexp.go's, and are tested with its own test tables.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Match, Optional, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference

DOCKER_HUB = 'docker.io'
LEGACY_DOCKER_HUB = 'index.docker.io'
# Names of Docker Hub in docker config.json ``auths`` keys (credentials, not references).
DOCKER_HUB_ALIASES = ('docker.io', 'index.docker.io', 'registry-1.docker.io')
DOCKER_HUB_API = 'registry-1.docker.io'
OFFICIAL_PREFIX = 'library/'
DEFAULT_TAG = 'latest'
PATH_LENGTH_MAX = 255
TAG_LENGTH_MAX = 128
# go-digest: the algorithms it knows, and the number of lower-case hex digits of each.
DIGEST_LENGTHS = {'sha256': 64, 'sha384': 96, 'sha512': 128}

REFERENCE_EXAMPLE = 'use e.g. registry:5000/team/app:tag'

# regexp.go, piece by piece. Go's \w is ASCII only (re.ASCII), and its ^...$ is fullmatch here.
_ALPHANUMERIC = r'[a-z0-9]+'
_SEPARATOR = r'(?:[._]|__|[-]+)'
_DOMAIN_NAME_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r'(?:\.' + _DOMAIN_NAME_COMPONENT + r')*'
_IPV6_ADDRESS = r'\[(?:[a-fA-F0-9:]+)\]'
_DOMAIN_AND_PORT = r'(?:' + _DOMAIN_NAME + r'|' + _IPV6_ADDRESS + r')(?::[0-9]+)?'
_TAG = r'[\w][\w.-]{0,127}'
_DIGEST = r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}'
_PATH_COMPONENT = _ALPHANUMERIC + r'(?:' + _SEPARATOR + _ALPHANUMERIC + r')*'
_REMOTE_NAME = _PATH_COMPONENT + r'(?:/' + _PATH_COMPONENT + r')*'
_NAME = r'(?:' + _DOMAIN_AND_PORT + r'/)?' + _REMOTE_NAME

# Use each with fullmatch. DomainRegexp; anchoredNameRegexp (groups: domain, path); ReferenceRegexp
# (groups: name, tag, digest); anchoredIdentifierRegexp; and the pieces the messages need.
DOMAIN_RE = re.compile(_DOMAIN_AND_PORT, re.ASCII)
NAME_RE = re.compile(r'(?:(' + _DOMAIN_AND_PORT + r')/)?(' + _REMOTE_NAME + r')', re.ASCII)
REFERENCE_RE = re.compile(r'(' + _NAME + r')(?::(' + _TAG + r'))?(?:@(' + _DIGEST + r'))?', re.ASCII)
IDENTIFIER_RE = re.compile(r'[a-f0-9]{64}', re.ASCII)
TAG_RE = re.compile(_TAG, re.ASCII)
_DIGEST_RE = re.compile(_DIGEST, re.ASCII)
_PATH_COMPONENT_RE = re.compile(_PATH_COMPONENT, re.ASCII)
_LOWER_HEX_RE = re.compile(r'[a-f0-9]+', re.ASCII)


def _invalid(text: object, reason: str | None) -> InvalidReference:
    return InvalidReference("'{0}' is not a valid image reference ({1})".format(text, reason),
                            {'reference': text})


def split_docker_domain(text: str) -> tuple[str, str]:
    """(domain, rest) as Docker splits a reference: splitDockerDomain of normalize.go."""
    first, sep, rest = text.partition('/')
    if not sep:
        return DOCKER_HUB, OFFICIAL_PREFIX + text
    if first == LEGACY_DOCKER_HUB:
        domain = DOCKER_HUB
    elif first == 'localhost' or '.' in first or ':' in first or first.lower() != first:
        domain = first
    else:
        domain, rest = DOCKER_HUB, text
    if domain == DOCKER_HUB and '/' not in rest:
        rest = OFFICIAL_PREFIX + rest
    return domain, rest


def digest_problem(digest: str) -> str | None:
    """Why go-digest refuses ``digest`` (algorithm:encoded), or None when it is a digest."""
    algorithm, _sep, encoded = digest.partition(':')
    expected = DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        return "the digest '{0}' uses the algorithm '{1}'; it must be sha256, sha384 or sha512".format(
            digest, algorithm)
    if len(encoded) != expected or not _LOWER_HEX_RE.fullmatch(encoded):
        return "'{0}' is not a {1} digest; write {1}:<{2} lower-case hex digits>".format(digest, algorithm, expected)
    return None


def _path_problem(path: str) -> str | None:
    if not path:
        return 'the repository path is empty'
    for component in path.split('/'):
        if not _PATH_COMPONENT_RE.fullmatch(component):
            return ("path component '{0}' must be lower-case letters and digits, "
                    "separated by '.', '_', '__' or dashes".format(component))
    return None


def _upper_case_problem(rest: str) -> str | None:
    """What is wrong with a reference whose ``rest`` (split_docker_domain's) is not lower case up to its first ':'."""
    path, at, digest = rest.partition('@')
    if at and ':' not in path and path.lower() == path:  # no tag: the upper case is in the digest's algorithm
        return digest_problem(digest)
    return 'repository names are lower case'


def _grammar_problem(text: str, domain: str, rest: str) -> str:
    """What is wrong with ``text``, which REFERENCE_RE refused; ``domain``, ``rest``: split_docker_domain's."""
    if not text:
        return 'it is empty'
    if any(c.isspace() for c in text):
        return 'it contains white space'
    if '://' in text:
        return 'an image reference has no scheme such as https://; write host[:port]/repository:tag'
    if text.startswith('[') and '/' not in text:
        return 'a registry address needs a repository after it, e.g. [fd00::1]:5000/team/app'
    rest, _at, digest = rest.partition('@')
    if _at and not _DIGEST_RE.fullmatch(digest):
        return "'{0}' is not a digest; write sha256:<64 lower-case hex digits>".format(digest)
    path, colon, tag = rest.partition(':')
    if colon and len(tag) > TAG_LENGTH_MAX:
        return "'{0}' is not a valid tag: it is longer than {1} characters".format(tag, TAG_LENGTH_MAX)
    if colon and not TAG_RE.fullmatch(tag):
        return ("'{0}' is not a valid tag: it may hold only ASCII letters, digits, _, . and - "
                "and must not start with . or -".format(tag))
    if domain != DOCKER_HUB and not DOMAIN_RE.fullmatch(domain):
        return "'{0}' is not a valid registry host[:port]".format(domain)
    return _path_problem(path) or 'it is not [host[:port]/]path[:tag][@digest]'


@dataclasses.dataclass(frozen=True)
class ImageReference:
    """A parsed image reference, as distribution's reference package has it.

    ``domain``: the registry as written, 'docker.io' for Docker Hub ('' only where distribution
    finds no domain, see ``parse``); ``path``: the repository, e.g. 'library/debian'; ``tag`` and
    ``digest``: as written, None when not written.
    """

    domain: str
    path: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    @classmethod
    def parse(cls, text: object, need_registry: bool = False) -> ImageReference:
        """The ImageReference of ``text`` (ParseNormalizedNamed); raises InvalidReference naming what is wrong.

        distribution takes 'a_b.c/app' (a first component with a dot that is no host name) as
        path 'a_b.c/app' without a domain; with ``need_registry`` such a reference is refused.
        """
        if not isinstance(text, str):
            raise _invalid(text, 'it is not a string')
        if IDENTIFIER_RE.fullmatch(text):
            raise _invalid(text, 'it is 64 hexadecimal digits, which is an image ID, not a repository name')
        domain, rest = split_docker_domain(text)
        remote = rest.partition(':')[0]
        if remote.lower() != remote:
            raise _invalid(text, _upper_case_problem(rest))
        match = REFERENCE_RE.fullmatch(domain + '/' + rest)
        if match is None:
            raise _invalid(text, _grammar_problem(text, domain, rest))
        name, tag, digest = match.groups()
        domain, path = cast(Match[str], NAME_RE.fullmatch(name)).groups()  # REFERENCE_RE's name is one
        if len(path) > PATH_LENGTH_MAX:
            raise _invalid(text, 'the repository path is longer than {0} characters ({1})'.format(
                PATH_LENGTH_MAX, len(path)))
        problem = digest_problem(digest) if digest is not None else None
        if problem:
            raise _invalid(text, problem)
        if need_registry and domain is None:
            raise _invalid(text, "'{0}' is not a valid registry host[:port]".format(path.partition('/')[0]))
        return cls(domain or '', path, tag, digest)

    @property
    def name(self) -> str:
        """domain/path (Go's Named.Name())."""
        return '{0}/{1}'.format(self.domain, self.path) if self.domain else self.path

    @property
    def repository(self) -> str:
        """The repository within its registry: what /v2/<repository>/ names."""
        return self.path

    def __str__(self) -> str:
        """name[:tag][@digest] (Go's String())."""
        text = self.name
        if self.tag is not None:
            text += ':' + self.tag
        if self.digest is not None:
            text += '@' + self.digest
        return text

    @property
    def familiar(self) -> str:
        """The short form Docker shows (FamiliarString): docker.io/ and a lone library/ dropped."""
        if self.domain != DOCKER_HUB:
            return str(self)
        path = self.path
        if path.startswith(OFFICIAL_PREFIX) and '/' not in path[len(OFFICIAL_PREFIX):]:
            path = path[len(OFFICIAL_PREFIX):]
        return str(dataclasses.replace(self, domain='', path=path))

    @property
    def api_host(self) -> str:
        """The host[:port] the registry API answers on."""
        return DOCKER_HUB_API if self.domain == DOCKER_HUB else self.domain

    @property
    def manifest_reference(self) -> str:
        """What to ask /v2/<path>/manifests/ for: the digest, else the tag, else 'latest'."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: object) -> ImageReference:
        """This reference with ``tag`` (Go's WithTag); raises InvalidReference for a tag that is not one."""
        if not isinstance(tag, str) or not TAG_RE.fullmatch(tag):
            raise _invalid('{0}:{1}'.format(self.name, tag), "'{0}' is not a valid tag".format(tag))
        return dataclasses.replace(self, tag=tag)

    def with_default_tag(self) -> ImageReference:
        """This reference, tagged 'latest' when it has neither tag nor digest (Go's TagNameOnly)."""
        if self.tag is None and self.digest is None:
            return dataclasses.replace(self, tag=DEFAULT_TAG)
        return self


def registry_host_problem(value: object) -> str | None:
    """Check a registry written as host[:port] (insecure_registries, registry_ca): the domain grammar."""
    if not isinstance(value, str) or not DOMAIN_RE.fullmatch(value):
        return 'it must be a registry host[:port], e.g. registry:5000'
    return None
