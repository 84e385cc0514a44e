# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The credentials of kiln.kaniko.container_build: its own options and files of the module's host.

HostSecrets is the Credentials (engines/base.py) of the podman engine: the git credentials
(spec/container_build.py's GitCredentials) as identity/commit.py's RemoteResolver reads them, the CA files of
registry_ca as their PEM text. check() reads every file an option names before anything is made. The values
stay in memory and in the 0600 files of a build's private directory; an unreadable file raises
ValidationError naming its option.
"""

from __future__ import annotations

from typing import cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Checked
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import GitCredentials
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, RegistryCA

MAX_FILE = 1024 * 1024


def _read(path: str, option: str) -> str:
    try:
        with open(path, 'rb') as handle:
            data = handle.read(MAX_FILE + 1)
    except (IOError, OSError) as exc:
        raise ValidationError(option, 'cannot read {0}: {1}; give a readable file on the host that runs the '
                                      'module'.format(path, exc.strerror or exc)) from exc
    if len(data) > MAX_FILE:
        raise ValidationError(option, '{0} is larger than 1 MiB; give the file itself'.format(path))
    return data.decode('utf-8', 'replace')


class HostSecrets:
    """The credentials of one build's options; ``credentials`` is a GitCredentials or None."""

    def __init__(self, credentials: GitCredentials | None = None) -> None:
        self.credentials = credentials
        self._data: dict[str, str] | None = None
        self._cas: dict[str, str] = {}

    def data(self, namespace: str | None, name: str) -> dict[str, str] | None:
        """The git credentials as the keys of a git.secret Secret (token, username, password, ssh-privatekey,
        known_hosts), or None when ``name`` is not theirs."""
        del namespace
        found = self.credentials
        if found is None or name != found.option:
            return None
        if self._data is None:
            data = {}
            for key, value in (('token', found.token), ('username', found.username), ('password', found.password)):
                if value:
                    data[key] = value
            if found.key_file:
                data['ssh-privatekey'] = _read(found.key_file, 'git.key_file')
                data['known_hosts'] = _read(cast(str, found.known_hosts_file), 'git.known_hosts_file')  # with key_file
            self._data = data
        return self._data

    def check(self, spec: BuildSpec) -> Checked:
        """Read the files the options of ``spec`` name (git.key_file, git.known_hosts_file, registry_ca[].path),
        so that one that cannot be read fails before anything is made. The docker config is the module's own."""
        if spec.git and spec.git.secret:
            self.data(spec.namespace, spec.git.secret)
        for index, ca in enumerate(spec.registry_ca):
            self.registry_ca(spec.namespace, ca, 'registry_ca[{0}]'.format(index))
        return Checked(render.DOCKERCONFIGJSON)

    def registry_ca(self, namespace: str | None, ca: RegistryCA, option: str = 'registry_ca') -> str:
        """The PEM text of the CA file of ``ca`` (a RegistryCA of kind File)."""
        del namespace
        if ca.name not in self._cas:
            text = _read(ca.name, option + '.path')
            if 'BEGIN CERTIFICATE' not in text:
                raise ValidationError(option + '.path', '{0} holds no PEM certificate (-----BEGIN CERTIFICATE-----); '
                                                        'give the CA of {1} in PEM'.format(ca.name, ca.registry))
            self._cas[ca.name] = text
        return self._cas[ca.name]
