# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OCI 1.1 referrers read and written, on the answers real registries gave (fixtures of tests/lab/record_referrers.py:
Debian's distribution 2.8.2, which has no referrers API, and go-containerregistry's registry, which has one) and on
the shared fake registry for what is written."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._registry import referrers
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import OCI_INDEX, sha256_digest
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import (
    FakeRegistry,
    recorded_content,
)

BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json'
SPDX = 'application/spdx+json'
SBOM = b'{"spdxVersion":"SPDX-2.3","name":"x","packages":[]}\n'


def client_of(fake):
    return RegistryClient('registry.test:5000', opener=fake)


def recorded(name):
    fixture = load_fixture(name)
    return fixture, FakeRegistry(recorded_content(fixture))


@pytest.mark.parametrize('digest, tag', [
    # The referrers tag schema of the OCI distribution spec 1.1 (spec.md, "Referrers Tag Schema"):
    # <alg>-<ref>, the algorithm cut to 32 characters and the reference to 64.
    ('sha256:' + 'ab' * 32, 'sha256-' + 'ab' * 32),
    ('sha512:' + 'cd' * 64, 'sha512-' + 'cd' * 32),
    ('a' * 40 + ':0123', 'a' * 32 + '-0123'),
])
def test_the_fallback_tag_follows_the_referrers_tag_schema(digest, tag):
    assert referrers.fallback_tag(digest) == tag


def test_a_reference_that_is_no_digest_has_no_fallback_tag():
    with pytest.raises(RegistryError, match='is not a digest'):
        referrers.fallback_tag('latest')


@pytest.mark.parametrize('name, types', [
    ('cosign_v3.1.3_bundles_distribution_2.8.json', [BUNDLE, BUNDLE, SPDX]),  # and the collection's SBOM
    ('cosign_v3.1.3_bundles_distribution_3.1.2.json', [BUNDLE, BUNDLE]),
])
def test_distribution_has_no_referrers_api_and_the_fallback_tag_lists_cosign_3_bundles(name, types):
    fixture, fake = recorded(name)
    client = client_of(fake)
    image = fixture['digests'][0]
    assert client.referrers('w3', image) is None  # 404 "404 page not found", the router's own
    found = referrers.referrers(client, 'w3', image)
    assert found.source == referrers.TAG
    assert [item['artifactType'] for item in found.descriptors] == types
    bundles = referrers.artifacts(client, 'w3', image, (BUNDLE,))
    assert len(bundles) == 2
    predicate_types = sorted(item.manifest['annotations']['dev.sigstore.bundle.predicateType'] for item in bundles)
    assert predicate_types == ['https://sigstore.dev/cosign/sign/v1', 'https://spdx.dev/Document']


def test_the_manifest_not_the_index_says_what_an_artifact_is():
    fixture, fake = recorded('cosign_v3.1.3_bundles_referrers_api.json')
    client = client_of(fake)
    image = fixture['digests'][0]
    found = referrers.referrers(client, 'w3', image)
    assert found.source == referrers.API
    # go-containerregistry's registry lists a bundle under its configuration's media type.
    assert {item['artifactType'] for item in found.descriptors} == {referrers.EMPTY_MEDIA_TYPE}
    assert [item.artifact_type for item in referrers.artifacts(client, 'w3', image, (BUNDLE,))] == [BUNDLE, BUNDLE]


def test_an_artifact_that_names_another_subject_is_not_one_of_its_referrers():
    fixture, fake = recorded('cosign_v3.1.3_bundles_distribution_2.8.json')
    index, image = fixture['digests'][1], fixture['digests'][0]
    # The image's fallback tag served for the index: its entries are about the image.
    fake.content['/v2/w3/manifests/' + referrers.fallback_tag(index)] = fake.content[
        '/v2/w3/manifests/' + referrers.fallback_tag(image)]
    assert referrers.artifacts(client_of(fake), 'w3', index, (BUNDLE, SPDX)) == []


