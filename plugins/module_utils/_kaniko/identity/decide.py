# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Decide, before any pod exists, whether a build must run: commit -> build key -> registry.

The steps' I/O is injected (a RemoteResolver and a RegistryLookup); the decision is
build_key.decide(). Whatever stops a step (no git on the module host, a repository or registry
it cannot reach, a Secret it may not read) leads to a build, with the reason in the Decision.
A local context needs no resolver: its packed tar's sha256 (in spec.local) stands for the commit.
A build to tarball.dest is compared with what that file holds instead of a registry. A platform's build of a
build of platforms whose per-platform tag is gone (deleted once the index was written, run/platform_tags.py) is
looked for in the index under its group's destination, which lists its image by digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from typing import IO, Callable, Dict, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import (
    FORCED,
    UNAVAILABLE,
    Decision,
    Existing,
    build_key,
    decide,
    decide_tarball,
    source_text,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import RemoteResolver, Unresolved
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import (
    LookupUnavailable,
    RegistryLookup,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, GitSource


CHUNK = 1024 * 1024
# What read_tarball tells of a docker-archive: (labels, size, sha256).
TarballFacts = Tuple[Dict[str, str], int, str]


def read_tarball(path: str) -> TarballFacts | None:
    """(labels, size, sha256) of the docker-archive at ``path`` (tarball.dest); None when there is no file.

    Kaniko writes a docker-archive (``docker load``, ``skopeo ... docker-archive:``): manifest.json names the
    image's configuration, whose labels carry the build key, so a dest that already holds this very build is
    found without a pod. A file that is not a readable docker-archive has the labels {}.
    """
    if not os.path.isfile(path):
        return None
    labels: dict[str, str] = {}
    try:
        with tarfile.open(path, 'r:') as archive:
            # extractfile() gives None for a member that is no file: json.load raises AttributeError then.
            manifest = json.load(cast(IO[bytes], archive.extractfile('manifest.json')))
            config = json.load(cast(IO[bytes], archive.extractfile(manifest[0]['Config'])))
            labels = (config.get('config') or {}).get('Labels') or {}
    except (tarfile.TarError, KeyError, IndexError, TypeError, ValueError, AttributeError, OSError):
        labels = {}
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK), b''):
            digest.update(block)
    return labels, os.path.getsize(path), digest.hexdigest()


def identify(spec: BuildSpec, resolver: RemoteResolver, lookup: RegistryLookup | None,
             read_tarball: Callable[[str], TarballFacts | None] = read_tarball) -> Decision:
    """The Decision for ``spec`` (a BuildSpec)."""
    if spec.local:
        commit = None
    else:
        try:
            commit = resolver.resolve(spec.namespace, cast(GitSource, spec.git))  # the source: no local context
        except Unresolved as exc:
            return Decision(UNAVAILABLE, 'git.version could not be resolved to a commit on the module host: {0}'.format(exc))
    key = build_key(spec, commit)
    if spec.force:
        return Decision(FORCED, 'force is true', commit, key)
    if spec.tarball:
        if spec.tarball.pvc:
            return Decision(UNAVAILABLE, 'the module host cannot look into tarball.pvc', commit, key)
        dest = cast(str, spec.tarball.dest)  # a tarball not on a claim has dest
        return decide_tarball(key, commit, read_tarball(dest), dest, source_text(spec, commit))
    if not spec.push or not spec.destinations:
        return Decision(UNAVAILABLE, 'push is false: there is no image in a registry to compare with', commit, key)
    try:
        existing = [_held(cast(RegistryLookup, lookup), spec, position)  # given with the resolver
                    for position in range(len(spec.destinations))]
    except LookupUnavailable as exc:
        return Decision(UNAVAILABLE, str(exc), commit, key)
    return decide(key, commit, existing, source_text(spec, commit))


def _held(lookup: RegistryLookup, spec: BuildSpec, position: int) -> Existing:
    """What destination ``position`` holds; for a platform's build without its per-platform tag, the image of its
    platform that the index of its group's destination lists, when there is one."""
    found = lookup.existing(spec, spec.destinations[position], spec.destination_refs[position])
    if found.labels is None and spec.index_refs and spec.platform:
        return lookup.indexed(spec, spec.index_refs[position], spec.platform) or found
    return found
