# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The build key, the labels that carry it, and whether a registry already holds its image: pure.

The key is a sha256 over what decides the content of the image: the commit (or, for a local
context, the sha256 of its packed tar), where in it the build runs (context_sub_path, dockerfile, submodules), how (build_args, target, labels,
platform, extra_args) and with which Kaniko (executor_image). Destinations, caching, pod
settings and credentials are left out: they change where an image goes or how fast it is made,
not what it holds. A new base image under the same tag (FROM busybox:1.35 moved) does not
change the key either; force rebuilds.

build_secrets are in it as names only, and only when there are any, so that the keys of builds
without them stay what they were: which Secret key feeds each id, sorted by id. Never their
values, nor a hash of them: the key is a label that anyone who pulls the image reads, and a hash
of a short token gives it away. So a new value in a Secret does not change the key either; force
rebuilds (and cache false, as Kaniko's layer cache keys a RUN step by its command, not by the
secrets it reads).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Dict, Optional, Sequence, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import (
    BUILD_KEY_LABEL,
    REVISION_LABEL,
    BuildSpec,
    GitSource,
)

# Part of the hashed document: a change of what goes into the key changes every key.
KEY_FORMAT = 1

FOUND = 'found'
MISSING = 'missing'
FORCED = 'forced'
UNAVAILABLE = 'unavailable'


def build_key(spec: BuildSpec, commit: str | None) -> str:
    """The build key of ``spec`` at ``commit`` (None for a local context): 'sha256:' and 64 hex digits."""
    source: dict[str, Any]
    if spec.local:
        source = {'context': 'sha256:' + cast(str, spec.local.sha256)}  # packed before the key is made
    else:
        source = {'commit': commit, 'submodules': cast(GitSource, spec.git).submodules}
    material = dict(source, **{
        'format': KEY_FORMAT,
        'context_sub_path': spec.context_sub_path,
        'dockerfile': spec.dockerfile,
        'build_args': [list(pair) for pair in spec.build_args],
        'target': spec.target,
        'labels': [list(pair) for pair in spec.labels if pair[0] not in (BUILD_KEY_LABEL, REVISION_LABEL)],
        'platform': spec.platform,
        'extra_args': list(spec.extra_args),
        'executor_image': spec.executor_image,
    })
    if spec.build_secrets:
        material['build_secrets'] = sorted([entry.id, entry.secret, entry.key] for entry in spec.build_secrets)
    text = json.dumps(material, sort_keys=True, separators=(',', ':'))
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()


def with_identity(spec: BuildSpec, commit: str | None, key: str) -> BuildSpec:
    """``spec`` that builds exactly ``commit`` and labels the image with the key and the revision.

    A revision label the user set is kept. A local context has no commit: only the key is added.
    """
    labels = dict(spec.labels)
    labels[BUILD_KEY_LABEL] = key
    if spec.local:
        return dataclasses.replace(spec, labels=tuple(sorted(labels.items())))
    labels.setdefault(REVISION_LABEL, cast(str, commit))  # a git source's
    return dataclasses.replace(spec, labels=tuple(sorted(labels.items())),
                               git=dataclasses.replace(cast(GitSource, spec.git), commit=commit))


@dataclasses.dataclass(frozen=True)
class Existing:
    """What the registry holds under one destination: labels None when there is no image."""

    destination: str
    repository: str
    labels: Optional[Dict[str, str]] = None
    digest: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether to build: check is FOUND (skip), MISSING, FORCED or UNAVAILABLE (build)."""

    check: str
    detail: Optional[str] = None
    commit: Optional[str] = None
    key: Optional[str] = None
    digest: Optional[str] = None
    images: Tuple[str, ...] = ()
    # What tarball.dest holds, when it holds this very build: path, size, sha256.
    tarball: Optional[Dict[str, Any]] = None

    @property
    def skip(self) -> bool:
        return self.check == FOUND


def source_text(spec: BuildSpec, commit: str | None) -> str:
    """What a build is made from, for messages: 'commit <sha>', or 'context sha256:<12 digits>'."""
    if spec.local:
        return 'context sha256:{0}'.format(cast(str, spec.local.sha256)[:12])
    return 'commit {0}'.format(commit)


def decide(key: str, commit: str | None, existing: Sequence[Existing], source: str | None = None) -> Decision:
    """Skip when every destination holds an image labelled with ``key``; else say which does not.

    ``source`` says what the build is made from (source_text), by default the commit.
    """
    source = source or 'commit {0}'.format(commit)
    for item in existing:
        if item.labels is None:
            return Decision(MISSING, '{0} does not exist yet'.format(item.destination), commit, key)
        held = item.labels.get(BUILD_KEY_LABEL)
        if held != key:
            revision = item.labels.get(REVISION_LABEL)
            what = 'an image of another build key' if held else 'an image without a build key'
            if revision:
                what += ' (commit {0})'.format(revision)
            return Decision(MISSING, '{0} holds {1}'.format(item.destination, what), commit, key)
    if not existing:
        return Decision(UNAVAILABLE, 'no destination to look in', commit, key)
    first = existing[0]
    images = tuple('{0}@{1}'.format(item.repository, item.digest) for item in existing)
    names = ', '.join(item.destination for item in existing)
    return Decision(FOUND, '{0} already {1} an image built from {2} with the same build key'.format(
        names, 'holds' if len(existing) == 1 else 'hold', source), commit, key, first.digest, images)


def decide_tarball(key: str, commit: str | None, held: tuple[dict[str, str] | None, int, str] | None, dest: str,
                   source: str) -> Decision:
    """Skip when tarball.dest holds an image labelled with ``key``; ``held`` is tarball.read()'s answer or None."""
    if held is None:
        return Decision(MISSING, 'tarball.dest {0} does not exist yet'.format(dest), commit, key)
    labels, size, sha256 = held
    if (labels or {}).get(BUILD_KEY_LABEL) != key:
        return Decision(MISSING, 'tarball.dest {0} holds an image of another build'.format(dest), commit, key)
    return Decision(FOUND, 'tarball.dest {0} already holds an image built from {1} with the same build key'.format(
        dest, source), commit, key, tarball=dict(path=dest, size=size, sha256=sha256))
