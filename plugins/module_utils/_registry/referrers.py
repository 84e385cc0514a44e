# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OCI 1.1 referrers: artifacts that name a manifest as their ``subject``, read and written.

Reading (``referrers``): the registry's referrers API where it has one, else the referrers tag schema, the image
index under the tag ``sha256-<hex>`` of the subject's digest that clients keep up to date on registries without
the API (OCI distribution spec 1.1, "Referrers Tag Schema"). Both answers are image indexes of descriptors that
carry ``artifactType`` and the artifact's annotations.

Writing (``attach``): the artifact's blob and the empty configuration are uploaded, then its manifest (with
``subject`` and ``artifactType``) by digest. A registry that indexes the subject says so with the ``OCI-Subject``
header; otherwise the fallback tag's index is read, the new descriptor added, and the index stored again under
that tag, as the spec asks of a client. Manifests are canonical JSON: the same artifact of the same subject is
the same digest on every run, and is not written twice.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import (
    OCI_INDEX,
    OCI_MANIFEST,
    classify,
    load_json,
    sha256_digest,
)

# The empty descriptor of image-spec 1.1 (manifest.md, "Guidance for an Empty Descriptor"): the configuration of
# an artifact that has none.
EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json'
EMPTY_DATA = b'{}'
EMPTY_DESCRIPTOR = {'mediaType': EMPTY_MEDIA_TYPE, 'digest': sha256_digest(EMPTY_DATA), 'size': 2, 'data': 'e30='}
API = 'api'
TAG = 'tag'


class Artifact(NamedTuple):
    """A referrer read: its manifest's digest, the manifest, and its artifactType as the manifest says it."""
    digest: str
    manifest: Dict[str, Any]
    artifact_type: Optional[str]


class Referrers(NamedTuple):
    """The descriptors of the artifacts that refer to a manifest, and where they were read: API or TAG."""
    descriptors: List[Dict[str, Any]]
    source: str


class Attached(NamedTuple):
    """What attach did: the artifact manifest's digest, whether anything was written, and whether the fallback tag
    (its name) was written because the registry has no referrers API."""
    digest: str
    changed: bool
    fallback_tag: Optional[str]


def fallback_tag(digest: str) -> str:
    """The referrers tag schema's tag for ``digest``: ``<alg>-<ref>``, the algorithm cut to 32 characters and the
    encoded part to 64 (sha256-<hex> for a sha256 digest)."""
    algorithm, _colon, encoded = digest.partition(':')
    if not encoded:
        raise RegistryError('%r is not a digest' % digest)
    return '%s-%s' % (algorithm[:32], encoded[:64])


def canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(',', ':')).encode('utf-8')


