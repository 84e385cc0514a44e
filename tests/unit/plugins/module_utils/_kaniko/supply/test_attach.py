# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The unsigned SBOM attached by the module to every destination's repository, and found again, on the shared fake
registry (with and without the referrers API) and on what real registries answered (fixtures/README.md)."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import attach, check
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.supply.test_check import (
    REPOSITORY,
    lookup_on,
    spec,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import (
    FakeRegistry,
    recorded_content,
)

SBOM = b'{"spdxVersion":"SPDX-2.3","name":"app","packages":[]}\n'
IMAGE = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}'
DIGEST = sha256_digest(IMAGE)


def registry(**kwargs):
    content = {'/v2/': ([], b'{}')}
    for repository in (REPOSITORY, 'mirror'):
        content['/v2/{0}/manifests/{1}'.format(repository, DIGEST)] = (
            [('Content-Type', 'application/vnd.oci.image.manifest.v1+json')], IMAGE)
    return FakeRegistry(content, **kwargs)


def unsigned(**overrides):
    return spec(sign=None, destinations=['registry.test:5000/team/app:1', 'registry.test:5000/team/app:latest',
                                         'registry.test:5000/mirror:1'], **overrides)


@pytest.mark.parametrize('referrers_api', [False, True])
def test_the_sbom_is_attached_once_to_each_repository_and_found_again(referrers_api):
    fake = registry(referrers_api=referrers_api)
    lookup = lookup_on(fake)
    references = attach.attach(unsigned(), lookup, DIGEST, SBOM)
    assert [reference.split('@')[0] for reference in references] == ['registry.test:5000/team/app',
                                                                     'registry.test:5000/mirror']
    artifact = json.loads(fake.content['/v2/team/app/manifests/' + references[0].split('@')[1]][1])
    assert artifact['artifactType'] == 'application/spdx+json' and artifact['subject']['digest'] == DIGEST
    assert artifact['annotations'] == {'dev.kiln.kaniko.sbom.format': 'spdx-json'}
    tags = [path for path, _type, _body in fake.written if '/manifests/sha256-' in path]
    assert len(tags) == (0 if referrers_api else 2)
    assert attach.existing(unsigned(), lookup, DIGEST) == references
    assert check.missing(unsigned(), lookup, DIGEST, None) == (False, False)
    assert check.sbom_document(unsigned(), lookup, DIGEST) == SBOM
    written = len(fake.written)
    assert attach.attach(unsigned(), lookup, DIGEST, SBOM) == references and len(fake.written) == written


def test_a_refused_push_fails_naming_sbom_and_the_repository():
    fake = registry()
    fake.content[('PUT', '/v2/mirror/manifests/' + sha256_digest(json.dumps({}).encode()))] = 403
    fake.content['/v2/mirror/manifests/' + DIGEST] = 500
    with pytest.raises(KilnError) as raised:
        attach.attach(unsigned(), lookup_on(fake), DIGEST, SBOM)
    assert raised.value.message.startswith('sbom: could not attach the SBOM of {0} to registry.test:5000/mirror: '
                                           .format(DIGEST))


def test_an_sbom_cosign_attached_under_its_sbom_tag_is_named_by_that_tag():
    fixture = load_fixture('cosign_v2.6.5.json')
    content = {'/v2/': ([], b'{}')}
    for tag, manifest in fixture['manifests'].items():
        content['/v2/{0}/manifests/{1}'.format(REPOSITORY, tag)] = (
            [('Content-Type', manifest['content_type'])], manifest['body'].encode())
    for blob, data in fixture['blobs'].items():
        content['/v2/{0}/blobs/{1}'.format(REPOSITORY, blob)] = ([], base64.b64decode(data))
    found = attach.existing(spec(sign=None), lookup_on(FakeRegistry(content)), fixture['digest'])
    assert found == ['registry.test:5000/team/app:{0}.sbom'.format(fixture['digest'].replace(':', '-'))]


def test_what_the_collection_attached_on_a_real_registry_is_named_by_its_digest():
    fixture = load_fixture('sbom_artifact_distribution_2.8.json')
    lookup = lookup_on(FakeRegistry(recorded_content(fixture, REPOSITORY)))
    found = attach.existing(spec(sign=None), lookup, fixture['digests'][0])
    assert found == ['registry.test:5000/team/app@sha256:8f4f85f43e178bb0036a6d0cf4f6a8cf7feb85be677c738ad371892b5d09981f']