def test_what_the_collection_attached_is_what_was_recorded():
    for name in ('sbom_artifact_distribution_2.8.json', 'sbom_artifact_distribution_3.1.2.json',
                 'sbom_artifact_referrers_api.json'):
        fixture, fake = recorded(name)
        client = client_of(fake)
        for digest in fixture['digests']:
            (artifact,) = referrers.artifacts(client, 's1', digest, (SPDX,))
            assert artifact.manifest['subject']['digest'] == digest
            assert client.get_blob('s1', artifact.manifest['layers'][0]['digest']) == SBOM


def image_registry(**kwargs):
    image = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                        'config': {}, 'layers': []}).encode()
    digest = sha256_digest(image)
    headers = [('Content-Type', 'application/vnd.oci.image.manifest.v1+json')]
    content = {'/v2/': ([], b'{}'), '/v2/team/app/manifests/' + digest: (headers, image)}
    return FakeRegistry(content, **kwargs), digest, len(image)


def test_without_a_referrers_api_the_artifact_goes_into_the_fallback_tag_once():
    fake, digest, size = image_registry()
    client = client_of(fake)
    attached = referrers.attach(client, 'team/app', digest, SPDX, SBOM, SPDX, {'format': 'spdx-json'})
    assert attached.changed and attached.fallback_tag == 'sha256-' + digest[7:]
    manifest = json.loads(fake.content['/v2/team/app/manifests/' + attached.digest][1])
    assert manifest['artifactType'] == SPDX and manifest['config'] == referrers.EMPTY_DESCRIPTOR
    assert manifest['subject'] == {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': digest,
                                   'size': size}
    assert manifest['layers'] == [{'mediaType': SPDX, 'digest': sha256_digest(SBOM), 'size': len(SBOM)}]
    index = json.loads(fake.content['/v2/team/app/manifests/' + attached.fallback_tag][1])
    assert index['mediaType'] == OCI_INDEX
    assert index['manifests'] == [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': attached.digest,
                                   'size': len(fake.content['/v2/team/app/manifests/' + attached.digest][1]),
                                   'artifactType': SPDX, 'annotations': {'format': 'spdx-json'}}]
    written = len(fake.written)
    again = referrers.attach(client, 'team/app', digest, SPDX, SBOM, SPDX, {'format': 'spdx-json'})
    assert again == referrers.Attached(attached.digest, False, None) and len(fake.written) == written


def test_a_registry_that_indexes_the_subject_gets_no_fallback_tag():
    fake, digest, _size = image_registry(referrers_api=True)
    attached = referrers.attach(client_of(fake), 'team/app', digest, SPDX, SBOM, SPDX)
    assert attached.changed and attached.fallback_tag is None
    assert '/v2/team/app/manifests/sha256-' + digest[7:] not in fake.content
    assert [item['digest'] for item in referrers.referrers(client_of(fake), 'team/app', digest).descriptors] == [
        attached.digest]


def test_cosign_s_entries_in_the_fallback_tag_are_kept():
    fixture, fake = recorded('cosign_v3.1.3_bundles_distribution_2.8.json')
    image = fixture['digests'][0]
    tag = '/v2/w3/manifests/' + referrers.fallback_tag(image)
    before = json.loads(fake.content[tag][1])['manifests']
    attached = referrers.attach(client_of(fake), 'w3', image, 'application/vnd.cyclonedx+json', b'{}',
                                'application/vnd.cyclonedx+json')
    after = json.loads(fake.content[tag][1])['manifests']
    assert after[:len(before)] == before and after[-1]['digest'] == attached.digest


def test_a_subject_the_registry_does_not_hold_is_refused():
    fake, _digest, _size = image_registry()
    with pytest.raises(RegistryError, match='holds no manifest sha256:0000'):
        referrers.attach(client_of(fake), 'team/app', 'sha256:' + '0' * 64, SPDX, SBOM, SPDX)


def test_the_blobs_are_uploaded_once_by_digest():
    fake, _digest, _size = image_registry()
    client = client_of(fake)
    assert client.put_blob('team/app', SBOM) == sha256_digest(SBOM)
    assert client.put_blob('team/app', SBOM) == sha256_digest(SBOM)
    posts = [request for request in fake.requests if request[0] == 'POST']
    assert len(posts) == 1 and client.has_blob('team/app', sha256_digest(SBOM))
