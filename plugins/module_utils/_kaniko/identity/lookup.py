# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read the labels of the images a build's destinations hold, from the host that runs the module.

Uses the read-only registry client of _registry with the credentials the build pushes with
(registry_auth, or the docker config of registry_secret read from the cluster), over HTTP for
the registries the build pushes to over HTTP, and over HTTPS trusting the CA of registry_ca (read
from its Secret or ConfigMap, and written to a file of a private directory that close() removes,
because ansible.module_utils.urls takes a CA as a file). A registry that cannot be asked raises
LookupUnavailable; the caller then builds without skipping.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import threading
from typing import Callable, Hashable, Optional, TypeVar

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import Existing
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import ReadSecret
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import platforms
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, RegistryCA
from ansible_collections.kiln.kaniko.plugins.module_utils._registry import manifests
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError, RegistryUnreachable
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import (
    DOCKER_HUB,
    DOCKER_HUB_ALIASES,
    ImageReference,
)

TIMEOUT_SECONDS = 10
_T = TypeVar('_T')
_DOCKER_CONFIG_KEYS = ('.dockerconfigjson', 'config.json')


class LookupUnavailable(Exception):
    """The registry could not be asked; the message says why."""


# read_ca(namespace, ca): the PEM text of a RegistryCA, or None when it may not be read.
ReadCA = Callable[[str, RegistryCA], Optional[str]]


def _server_host(server: str) -> str:
    """The host[:port] of a docker config ``auths`` key (``https://index.docker.io/v1/``, ``ghcr.io``)."""
    text = server.split('://', 1)[-1].split('/', 1)[0].lower()
    return DOCKER_HUB if text in DOCKER_HUB_ALIASES else text


def docker_config_credentials(text: str, registry: str) -> tuple[str, str] | None:
    """(username, password) for ``registry`` from a docker config.json, or None."""
    try:
        auths = json.loads(text).get('auths') or {}
    except (ValueError, AttributeError):
        return None
    for server, entry in auths.items():
        if _server_host(server) != _server_host(registry) or not isinstance(entry, dict):
            continue
        if entry.get('username') and entry.get('password'):
            return entry['username'], entry['password']
        if entry.get('auth'):
            try:
                pair = base64.b64decode(entry['auth']).decode('utf-8')
            except (ValueError, UnicodeDecodeError):
                return None
            username, sep, password = pair.partition(':')
            return (username, password) if sep else None
    return None


