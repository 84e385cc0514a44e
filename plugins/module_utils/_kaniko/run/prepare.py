# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Everything about one build before its pod: the checks, and whether it must run at all.

log_path writable -> local paths usable -> namespace exists (asked once per namespace for a run) -> the Secrets (and
ConfigMaps) the options name hold what they must (git.secret, registry_ca, build_secrets, registry_secret) -> (a local
context: packed into a temporary tar) -> commit or context hash, build key, and whether the registry (or tarball.dest)
already holds that build. Nothing is created in the cluster here.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import threading
from typing import Any, BinaryIO, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import archive
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Credentials, Engine, Warn
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import (
    UNAVAILABLE,
    Decision,
    with_identity,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import RemoteResolver
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.decide import identify
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, LocalContext
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps, check


def log_path_error(path: str, reason: object) -> ValidationError:
    return ValidationError('log_path', 'cannot write {0}: {1}; give a file in a directory that exists and is '
                                       'writable'.format(path, reason))


def check_log_path(path: str | None) -> None:
    """Refuse a log_path that cannot be written, before anything is looked up or created; the file is not made."""
    if not path:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise log_path_error(path, os.strerror(errno.EISDIR))
    if not os.path.isdir(directory):
        raise log_path_error(path, os.strerror(errno.ENOENT))
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise log_path_error(path, os.strerror(errno.EACCES))


def open_log(path: str | None) -> BinaryIO | None:
    """The log file at ``path``, opened for writing, or None without a path."""
    if not path:
        return None
    try:
        return open(path, 'wb')
    except (IOError, OSError) as exc:
        raise log_path_error(path, exc.strerror or exc) from exc


class Prepared:
    """One build, checked and identified: its spec (with commit and build key), the registry Secret's key to
    mount, the skip decision, and the packed local context (a temporary tar, until release())."""

    def __init__(self, spec: BuildSpec) -> None:
        self.spec = spec
        self.registry_key = render.DOCKERCONFIGJSON
        self.decision: Decision | None = None
        self.packed: archive.PackedContext | None = None
        self.public_key: str | None = None  # cosign.pub of sign.key_secret, when it could be read

    def context_root(self) -> str:
        """The directory packed as the build context: local_context.path, and context_sub_path in it."""
        local = cast(LocalContext, self.spec.local)  # asked of a local context only
        return os.path.join(local.path, self.spec.context_sub_path) if self.spec.context_sub_path else local.path

    def identity(self) -> dict[str, Any]:
        return results.identity(self.spec, self.decision, self.context_root() if self.spec.local else None)

    def pack(self) -> None:
        """Pack the local context into a temporary tar; its hash goes into the spec (and so the build key)."""
        self.release()
        local = cast(LocalContext, self.spec.local)  # asked of a local context only
        self.packed = archive.pack(self.context_root(), local.max_size, always=(self.spec.dockerfile,))
        self.spec = dataclasses.replace(self.spec, local=dataclasses.replace(
            local, size=self.packed.size, sha256=self.packed.sha256))

    def release(self) -> None:
        """Remove the temporary tar of the local context."""
        if self.packed is not None:
            self.packed.remove()
            self.packed = None


class NamespaceChecks:
    """The engine's check of each namespace, once for all the builds of a run: the builds of one namespace, prepared
    side by side, ask the API server once (not once each, 500 times for 500 builds) and get the same answer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._answers: dict[str, KilnError | None] = {}

    def check(self, namespace: str) -> None:
        """engine.check_namespace(namespace), or the error it raised the first time; the others wait for it."""
        with self._lock:
            if namespace not in self._answers:
                try:
                    self.engine.check_namespace(namespace)
                    self._answers[namespace] = None
                except KilnError as exc:
                    self._answers[namespace] = exc
            error = self._answers[namespace]
        if error is not None:
            raise error


def prepare(spec: BuildSpec, engine: Engine, secrets: Credentials, resolver: RemoteResolver | None = None,
            lookup: RegistryLookup | None = None, warn: Warn | None = None,
            namespaces: NamespaceChecks | None = None) -> Prepared:
    """A Prepared build for ``spec``; raises KilnError naming the option. ``secrets`` are the engine's
    Credentials (engines/base.py), which check what the options name; ``namespaces`` checks each namespace once
    for the builds of a run (else the engine checks this build's)."""
    prepared = Prepared(spec)
    try:
        check_log_path(spec.log_path)  # also when the build is then skipped, and in check mode
        check_local_paths(prepared)
        (namespaces or NamespaceChecks(engine)).check(spec.namespace)
        checked = secrets.check(spec)
        prepared.registry_key, prepared.public_key = checked.registry_key, checked.public_key
        if spec.local:
            prepared.pack()
        if resolver is None:
            prepared.decision = results.NOT_CHECKED
        else:
            prepared.decision = identify(prepared.spec, resolver, lookup)
        if prepared.decision.key:
            prepared.spec = with_identity(prepared.spec, prepared.decision.commit, prepared.decision.key)
        if prepared.decision.skip and prepared.decision.digest and steps.wanted(spec) and lookup is not None:
            _supply_only(prepared, lookup, prepared.public_key, warn)
        if prepared.decision.check == UNAVAILABLE and resolver is not None and spec.push and warn is not None:
            warn('Building without looking for an existing image: {0}'.format(prepared.decision.detail))
    except BaseException:
        prepared.release()
        raise
    return prepared


def _supply_only(prepared: Prepared, lookup: RegistryLookup, public_key: str | None, warn: Warn | None) -> None:
    """A build the registry holds: when it lacks its signature or SBOM, its pod adds just those."""
    decision = cast(Decision, prepared.decision)  # prepare() decided: skip, with the digest the registry holds
    digest = cast(str, decision.digest)
    sign, attest = check.missing(prepared.spec, lookup, digest, public_key, warn)
    if sign or attest:
        prepared.spec = dataclasses.replace(prepared.spec, supply_only=steps.supply_only(
            prepared.spec, digest, decision.images, sign, attest))


def check_local_paths(prepared: Prepared) -> None:
    """Refuse a context or tarball.dest the module's host cannot use, before anything else."""
    spec = prepared.spec
    if spec.local:
        archive.check_directory(spec.local.path)
        root = prepared.context_root()
        if root != spec.local.path and not os.path.isdir(root):
            raise ValidationError('context_sub_path', "'{0}' is not a directory in local_context.path {1}; give the "
                                                      "folder of the build context".format(
                                                          spec.context_sub_path, spec.local.path))
        if not os.path.isfile(os.path.join(root, spec.dockerfile)):
            raise ValidationError('dockerfile', "'{0}' is not a file in the build context {1}; give the path of "
                                                "the Dockerfile relative to it".format(spec.dockerfile, root))
    if spec.tarball and spec.tarball.dest:
        tarball.check_dest(spec.tarball.dest)
    if spec.sbom and spec.sbom.dest:
        tarball.check_dest(spec.sbom.dest, 'sbom.dest')
