# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The git remote of option git.repo: parsed once, at the edge, into a GitRemote.

Pure: no I/O. parse_git_remote is the only place that reads a git URL; the pod renderer, the
clone script's environment, ``git ls-remote`` on the module's host and the Secret checks all
read the attributes of the GitRemote it returns. It accepts what the clone container can reach
over the network and refuses, with ValidationError('git.repo', ...), what it cannot:

- ``https://``, ``http://``, ``git://`` and ``ssh://`` URLs with a host, an optional user and
  port, and no password (a password in the URL would show in the pod);
- scp-like ``user@host:path``, which git reads as SSH (connect.c: a colon before any slash).

Other schemes (``file://``, ``ftp://``, git's own ``ssh+git://``), local paths and ``host:path``
without a user are refused, and so is what would fail later for a reason known now: a control
character, a port that is not 1 to 65535, a host that starts with '-', and over SSH a user or
path that starts with '-', which git blocks itself as a possible ssh option (connect.c: "strange
hostname/pathname blocked", the fix of CVE-2017-1000117). The scheme reaches git in lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError

OPTION = 'git.repo'
SCHEMES = ('http', 'https', 'git', 'ssh')
# The start of any URL: a scheme and '://' (RFC 3986, section 3.1).
SCHEME_RE = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*)://')
_SCP_LIKE_RE = re.compile(r'^([A-Za-z0-9._~+-]+)@([A-Za-z0-9.-]+):(\S+)$')
_PORT_RE = re.compile(r'^[0-9]{1,5}$')
_NOT_CLONABLE = ("'{0}' is not a URL the cluster can clone; use https://host/path, "
                 "ssh://user@host/path, git://host/path or user@host:path")


@dataclass(frozen=True)
class GitRemote:
    """A git remote the clone container can reach; made by parse_git_remote.

    ``url`` is what git gets (str() gives it too): the text as given, with its scheme in lower
    case, as git needs it (git picks the transport by the scheme as written: ``HTTPS://`` fails
    with "'remote-HTTPS' is not a git command", ``SSH://`` with "protocol 'SSH' is not
    supported", while RFC 3986 section 3.1 says schemes are case-insensitive); ``transport`` is ssh
    (also for user@host:path), https, http or git; ``host`` is as written, an IPv6 address
    without its brackets; ``path`` is what git asks the server for (for ssh and git, a
    leading '/~' becomes '~', as git does).
    """

    url: str
    transport: str
    host: str
    path: str
    port: Optional[int] = None
    user: Optional[str] = None

    def __str__(self) -> str:
        return self.url

    @property
    def credential_scope(self) -> str:
        """``transport://host[:port]``: the URL git's credential.<url>.helper matches, so that
        credentials go to this host (and port) only, whatever the path or user."""
        host = '[{0}]'.format(self.host) if ':' in self.host else self.host
        if self.port is not None:
            host = '{0}:{1}'.format(host, self.port)
        return '{0}://{1}'.format(self.transport, host)


def parse_git_remote(text: str) -> GitRemote:
    """The GitRemote of ``text`` (option git.repo); raises ValidationError naming git.repo and the fix."""
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        raise ValidationError(OPTION, "'{0}' is not a git URL".format(text))
    scheme = SCHEME_RE.match(text)
    remote = _parse_url(text, scheme.group(1).lower()) if scheme else _parse_scp_like(text)
    _refuse_option_like(remote)
    return remote


def _parse_url(text: str, scheme: str) -> GitRemote:
    if scheme not in SCHEMES:
        raise ValidationError(OPTION, "the URL scheme '{0}' is not supported in the cluster; "
                                      "use https://, ssh://, git:// or user@host:path".format(scheme))
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError:  # what urlsplit cannot split, such as an IPv6 address without its closing ']'
        raise ValidationError(OPTION, _NOT_CLONABLE.format(text)) from None
    if not hostname:
        raise ValidationError(OPTION, "'{0}' has no host".format(text))
    if parts.password is not None:
        raise ValidationError(OPTION, 'the URL carries a password or token, which would show in the pod; '
                                      'put it into a Secret and name it in git.secret')
    user, at_sign, authority = parts.netloc.rpartition('@')
    host, port = _host_port(text, authority)
    path = text[len(scheme) + len('://') + len(parts.netloc):]
    return GitRemote(url=scheme + text[len(scheme):], transport=scheme, host=host, path=_git_path(scheme, path),
                     port=port, user=user if at_sign else None)


def _host_port(text: str, authority: str) -> tuple[str, int | None]:
    """(host, port or None) of the host[:port] or [IPv6][:port] of URL ``text``."""
    if authority.startswith('['):
        host, _bracket, rest = authority[1:].partition(']')
    else:
        host, colon, rest = authority.partition(':')
        rest = colon + rest
    if rest and not rest.startswith(':'):
        raise ValidationError(OPTION, _NOT_CLONABLE.format(text))
    port = rest[1:]
    if not port:  # none, or empty as in host:/path, which git reads as the default port
        return host, None
    if not _PORT_RE.match(port) or not 0 < int(port) <= 65535:
        raise ValidationError(OPTION, "'{0}' has the port '{1}'; give a port from 1 to 65535, or none for "
                                      "the default".format(text, port))
    return host, int(port)


def _parse_scp_like(text: str) -> GitRemote:
    match = _SCP_LIKE_RE.match(text)
    if not match:
        raise ValidationError(OPTION, _NOT_CLONABLE.format(text))
    user, host, path = match.groups()
    return GitRemote(url=text, transport='ssh', host=host, path=_git_path('ssh', path), user=user)


def _git_path(transport: str, path: str) -> str:
    """The path git asks the server for: over ssh and git, '/~user/repo' is '~user/repo' (connect.c)."""
    if transport in ('ssh', 'git') and path.startswith('/~'):
        return path[1:]
    return path


def _refuse_option_like(remote: GitRemote) -> None:
    """Refuse what git blocks itself ("strange hostname/pathname blocked") or no server has."""
    parts = [('host', remote.host)]
    if remote.transport == 'ssh':
        parts += [('user', remote.user or ''), ('path', remote.path)]
    for part, value in parts:
        if value.startswith('-'):
            raise ValidationError(OPTION, "'{0}': the {1} '{2}' starts with '-', which git refuses, as it could "
                                          "reach ssh or the server as an option; give the repository's URL as "
                                          "its server shows it".format(remote.url, part, value))
