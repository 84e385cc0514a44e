# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What kiln.kaniko.image_info returns, gathered from a registry with RegistryClient."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import fail_from_exception
from ansible_collections.kiln.kaniko.plugins.module_utils._registry import manifests
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import (
    InvalidReference,
    RegistryError,
    RegistryUnreachable,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import REFERENCE_EXAMPLE, ImageReference

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule


def _empty(ref: ImageReference) -> dict[str, Any]:
    return {
        'changed': False,
        'exists': False,
        'reference': str(ref),
        'registry': ref.domain,
        'repository': ref.repository,
        'tag': ref.tag,
        'digest': None,
        'media_type': None,
        'size': None,
        'manifest_size': None,
        'created': None,
        'labels': {},
        'platform': None,
        'platforms': [],
        'layers': [],
        'config_digest': None,
    }


class ImageInfo:
    """Reads one reference; ``client`` is a RegistryClient (or a stand-in in tests).

    ``ref`` is an ImageReference; without tag and digest it is read as tagged 'latest'.
    """

    def __init__(self, client: RegistryClient, ref: ImageReference) -> None:
        self.client = client
        self.ref = ref.with_default_tag()

    def _image(self, body: bytes, digest: str) -> dict[str, Any]:
        """Summary of an image manifest: size, layers and what its configuration says."""
        doc = manifests.load_json(body, 'manifest')
        summary = manifests.image_summary(doc)
        config = summary['config']
        info = {'digest': digest, 'size': summary['size'], 'layers': summary['layers'],
                'config_digest': config['digest'], 'created': None, 'labels': {}, 'platform': None}
        if config['digest'] and manifests.is_image_config(config['media_type']):
            blob = self.client.get_blob(self.ref.repository, config['digest'])
            details = manifests.config_summary(manifests.load_json(blob, 'image configuration'))
            info.update(details)
        return info

    def _platforms(self, doc: Mapping[str, Any]) -> list[dict[str, Any]]:
        platforms = []
        for entry in manifests.index_entries(doc):
            item = {
                'digest': entry['digest'],
                'media_type': entry['media_type'],
                'manifest_size': entry['size'],
                'platform': entry['platform'],
                'platform_name': entry['platform_name'],
                'attestation': entry['attestation'],
                'size': None,
                'created': None,
                'labels': {},
            }
            if not entry['attestation'] and entry['digest'] and entry['media_type'] in manifests.IMAGE_TYPES:
                fetched = self.client.get_manifest(self.ref.repository, entry['digest'])
                if fetched is not None:
                    details = self._image(fetched[0], entry['digest'])
                    item.update(size=details['size'], created=details['created'], labels=details['labels'])
            platforms.append(item)
        return platforms

    def run(self, list_tags: bool = False) -> dict[str, Any]:
        result = _empty(self.ref)
        self.client.ping()
        fetched = self.client.get_manifest(self.ref.repository, self.ref.manifest_reference)
        if fetched is not None:
            body, content_type, digest = fetched
            doc = manifests.load_json(body, 'manifest')
            kind, media_type = manifests.classify(doc, content_type)
            result.update(exists=True, digest=digest, media_type=media_type, manifest_size=len(body))
            if kind == manifests.IMAGE:
                details = self._image(body, digest)
                details.pop('digest')
                result.update(details)
            elif kind == manifests.INDEX:
                result['platforms'] = self._platforms(doc)
            else:
                result.update(manifests.schema1_summary(doc))
        if list_tags:
            tags = self.client.list_tags(self.ref.repository)
            result['tags'] = tags or []
            result['repository_exists'] = tags is not None
        return result


# What TLS libraries say when the other end does not speak TLS (a plain-HTTP registry).
_NOT_TLS = ('wrong version number', 'wrong_version_number', 'record layer failure', 'packet length too long',
            'unknown protocol')
_UNTRUSTED = ('certificate verify failed', 'certificate_verify_failed')


def with_fix(exc: RegistryError, params: Mapping[str, Any]) -> RegistryError:
    """``exc`` as the user can act on it: the option to change first, and how, after the reason."""
    if isinstance(exc, InvalidReference):
        return InvalidReference('reference: {0}; {1}'.format(exc.message, REFERENCE_EXAMPLE),
                                dict(exc.details, option='reference'))
    if not isinstance(exc, RegistryUnreachable):
        return exc
    reason = exc.reason.lower()
    if any(words in reason for words in _NOT_TLS) and not params['insecure']:
        option = 'insecure'
        text = ('the registry at {0} does not answer with TLS ({1}); for a plain-HTTP registry '
                'set insecure: true'.format(exc.address, exc.reason))
    elif any(words in reason for words in _UNTRUSTED):
        option = 'ca_path'
        text = ('the certificate of the registry at {0} is not trusted ({1}); give its CA in ca_path, '
                'or set validate_certs: false'.format(exc.address, exc.reason))
    else:
        option = 'reference'
        text = ('{0}; check the registry host and port in reference, that the registry runs and '
                'that this host reaches it'.format(exc.message))
    return RegistryError('{0}: {1}'.format(option, text), dict(exc.details, option=option))


def run(module: AnsibleModule, client_class: Callable[..., RegistryClient] = RegistryClient) -> None:
    """Entry point of kiln.kaniko.image_info: exit_json or fail_json, once."""
    params = module.params
    try:
        ca_path = params['ca_path']
        if ca_path and not os.path.isfile(ca_path):
            raise RegistryError("ca_path: '{0}' does not exist; give the PEM file of the CA that signed the "
                                "registry's certificate".format(ca_path), {'option': 'ca_path'})
        ref = ImageReference.parse(params['reference'], need_registry=True)
        client = client_class(
            ref.api_host,
            insecure=params['insecure'],
            validate_certs=params['validate_certs'],
            ca_path=params['ca_path'],
            username=params['username'],
            password=params['password'],
            timeout=params['timeout'],
        )
        result = ImageInfo(client, ref).run(list_tags=params['list_tags'])
    except RegistryError as exc:
        fail_from_exception(module, with_fix(exc, params))
    module.exit_json(**result)
