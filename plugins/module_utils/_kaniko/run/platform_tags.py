# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The per-platform tags of a build of platforms, once its index is written: deleted where the registry deletes tags.

Kaniko pushes each platform's image to a tag of its own (spec/platforms.platform_tag); the index that
run/multiarch.py then writes under the destination lists those images by digest. That keeps them: the registry
serves them by digest, and distribution 3's garbage collection keeps what a tagged index lists (also with
--delete-untagged). So the tags are deleted, each by its tag, never by digest: a DELETE of a digest deletes the
image, which the index still lists. A tag is deleted only while it names the image the index lists; a build that
has pushed another image under it since keeps it. Where the registry keeps tags (distribution 2.x deletes by digest
only, storage.delete.enabled false, credentials that may not delete), they stay, and the result says why. A
platform's next build finds its image in the index (identity/decide.py), so the skip check does not need the tags.
The OCI distribution spec has DELETE of a tag delete the tag alone; a registry that deleted the image with it is
caught at the first tag (its image is looked for by digest), and the other tags are kept.
"""

from __future__ import annotations

from typing import Any, Sequence

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import (
    LookupUnavailable,
    RegistryLookup,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import platforms
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError, TagNotDeletable


def _reason(exc: Exception) -> str:
    return getattr(exc, 'message', None) or str(exc)


def delete(spec: BuildSpec, unit_digests: Sequence[Sequence[str]], lookup: RegistryLookup) -> dict[str, Any]:
    """Delete the per-platform tags of every destination of ``spec`` (``unit_digests``: per platform, the digest its
    image has under each destination, as the index lists it); return the result's ``platform_tags``: ``deleted``
    and ``kept`` (image references with those tags) and ``reason`` (why some were kept, else None). A tag that is
    gone already is in neither list."""
    deleted: list[str] = []
    kept: list[str] = []
    reasons: list[str] = []
    for position, ref in enumerate(spec.destination_refs):
        refused: str | None = None
        first = True  # the image of the first tag deleted is looked for: a registry may delete it with its tag
        for platform, per_destination in zip(spec.platforms, unit_digests):
            tag = platforms.platform_tag(ref, platform)
            name = str(ref.with_tag(tag))
            if refused is not None:  # one refusal per destination is enough to know
                kept.append(name)
                continue
            try:
                client = lookup.client(spec, ref)
                held = client.get_manifest(ref.repository, tag)
                if held is None:
                    continue
                if held[2] != per_destination[position]:
                    kept.append(name)
                    reasons.append('{0} names {1}, not the image the index lists; an image pushed since keeps its '
                                   'tag'.format(name, held[2]))
                    continue
                if not client.delete_tag(ref.repository, tag):
                    continue
                deleted.append(name)
                if first and client.get_manifest(ref.repository, held[2]) is None:
                    refused = ('{0} deleted the image {1} with its tag (the index lists it); the other tags are '
                               'kept, and the next run builds it again').format(ref.domain, held[2])
                    reasons.append(refused)
                first = False
            except TagNotDeletable as exc:
                refused = _reason(exc)
                kept.append(name)
                reasons.append(refused)
            except (RegistryError, LookupUnavailable) as exc:
                kept.append(name)
                reasons.append('could not delete {0}: {1}'.format(name, _reason(exc)))
    return dict(deleted=deleted, kept=kept, reason='; '.join(dict.fromkeys(reasons)) or None)
