# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read the Secrets and ConfigMaps that build options name, once per run, and check them before any pod: each
key an option needs is there (git.secret, registry_secret, build_secrets, sign.key_secret, registry_ca)."""

from __future__ import annotations

import base64
import json
import threading
from typing import Dict, Optional, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT, CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError, cluster_error, refusal
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Checked, Warn
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, GitSource, RegistryCA
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:
    ApiException = None  # _k8s.client.require_kubernetes() reports the missing library before anything here runs

PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----'
# A Secret or ConfigMap as read: (its type, {key: text}).
Read = Tuple[Optional[str], Dict[str, str]]


class SecretReader:
    """Reads each Secret (and each ConfigMap, for registry_ca) once per run. Secret values stay here and in
    the files identity/commit.py removes again; they reach no result, log line, argument or environment variable."""

    def __init__(self, core: CoreApi, warn: Warn) -> None:
        self._core = core
        self._warn = warn
        self._read: dict[tuple[str, str, str], Read | None] = {}
        self._lock = threading.Lock()

    def check(self, spec: BuildSpec) -> Checked:
        """The Checked of ``spec``: each Secret and ConfigMap its options name holds the keys they need (raises
        ClusterError naming the option); the key of registry_secret to mount, and cosign.pub of sign.key_secret."""
        return Checked(check_secrets(spec, self), check_sign_secret(spec, self))

    def read(self, namespace: str, name: str, option: str) -> Read | None:
        """(type, {key: text}) of the Secret, or None when it may not be read (403)."""
        with self._lock:
            return self._read_once('Secret', namespace, name, option)

    def read_config_map(self, namespace: str, name: str, option: str) -> dict[str, str] | None:
        """{key: text} of the ConfigMap (data and binaryData), or None when it may not be read (403)."""
        with self._lock:
            read = self._read_once('ConfigMap', namespace, name, option)
        return read[1] if read else None

    def _read_once(self, kind: str, namespace: str, name: str, option: str) -> Read | None:
        key = (kind, namespace, name)
        if key not in self._read:
            reader = self._core.read_namespaced_secret if kind == 'Secret' else self._core.read_namespaced_config_map
            try:
                response = reader(name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                if exc.status == 404:
                    raise ClusterError("{0}: {1} '{2}' was not found in namespace '{3}'; create it there, "
                                       "or correct the name".format(option, kind, name, namespace),
                                       {'option': option}) from exc
                if exc.status == 403:
                    self._warn("Could not read {0} '{1}' ({2}) to check it: {3}".format(
                        kind, name, option, refusal(exc)))
                    self._read[key] = None
                    return None
                raise cluster_error(exc, "read {0} '{1}' ({2})".format(kind, name, option)) from exc
            item = json.loads(response.data)
            data = {}
            encoded = item.get('data') if kind == 'Secret' else item.get('binaryData')
            for entry, value in (encoded or {}).items():
                try:
                    data[entry] = base64.b64decode(value).decode('utf-8', 'replace')
                except (TypeError, ValueError):
                    data[entry] = ''
            if kind == 'ConfigMap':
                data.update((entry, value if isinstance(value, str) else '')
                            for entry, value in (item.get('data') or {}).items())
            self._read[key] = (item.get('type'), data)
        return self._read[key]

    def data(self, namespace: str, name: str) -> dict[str, str] | None:
        """The Secret's decoded data, or None when it is missing or may not be read."""
        try:
            read = self.read(namespace, name, 'secret')
        except ClusterError:
            return None
        return read[1] if read else None

    def registry_ca(self, namespace: str, ca: RegistryCA, option: str = 'registry_ca') -> str | None:
        """The text of the key that holds the CA of ``ca`` (a RegistryCA), or None when its Secret or ConfigMap
        may not be read. Raises ClusterError, naming ``option``, when the object or the key is missing or the
        key holds no PEM certificate."""
        where = '{0}.{1}'.format(option, ca.source)
        if ca.kind == 'Secret':
            read = self.read(namespace, ca.name, where)
            data = read[1] if read else None
        else:
            data = self.read_config_map(namespace, ca.name, where)
        if data is None:
            return None
        if ca.key not in data:
            raise ClusterError("{0}.key: {1} '{2}' has no key '{3}'; put the registry's CA (PEM) under that key, or "
                               "name the key that holds it in {0}.key (it has: {4})".format(
                                   option, ca.kind, ca.name, ca.key, ', '.join(sorted(data)) or 'no keys'),
                               {'option': option + '.key'})
        if PEM_CERTIFICATE not in data[ca.key]:
            raise ClusterError("{0}.key: key '{1}' of {2} '{3}' holds no PEM certificate ({4}); put the registry's CA "
                               "there, as the registry role's kiln_registry_ca fact or a ca.crt file has it".format(
                                   option, ca.key, ca.kind, ca.name, PEM_CERTIFICATE), {'option': option + '.key'})
        return data[ca.key]