def descriptor(body: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
    """The descriptor of ``body`` (bytes) of ``media_type``, with ``extra`` keys (artifactType, annotations) that
    are not None or empty."""
    found = {'mediaType': media_type, 'digest': sha256_digest(body), 'size': len(body)}
    found.update((key, value) for key, value in extra.items() if value)
    return found


def artifact_manifest(artifact_type: str, layer: Mapping[str, Any], subject: Mapping[str, Any],
                      annotations: Mapping[str, str] | None = None) -> bytes:
    """The image manifest of an artifact (image-spec 1.1): ``artifactType``, the empty configuration, one
    ``layer``, and ``subject``, the descriptor of the manifest it refers to; canonical JSON."""
    doc: dict[str, Any] = {'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'artifactType': artifact_type,
                           'config': EMPTY_DESCRIPTOR, 'layers': [dict(layer)], 'subject': dict(subject)}
    if annotations:
        doc['annotations'] = dict(annotations)
    return canonical(doc)


def referrer_descriptor(body: bytes) -> dict[str, Any]:
    """The descriptor a referrers index lists for the artifact manifest ``body``: its artifactType (or, without
    one, its configuration's media type, as the spec says) and its annotations."""
    doc = load_json(body, 'artifact manifest')
    artifact_type = doc.get('artifactType') or (doc.get('config') or {}).get('mediaType')
    return descriptor(body, doc.get('mediaType') or OCI_MANIFEST, artifactType=artifact_type,
                      annotations=doc.get('annotations'))


def index_with(existing: Mapping[str, Any] | None, added: Mapping[str, Any]) -> bytes | None:
    """The referrers index ``existing`` (None: there is none yet) with the descriptor ``added``; None when it lists
    that digest already. Kept in the order entries came, the new one last."""
    manifests = [dict(item) for item in (existing or {}).get('manifests') or [] if isinstance(item, dict)]
    if any(item.get('digest') == added.get('digest') for item in manifests):
        return None
    return canonical({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': manifests + [dict(added)]})


def _descriptors(doc: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [dict(item) for item in (doc or {}).get('manifests') or [] if isinstance(item, dict)]


def _tag_index(client: RegistryClient, repository: str, digest: str) -> dict[str, Any] | None:
    """The index under the fallback tag of ``digest``, or None; anything else under that tag is not one."""
    fetched = client.get_manifest(repository, fallback_tag(digest))
    if fetched is None:
        return None
    doc = load_json(fetched[0], 'referrers index')
    return doc if classify(doc, fetched[1])[1] == OCI_INDEX else None


def referrers(client: RegistryClient, repository: str, digest: str) -> Referrers:
    """The descriptors of the artifacts that refer to ``digest`` in ``repository``, as the registry lists them."""
    doc = client.referrers(repository, digest)
    source = API
    if doc is None:
        doc, source = _tag_index(client, repository, digest), TAG
    return Referrers(_descriptors(doc), source)


def artifact_type_of(doc: Mapping[str, Any]) -> str | None:
    """An artifact manifest's artifactType, or, without one, its configuration's media type (image-spec 1.1)."""
    return doc.get('artifactType') or (doc.get('config') or {}).get('mediaType')


def artifacts(client: RegistryClient, repository: str, digest: str, artifact_types: tuple[str, ...]) -> list[Artifact]:
    """The referrers of ``digest`` whose manifests say they are of one of ``artifact_types``, each manifest read.

    The manifest decides, not the index: go-containerregistry's registry lists an artifact under its
    configuration's media type even when the manifest has an artifactType (v0.21.7, pkg/registry/manifest.go)."""
    found = []
    for item in referrers(client, repository, digest).descriptors:
        if not isinstance(item.get('digest'), str):
            continue
        fetched = client.get_manifest(repository, item['digest'])
        if fetched is None:  # listed under the fallback tag, deleted since
            continue
        try:
            doc = load_json(fetched[0], 'artifact manifest')
        except RegistryError:
            continue
        kind = artifact_type_of(doc)
        if kind in artifact_types and (doc.get('subject') or {}).get('digest') == digest:
            found.append(Artifact(item['digest'], doc, kind))
    return found


def subject_of(client: RegistryClient, repository: str, digest: str) -> dict[str, Any]:
    """The descriptor of the manifest ``digest`` of ``repository``, as an artifact's ``subject``."""
    fetched = client.get_manifest(repository, digest)
    if fetched is None:
        raise RegistryError('%s holds no manifest %s in %s to refer to' % (client.address, digest, repository))
    body, content_type, _digest = fetched
    _kind, media_type = classify(load_json(body, 'manifest'), content_type)
    return {'mediaType': media_type, 'digest': digest, 'size': len(body)}


def attach(client: RegistryClient, repository: str, digest: str, artifact_type: str, data: bytes, media_type: str,
           annotations: Mapping[str, str] | None = None) -> Attached:
    """Store ``data`` (bytes, of ``media_type``) as an artifact of ``artifact_type`` that refers to the manifest
    ``digest`` of ``repository``; nothing is written when the registry lists it already."""
    subject = subject_of(client, repository, digest)
    layer = descriptor(data, media_type)
    body = artifact_manifest(artifact_type, layer, subject, annotations)
    added = referrer_descriptor(body)
    if any(item.get('digest') == added['digest'] for item in referrers(client, repository, digest).descriptors):
        return Attached(added['digest'], False, None)
    client.put_blob(repository, EMPTY_DATA)
    client.put_blob(repository, data)
    stored, indexed = client.store_manifest(repository, added['digest'], body, OCI_MANIFEST)
    if indexed:
        return Attached(stored, True, None)
    tag = fallback_tag(digest)
    index = index_with(_tag_index(client, repository, digest), added)
    if index is not None:
        client.put_manifest(repository, tag, index, OCI_INDEX)
    return Attached(stored, True, tag)
