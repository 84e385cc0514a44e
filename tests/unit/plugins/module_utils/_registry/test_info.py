# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ImageInfo: what is returned for an image, an index, a missing image and an artifact."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.info import ImageInfo
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import FakeRegistry
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fixtures import (
    CONFIG_AMD64,
    CONFIG_ARM64,
    HELM_CHART,
    INDEX,
    MANIFEST_AMD64,
    MANIFEST_ARM64,
)

OCI = [('Content-Type', 'application/vnd.oci.image.manifest.v1+json')]
OCI_INDEX = [('Content-Type', 'application/vnd.oci.image.index.v1+json')]


def content():
    data = {
        '/v2/': ([], b'{}'),
        '/v2/team/app/manifests/1.0': (OCI, MANIFEST_AMD64),
        '/v2/team/app/manifests/multi': (OCI_INDEX, INDEX),
        '/v2/team/app/manifests/chart': (OCI, HELM_CHART),
        '/v2/team/app/tags/list?n=1000': ([], b'{"name":"team/app","tags":["1.0","multi","chart"]}'),
    }
    for manifest in (MANIFEST_AMD64, MANIFEST_ARM64):
        data['/v2/team/app/manifests/' + sha256_digest(manifest)] = (OCI, manifest)
    for config in (CONFIG_AMD64, CONFIG_ARM64):
        data['/v2/team/app/blobs/' + sha256_digest(config)] = ([], config)
    return data


def info(reference, list_tags=False):
    registry = FakeRegistry(content(), auth='bearer')
    ref = ImageReference.parse(reference)
    return ImageInfo(RegistryClient(ref.api_host, opener=registry), ref).run(list_tags=list_tags), registry


def test_single_platform_image():
    result, _registry = info('registry.test:5000/team/app:1.0')
    assert result['exists'] is True and result['changed'] is False
    assert result['digest'] == sha256_digest(MANIFEST_AMD64)
    assert result['media_type'] == 'application/vnd.oci.image.manifest.v1+json'
    assert result['size'] == len(CONFIG_AMD64) + 1000
    assert result['manifest_size'] == len(MANIFEST_AMD64)
    assert result['created'] == '2026-11-20T10:00:00Z'
    assert result['labels'] == {'org.opencontainers.image.revision': 'abc123', 'team': 'kiln'}
    assert result['platform'] == {'os': 'linux', 'architecture': 'amd64', 'variant': None}
    assert result['platforms'] == [] and len(result['layers']) == 1
    assert result['config_digest'] == sha256_digest(CONFIG_AMD64)
    assert 'tags' not in result


def test_by_digest():
    result, _registry = info('registry.test:5000/team/app@' + sha256_digest(MANIFEST_AMD64))
    assert result['exists'] and result['tag'] is None and result['digest'] == sha256_digest(MANIFEST_AMD64)


def test_without_tag_or_digest_latest_is_read_and_reported():
    registry_content = content()
    registry_content['/v2/team/app/manifests/latest'] = registry_content['/v2/team/app/manifests/1.0']
    registry = FakeRegistry(registry_content, auth='bearer')
    ref = ImageReference.parse('registry.test:5000/team/app')
    result = ImageInfo(RegistryClient(ref.api_host, opener=registry), ref).run()
    assert (result['exists'], result['tag'], result['reference']) == (True, 'latest', 'registry.test:5000/team/app:latest')
    assert (result['registry'], result['repository']) == ('registry.test:5000', 'team/app')


def test_index_reported_per_platform():
    result, registry = info('registry.test:5000/team/app:multi')
    assert result['media_type'] == 'application/vnd.oci.image.index.v1+json'
    assert result['digest'] == sha256_digest(INDEX)
    assert result['size'] is None and result['labels'] == {} and result['platform'] is None
    amd64, arm64, attestation = result['platforms']
    assert (amd64['platform_name'], amd64['digest']) == ('linux/amd64', sha256_digest(MANIFEST_AMD64))
    assert amd64['labels']['team'] == 'kiln' and amd64['size'] == len(CONFIG_AMD64) + 1000
    assert (arm64['platform_name'], arm64['created'], arm64['labels']) == ('linux/arm64/v8', '2026-11-20T10:01:00Z', {})
    assert attestation['attestation'] is True and attestation['size'] is None
    # The attestation manifest is listed but not read.
    assert not any(attestation['digest'] in url for _m, url, _h, _o in registry.requests)


def test_missing_image_and_tags():
    result, _registry = info('registry.test:5000/team/app:2.0', list_tags=True)
    assert result['exists'] is False and result['digest'] is None
    assert result['tags'] == ['1.0', 'multi', 'chart'] and result['repository_exists'] is True
    result, _registry = info('registry.test:5000/team/other:1', list_tags=True)
    assert result['exists'] is False and result['tags'] == [] and result['repository_exists'] is False


def test_artifact_config_is_not_fetched():
    result, registry = info('registry.test:5000/team/app:chart')
    assert result['exists'] and result['labels'] == {} and result['created'] is None
    assert not any('/blobs/' in url for _m, url, _h, _o in registry.requests)
