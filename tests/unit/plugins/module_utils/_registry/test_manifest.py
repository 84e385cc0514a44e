# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._registry import manifests
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError

from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fixtures import (
    CONFIG_AMD64,
    CONFIG_ARM64,
    DOCKER_LIST,
    HELM_CHART,
    INDEX,
    MANIFEST_AMD64,
    SCHEMA1,
)


def doc(data):
    return json.loads(data)


@pytest.mark.parametrize('data, content_type, expected', [
    (INDEX, None, (manifests.INDEX, manifests.OCI_INDEX)),
    (DOCKER_LIST, 'text/plain', (manifests.INDEX, manifests.DOCKER_LIST)),
    (MANIFEST_AMD64, None, (manifests.IMAGE, manifests.OCI_MANIFEST)),
    (SCHEMA1, manifests.DOCKER_SCHEMA1_SIGNED + '; charset=utf-8', (manifests.SCHEMA1, manifests.DOCKER_SCHEMA1_SIGNED)),
    # Without mediaType in the document (allowed by the OCI spec), the header decides, then the shape.
    (b'{"schemaVersion":2,"manifests":[]}', manifests.OCI_INDEX, (manifests.INDEX, manifests.OCI_INDEX)),
    (b'{"schemaVersion":2,"manifests":[]}', None, (manifests.INDEX, manifests.OCI_INDEX)),
    (b'{"schemaVersion":2,"config":{},"layers":[]}', 'application/json', (manifests.IMAGE, manifests.OCI_MANIFEST)),
])
def test_classify(data, content_type, expected):
    assert manifests.classify(doc(data), content_type) == expected


def test_classify_unknown():
    with pytest.raises(RegistryError, match='unknown manifest type'):
        manifests.classify({'schemaVersion': 2}, 'application/json')


def test_image_summary_sizes():
    summary = manifests.image_summary(doc(MANIFEST_AMD64))
    assert summary['size'] == len(CONFIG_AMD64) + 1000
    assert summary['config']['media_type'] == manifests.OCI_CONFIG
    assert summary['layers'] == [{'digest': 'sha256:' + '2' * 64, 'media_type':
                                  'application/vnd.oci.image.layer.v1.tar+gzip', 'size': 1000}]
    # A missing or nonsensical size makes the total unknown rather than wrong.
    broken = doc(MANIFEST_AMD64)
    broken['layers'][0]['size'] = 'big'
    assert manifests.image_summary(broken)['size'] is None


def test_index_entries_per_platform():
    entries = manifests.index_entries(doc(INDEX))
    assert [e['platform_name'] for e in entries] == ['linux/amd64', 'linux/arm64/v8', 'unknown/unknown']
    assert [e['attestation'] for e in entries] == [False, False, True]
    assert entries[1]['platform'] == {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}
    windows = manifests.index_entries(doc(DOCKER_LIST))[0]
    assert windows['platform']['os_version'] == '10.0.17763.1'
    assert windows['media_type'] == manifests.DOCKER_MANIFEST and windows['size'] == 527


def test_config_summary():
    assert manifests.config_summary(doc(CONFIG_AMD64)) == {
        'created': '2026-11-20T10:00:00Z',
        'labels': {'org.opencontainers.image.revision': 'abc123', 'team': 'kiln'},
        'platform': {'os': 'linux', 'architecture': 'amd64', 'variant': None},
    }
    # "Labels": null is what images without labels carry.
    assert manifests.config_summary(doc(CONFIG_ARM64))['labels'] == {}
    assert manifests.config_summary({}) == {'created': None, 'labels': {},
                                            'platform': {'os': None, 'architecture': None, 'variant': None}}


def test_schema1_summary():
    summary = manifests.schema1_summary(doc(SCHEMA1))
    assert summary['labels'] == {'a': 'b'} and summary['created'] == '2016-01-01T00:00:00Z'
    assert summary['platform']['architecture'] == 'amd64'


def test_artifact_config_is_not_an_image_config():
    config = manifests.image_summary(doc(HELM_CHART))['config']
    assert not manifests.is_image_config(config['media_type'])
    assert manifests.is_image_config(manifests.DOCKER_CONFIG) and manifests.is_image_config(manifests.OCI_CONFIG + '; charset=utf-8')


@pytest.mark.parametrize('data', [b'not json', b'[]', b'\xff'])
def test_load_json_errors(data):
    with pytest.raises(RegistryError, match='manifest'):
        manifests.load_json(data, 'manifest')


def test_sha256_digest():
    assert manifests.sha256_digest(b'') == 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'


def test_image_index_is_canonical_and_typed_after_its_images():
    docker = 'application/vnd.docker.distribution.manifest.v2+json'
    oci = 'application/vnd.oci.image.manifest.v1+json'
    entry = dict(digest='sha256:' + 'a' * 64, size=10, platform={'os': 'linux', 'architecture': 'arm64',
                                                                 'variant': None}, media_type=docker)
    body, media_type = manifests.image_index([entry])
    assert media_type == manifests.DOCKER_LIST
    assert body == (b'{"manifests":[{"digest":"sha256:' + b'a' * 64 + b'","mediaType":"' + docker.encode() +
                    b'","platform":{"architecture":"arm64","os":"linux"},"size":10}],"mediaType":"' +
                    manifests.DOCKER_LIST.encode() + b'","schemaVersion":2}')
    assert manifests.image_index([dict(entry, media_type=oci)])[1] == manifests.OCI_INDEX
    assert manifests.image_index([entry, dict(entry, media_type=oci)])[1] == manifests.OCI_INDEX
    with pytest.raises(RegistryError):
        manifests.image_index([])
