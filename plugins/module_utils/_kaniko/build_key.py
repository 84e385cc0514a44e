# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The build key, the labels that carry it, and whether a registry already holds its image: pure.

The key is a sha256 over what decides the content of the image: the commit, where in it the
build runs (context_sub_path, dockerfile, submodules), how (build_args, target, labels,
platform, extra_args) and with which Kaniko (executor_image). Destinations, caching, pod
settings and credentials are left out: they change where an image goes or how fast it is made,
not what it holds. A new base image under the same tag (FROM busybox:1.35 moved) does not
change the key either; force rebuilds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Optional, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import BUILD_KEY_LABEL, REVISION_LABEL

# Part of the hashed document: a change of what goes into the key changes every key.
KEY_FORMAT = 1

FOUND = 'found'
MISSING = 'missing'
FORCED = 'forced'
UNAVAILABLE = 'unavailable'


def build_key(spec, commit):
    """The build key of ``spec`` at ``commit``: 'sha256:' and 64 hex digits."""
    material = {
        'format': KEY_FORMAT,
        'commit': commit,
        'submodules': spec.git.submodules,
        'context_sub_path': spec.context_sub_path,
        'dockerfile': spec.dockerfile,
        'build_args': [list(pair) for pair in spec.build_args],
        'target': spec.target,
        'labels': [list(pair) for pair in spec.labels if pair[0] not in (BUILD_KEY_LABEL, REVISION_LABEL)],
        'platform': spec.platform,
        'extra_args': list(spec.extra_args),
        'executor_image': spec.executor_image,
    }
    text = json.dumps(material, sort_keys=True, separators=(',', ':'))
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()


def with_identity(spec, commit, key):
    """``spec`` that builds exactly ``commit`` and labels the image with the key and the revision.

    A revision label the user set is kept.
    """
    labels = dict(spec.labels)
    labels[BUILD_KEY_LABEL] = key
    labels.setdefault(REVISION_LABEL, commit)
    return dataclasses.replace(spec, labels=tuple(sorted(labels.items())),
                               git=dataclasses.replace(spec.git, commit=commit))


@dataclasses.dataclass(frozen=True)
class Existing:
    """What the registry holds under one destination: labels None when there is no image."""

    destination: str
    repository: str
    labels: Optional[dict] = None
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

    @property
    def skip(self):
        return self.check == FOUND


def decide(key, commit, existing):
    """Skip when every destination holds an image labelled with ``key``; else say which does not."""
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
    return Decision(FOUND, '{0} already {1} an image built from commit {2} with the same build key'.format(
        names, 'holds' if len(existing) == 1 else 'hold', commit), commit, key, first.digest, images)
