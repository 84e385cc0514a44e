# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a manifest, an index and an image configuration say, without any I/O."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Sequence

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json'
DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws'
OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
SCHEMA1_TYPES = (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED)
CONFIG_TYPES = (OCI_CONFIG, DOCKER_CONFIG)

# Preference order for the Accept header: what this client understands fully first.
ACCEPT = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1)

INDEX = 'index'
IMAGE = 'image'
SCHEMA1 = 'schema1'

# BuildKit stores provenance and SBOM attestations in an index as manifests for platform unknown/unknown.
_ATTESTATION_ANNOTATION = 'vnd.docker.reference.type'


def sha256_digest(data: bytes) -> str:
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def _bare(content_type: str | None) -> str:
    return (content_type or '').split(';', 1)[0].strip().lower()


def load_json(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode('utf-8') if isinstance(data, bytes) else data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError('the %s is not JSON: %s' % (what, exc)) from None
    if not isinstance(doc, dict):
        raise RegistryError('the %s is not a JSON object' % what)
    return doc


def classify(doc: Mapping[str, Any], content_type: str | None = None) -> tuple[str, str]:
    """(kind, media type) of a manifest document: kind is INDEX, IMAGE or SCHEMA1.

    The document's own mediaType wins over the Content-Type header (some registries send a
    generic one); without either naming a known type, the shape decides.
    """
    for media_type in (doc.get('mediaType'), _bare(content_type)):
        if media_type in INDEX_TYPES:
            return INDEX, media_type
        if media_type in IMAGE_TYPES:
            return IMAGE, media_type
        if media_type in SCHEMA1_TYPES:
            return SCHEMA1, media_type
    if doc.get('schemaVersion') == 1:
        return SCHEMA1, DOCKER_SCHEMA1
    if isinstance(doc.get('manifests'), list):
        return INDEX, OCI_INDEX
    if isinstance(doc.get('layers'), list) and isinstance(doc.get('config'), dict):
        return IMAGE, OCI_MANIFEST
    raise RegistryError('unknown manifest type %r' % (doc.get('mediaType') or _bare(content_type) or 'none'))


def _object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _size(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def image_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """config descriptor, layers and total size of an image manifest."""
    config = doc.get('config') or {}
    layers = [layer for layer in doc.get('layers') or [] if isinstance(layer, dict)]
    sizes = [_size(config.get('size'))] + [_size(layer.get('size')) for layer in layers]
    return {
        'config': {
            'digest': config.get('digest'),
            'media_type': config.get('mediaType'),
            'size': _size(config.get('size')),
        },
        'layers': [{'digest': layer.get('digest'), 'media_type': layer.get('mediaType'),
                    'size': _size(layer.get('size'))} for layer in layers],
        'size': None if None in sizes else sum(sizes),
    }


def is_image_config(media_type: str | None) -> bool:
    """Whether a config blob of this type is an image configuration (and not an artifact's data)."""
    return _bare(media_type) in CONFIG_TYPES


def _platform(value: object) -> dict[str, Any]:
    given = _object(value)
    platform: dict[str, Any] = {
        'os': given.get('os'),
        'architecture': given.get('architecture'),
        'variant': given.get('variant'),
    }
    if given.get('os.version'):
        platform['os_version'] = given.get('os.version')
    return platform


def platform_name(platform: Mapping[str, Any]) -> str:
    """``os/architecture[/variant]``, the notation of --platform."""
    parts = [platform.get('os') or 'unknown', platform.get('architecture') or 'unknown']
    if platform.get('variant'):
        parts.append(platform['variant'])
    return '/'.join(parts)


def index_entries(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifests an index lists, one dict each, in the index's order."""
    entries = []
    for item in doc.get('manifests') or []:
        if not isinstance(item, dict):
            continue
        annotations = _object(item.get('annotations'))
        platform = _platform(item.get('platform'))
        entries.append({
            'digest': item.get('digest'),
            'media_type': item.get('mediaType'),
            'size': _size(item.get('size')),
            'platform': platform,
            'platform_name': platform_name(platform),
            'attestation': annotations.get(_ATTESTATION_ANNOTATION) == 'attestation-manifest',
            'annotations': annotations,
        })
    return entries


def config_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """created, labels and platform from an image configuration."""
    inner = _object(doc.get('config'))
    labels = _object(inner.get('Labels'))
    platform = {'os': doc.get('os'), 'architecture': doc.get('architecture'), 'variant': doc.get('variant')}
    if doc.get('os.version'):
        platform['os_version'] = doc.get('os.version')
    return {
        'created': doc.get('created'),
        'labels': dict(labels),
        'platform': platform,
    }


def schema1_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a legacy schema 1 manifest tells without fetching anything: labels and created of the top layer."""
    history = doc.get('history') or []
    top: Any = {}
    if history and isinstance(history[0], dict):
        try:
            top = json.loads(history[0].get('v1Compatibility') or '{}')
        except ValueError:
            top = {}
    summary = config_summary(top if isinstance(top, dict) else {})
    summary['platform']['architecture'] = summary['platform']['architecture'] or doc.get('architecture')
    return summary


def image_index(entries: Sequence[Mapping[str, Any]]) -> tuple[bytes, str]:
    """(body, media type) of the index that lists ``entries``: dicts of digest, media_type, size and platform
    (os, architecture, variant), in order.

    Images of Docker's media type go into a Docker manifest list (what registries and clients that predate OCI
    indexes read), OCI images into an OCI index; a mix is an OCI index. The body is canonical JSON (sorted
    keys, no spaces): the same images give the same index, and so the same digest, on every run.
    """
    if not entries:
        raise RegistryError('an index needs at least one image')
    docker = all(entry['media_type'] == DOCKER_MANIFEST for entry in entries)
    manifests = []
    for entry in entries:
        platform = {'os': entry['platform']['os'], 'architecture': entry['platform']['architecture']}
        if entry['platform'].get('variant'):
            platform['variant'] = entry['platform']['variant']
        manifests.append({'mediaType': entry['media_type'], 'digest': entry['digest'], 'size': entry['size'],
                          'platform': platform})
    media_type = DOCKER_LIST if docker else OCI_INDEX
    doc = {'schemaVersion': 2, 'mediaType': media_type, 'manifests': manifests}
    return json.dumps(doc, sort_keys=True, separators=(',', ':')).encode('utf-8'), media_type