class RegistryLookup:
    """``read_secret(namespace, name)`` returns a Secret's decoded data or None when it may not be read;
    ``read_ca(namespace, ca)`` the PEM text of a RegistryCA (registry_ca) or None when it may not be read."""

    def __init__(self, read_secret: ReadSecret, read_ca: ReadCA | None = None,
                 client_class: Callable[..., RegistryClient] = RegistryClient,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self._read_secret = read_secret
        self._read_ca = read_ca
        self._client_class = client_class
        self._timeout = timeout
        self._clients: dict[Hashable, RegistryClient] = {}
        self._failures: dict[Hashable, str] = {}
        self._ca_dir: str | None = None
        self._ca_files: dict[str, str] = {}
        self._lock = threading.Lock()

    def _credentials(self, spec: BuildSpec, registry: str) -> tuple[str, str] | None:
        for credential in spec.registry_auth:
            if _server_host(credential.server) == _server_host(registry):
                return credential.username, credential.password
        if spec.registry_secret:
            data = self._read_secret(spec.namespace, spec.registry_secret) or {}
            for key in _DOCKER_CONFIG_KEYS:
                if data.get(key):
                    return docker_config_credentials(data[key], registry)
        return None

    def _ca_path(self, spec: BuildSpec, registry: str) -> str | None:
        """The file of the CA that registry_ca gives for ``registry``, or None when it gives none."""
        for index, ca in enumerate(spec.registry_ca):
            if ca.registry.lower() != registry.lower():
                continue
            text = self._read_ca(spec.namespace, ca) if self._read_ca else None
            if text is None:
                raise LookupUnavailable("could not read the CA of {0} from {1} '{2}' (registry_ca[{3}])".format(
                    registry, ca.kind, ca.name, index))
            with self._lock:
                if text not in self._ca_files:
                    if self._ca_dir is None:
                        self._ca_dir = tempfile.mkdtemp(prefix='kiln-registry-ca-')
                    path = os.path.join(self._ca_dir, '{0}.crt'.format(len(self._ca_files)))
                    with open(path, 'w') as handle:
                        handle.write(text)
                    self._ca_files[text] = path
                return self._ca_files[text]
        return None

    def close(self) -> None:
        """Remove the CA files."""
        with self._lock:
            if self._ca_dir is not None:
                shutil.rmtree(self._ca_dir, ignore_errors=True)
            self._ca_dir = None
            self._ca_files = {}
            self._clients = {}

    def _client(self, spec: BuildSpec, ref: ImageReference) -> tuple[Hashable, RegistryClient]:
        plain_http = spec.insecure or ref.domain in spec.insecure_registries
        ca_path = None if plain_http or spec.skip_tls_verify else self._ca_path(spec, ref.domain)
        credentials = self._credentials(spec, ref.domain) or (None, None)
        key = (ref.api_host, plain_http, spec.skip_tls_verify, ca_path, credentials)
        if key not in self._clients:
            self._clients[key] = self._client_class(
                ref.api_host, insecure=plain_http, validate_certs=not spec.skip_tls_verify, ca_path=ca_path,
                username=credentials[0], password=credentials[1], timeout=self._timeout)
        return key, self._clients[key]

    def client(self, spec: BuildSpec, ref: ImageReference) -> RegistryClient:
        """The RegistryClient for ``ref``'s registry, with the credentials and the trust ``spec`` pushes with;
        raises LookupUnavailable when its CA cannot be read."""
        return self._client(spec, ref)[1]

    def existing(self, spec: BuildSpec, destination: str, ref: ImageReference) -> Existing:
        """What ``destination`` (as the user wrote it; ``ref`` its ImageReference) holds, as an Existing.

        Raises LookupUnavailable.
        """
        key, client = self._client(spec, ref)

        def read() -> Existing:
            fetched = client.get_manifest(ref.repository, ref.manifest_reference)
            if fetched is None:
                return Existing(destination, ref.name)
            body, content_type, digest = fetched
            return Existing(destination, ref.name, _labels(client, ref.repository, body, content_type), digest)
        return self._ask(key, destination, read)

    def indexed(self, spec: BuildSpec, index_ref: ImageReference, platform: str) -> Existing | None:
        """The image of ``platform`` that the index under ``index_ref`` lists, as an Existing (what a platform's
        build of a build of platforms finds once its per-platform tag is deleted), or None when there is no index
        there or it lists no image of that platform. Raises LookupUnavailable."""
        key, client = self._client(spec, index_ref)
        destination = str(index_ref)

        def read() -> Existing | None:
            fetched = client.get_manifest(index_ref.repository, index_ref.manifest_reference)
            if fetched is None:
                return None
            doc = manifests.load_json(fetched[0], 'manifest')
            if manifests.classify(doc, fetched[1])[0] != manifests.INDEX:
                return None
            wanted = platforms.normalize(platform)
            digests = [entry['digest'] for entry in manifests.index_entries(doc)
                       if platforms.normalize(entry['platform_name']) == wanted]
            image = client.get_manifest(index_ref.repository, digests[0]) if digests else None
            if image is None:
                return None
            return Existing('{0} ({1} in its index)'.format(destination, platform), index_ref.name,
                            _labels(client, index_ref.repository, image[0], image[1]), digests[0])
        return self._ask(key, destination, read)

    def _ask(self, key: Hashable, destination: str, read: Callable[[], _T]) -> _T:
        """``read()``, its registry errors raised as LookupUnavailable; one unreachable registry costs one timeout
        per run, not one per build."""
        if key in self._failures:
            raise LookupUnavailable(self._failures[key])
        try:
            return read()
        except RegistryError as exc:
            why = 'could not read {0} from the registry: {1}'.format(destination, exc.message)
            if isinstance(exc, RegistryUnreachable):
                self._failures[key] = why
            raise LookupUnavailable(why) from exc


def _labels(client: RegistryClient, repository: str, body: bytes, content_type: str | None) -> dict[str, str]:
    """The labels of the manifest ``body``: its configuration's for an image, {} for an index (not what a Kaniko
    build pushes)."""
    doc = manifests.load_json(body, 'manifest')
    kind, _media_type = manifests.classify(doc, content_type)
    if kind == manifests.IMAGE:
        config = manifests.image_summary(doc)['config']
        if config['digest'] and manifests.is_image_config(config['media_type']):
            blob = client.get_blob(repository, config['digest'])
            return manifests.config_summary(manifests.load_json(blob, 'image configuration'))['labels']
        return {}
    if kind == manifests.SCHEMA1:
        return manifests.schema1_summary(doc)['labels']
    return {}