def check_sign_secret(spec: BuildSpec, secrets: SecretReader) -> str | None:
    """The Secret of sign.key_secret holds cosign's three keys; return cosign.pub (None: no sign, or not readable)."""
    if not spec.sign:
        return None
    read = secrets.read(spec.namespace, spec.sign.key_secret, 'sign.key_secret')
    if read is None:
        return None
    missing = [key for key in steps.KEYS if key not in read[1]]
    if missing:
        raise ClusterError("sign.key_secret: Secret '{0}' lacks {1}; make the key pair with cosign generate-key-pair "
                           "k8s://{2}/{0}, which writes {3}".format(spec.sign.key_secret, ' and '.join(missing),
                                                                    spec.namespace, ', '.join(steps.KEYS)),
                           {'option': 'sign.key_secret'})
    return read[1][steps.PUBLIC_KEY]


def _secret_keys(spec: BuildSpec, secrets: SecretReader, option: str, name: str) -> tuple[str | None, set[str] | None]:
    """The type and keys of Secret ``name``, or (None, None) when it may not be read."""
    read = secrets.read(spec.namespace, name, option)
    if read is None:
        return None, None
    return read[0], set(read[1])


def _check_git_secret(spec: BuildSpec, secrets: SecretReader) -> None:
    git = cast(GitSource, spec.git)  # with git.secret
    _type, keys = _secret_keys(spec, secrets, 'git.secret', cast(str, git.secret))
    if keys is None:
        return
    if git.repo.transport == 'ssh':
        missing = [key for key in ('ssh-privatekey', 'known_hosts') if key not in keys]
        if missing:
            raise ClusterError("git.secret: Secret '{0}' lacks {1}, which an SSH git.repo needs".format(
                git.secret, ' and '.join(missing)), {'option': 'git.secret'})
    elif 'token' not in keys and not {'username', 'password'} <= keys:
        raise ClusterError("git.secret: Secret '{0}' has neither a key token nor the keys username "
                           "and password".format(git.secret), {'option': 'git.secret'})


def _check_build_secrets(spec: BuildSpec, secrets: SecretReader) -> None:
    """Each key of build_secrets is in its Secret: the kubelet would otherwise hold the pod at its volumes."""
    for index, entry in enumerate(spec.build_secrets):
        option = 'build_secrets[{0}]'.format(index)
        _type, keys = _secret_keys(spec, secrets, option + '.secret', entry.secret)
        if keys is not None and entry.key not in keys:
            raise ClusterError("{0}.key: Secret '{1}' has no key '{2}'; put the value under that key, or give the "
                               "key that holds it instead (it has: {3})".format(
                                   option, entry.secret, entry.key, ', '.join(sorted(keys)) or 'no keys'),
                               {'option': option + '.key'})


def check_secrets(spec: BuildSpec, secrets: SecretReader) -> str:
    """Check the Secrets (and ConfigMaps) the options name; return the key of registry_secret to mount."""
    if spec.git and spec.git.secret:
        _check_git_secret(spec, secrets)
    for index, ca in enumerate(spec.registry_ca):
        secrets.registry_ca(spec.namespace, ca, 'registry_ca[{0}]'.format(index))
    _check_build_secrets(spec, secrets)
    if not spec.registry_secret:
        return render.DOCKERCONFIGJSON
    secret_type, keys = _secret_keys(spec, secrets, 'registry_secret', spec.registry_secret)
    if keys is None:
        return render.DOCKERCONFIGJSON
    if secret_type == 'kubernetes.io/dockerconfigjson' and render.DOCKERCONFIGJSON in keys:
        return render.DOCKERCONFIGJSON
    if render.CONFIG_JSON in keys:
        return render.CONFIG_JSON
    raise ClusterError("registry_secret: Secret '{0}' has neither the key .dockerconfigjson (type "
                       "kubernetes.io/dockerconfigjson) nor config.json".format(spec.registry_secret),
                       {'option': 'registry_secret'})
