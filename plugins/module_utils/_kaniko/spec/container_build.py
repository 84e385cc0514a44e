# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kiln.kaniko.container_build's parameters -> the BuildSpec kiln.kaniko.build would make: pure, no I/O.

The build's own options go through spec_build.build_spec, the same checks in the same order; what only a pod
has is given as absent (no namespace, no pod options, no Secrets, no clone image) and the pod is never kept.
The git credentials, which build reads from the Secret git.secret, are options here: they become a
GitCredentials whose values stand in for that Secret's keys (token, username, password, ssh-privatekey,
known_hosts), so that the resolver (git ls-remote) and the clone script use them as they use the Secret's.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import Any, Mapping, Optional

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, RegistryCA

# The kind of a RegistryCA read from a file of the module's host (its name is the file's path).
CA_FILE = 'File'


@dataclasses.dataclass(frozen=True)
class GitCredentials:
    """The git options that authenticate the clone; ``option`` is the one that names them in messages."""

    option: str
    token: Optional[str] = dataclasses.field(default=None, repr=False)
    username: Optional[str] = None
    password: Optional[str] = dataclasses.field(default=None, repr=False)
    key_file: Optional[str] = None
    known_hosts_file: Optional[str] = None


def _ca_file(where: str, registry: str, item: Mapping[str, Any]) -> RegistryCA:
    path = item.get('path') or ''
    if not path.startswith('/'):
        raise ValidationError(where + '.path', "'{0}' is not an absolute path; give the PEM file of the CA on the "
                                               "host that runs the module, such as /etc/ssl/registry-ca.pem".format(path))
    return RegistryCA(registry=registry, kind=CA_FILE, name=posixpath.normpath(path), key='')


def _credentials(git: Mapping[str, Any], transport: str) -> GitCredentials | None:
    """The GitCredentials of the git options, or None without any; checks that they fit git.repo."""
    given: dict[str, Any] = dict((key, git.get(key))
                                 for key in ('token', 'username', 'password', 'key_file', 'known_hosts_file'))
    if not any(value for value in given.values()):
        if transport == 'ssh':
            raise ValidationError('git.key_file', 'git.repo is an SSH URL: give git.key_file (the private key) and '
                                                  'git.known_hosts_file (the host keys of the server)')
        return None
    if transport == 'ssh':
        for option in ('token', 'username', 'password'):
            if given[option]:
                raise ValidationError('git.' + option, 'has no use with an SSH git.repo; give git.key_file and '
                                                       'git.known_hosts_file')
        for option in ('key_file', 'known_hosts_file'):
            if not given[option] or not given[option].startswith('/'):
                raise ValidationError('git.' + option, 'an SSH git.repo needs git.key_file and git.known_hosts_file, '
                                                       'absolute paths of files on the host that runs the module')
        return GitCredentials(option='git.key_file', key_file=given['key_file'],
                              known_hosts_file=given['known_hosts_file'])
    for option in ('key_file', 'known_hosts_file'):
        if given[option]:
            raise ValidationError('git.' + option, 'goes with an SSH git.repo (ssh://... or user@host:path); give '
                                                   'git.token, or git.username and git.password, for this one')
    if given['token']:
        if given['password']:
            raise ValidationError('git.password', 'give git.token or git.password, not both')
        return GitCredentials(option='git.token', token=given['token'], username=given['username'])
    if not given['username'] or not given['password']:
        missing = 'git.password' if given['username'] else 'git.username'
        raise ValidationError(missing, 'git.username and git.password go together (or give git.token)')
    for option in ('username', 'password'):
        if '\n' in given[option]:
            raise ValidationError('git.' + option, 'must be one line')
    return GitCredentials(option='git.username', username=given['username'], password=given['password'])


def build_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters build_spec expects, from container_build's: the pod's options absent."""
    merged = dict(params)
    merged.update(namespace=None, pod=None, keep_pod='never', unschedulable_timeout=params['timeout'], retries=0,
                  git_image=None, platforms=None, cross_build=False, registry_secret=None, build_secrets=None,
                  sign=None, sbom=None, cosign_image=None, syft_image=None)
    if params.get('git'):
        merged['git'] = dict(params['git'], secret=None)
    return merged


def container_spec(params: Mapping[str, Any]) -> tuple[BuildSpec, GitCredentials | None]:
    """(BuildSpec, GitCredentials or None) from container_build's parameters; raises ValidationError."""
    spec = build_spec(build_params(params), ca_source=_ca_file)
    if spec.tarball and not spec.tarball.dest:
        raise ValidationError('tarball.dest', 'is required')
    credentials = None
    if spec.git:
        credentials = _credentials(params['git'], spec.git.repo.transport)
        if credentials is not None:
            spec = dataclasses.replace(spec, git=dataclasses.replace(spec.git, secret=credentials.option))
    return spec, credentials
