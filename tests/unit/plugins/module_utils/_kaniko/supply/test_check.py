# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether the registry holds a build's signature and SBOM, on what cosign itself wrote: the fixtures are the
registry's answers after `cosign sign`, `cosign attest --type spdxjson` and `cosign attach sbom` of one image by
the lab's build of cosign v2.6.5 (fixtures/cosign_v2.6.5.json says how it was made), after cosign v3.1.3 signed
and attested an image and an index in each of its ways on a registry with and one without the referrers API, and
after the collection attached an SBOM artifact (fixtures/README.md)."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import check
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture, make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import (
    FakeRegistry,
    recorded_content,
)

FIXTURE = load_fixture('cosign_v2.6.5.json')
DIGEST = FIXTURE['digest']
PUBLIC_KEY = FIXTURE['public_key']
REPOSITORY = 'team/app'


def other_key():
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def registry(suffixes=('sig', 'att', 'sbom'), digest=DIGEST):
    content = {'/v2/': ([], b'{}')}
    for tag, manifest in FIXTURE['manifests'].items():
        if tag.rsplit('.', 1)[1] in suffixes:
            tag = digest.replace(':', '-') + '.' + tag.rsplit('.', 1)[1]
            content['/v2/{0}/manifests/{1}'.format(REPOSITORY, tag)] = (
                [('Content-Type', manifest['content_type'])], manifest['body'].encode())
    for blob, data in FIXTURE['blobs'].items():
        content['/v2/{0}/blobs/{1}'.format(REPOSITORY, blob)] = ([], base64.b64decode(data))
    return FakeRegistry(content)


def lookup_on(fake):
    return RegistryLookup(lambda namespace, name: None,
                          client_class=lambda host, **kwargs: RegistryClient(host, opener=fake, **kwargs))


def spec(**overrides):
    params = dict(destinations=['registry.test:5000/team/app:1'], insecure=False, cache=False,
                  sign=dict(key_secret='cosign-keys'), sbom=dict(format='spdx-json'))
    params.update(overrides)
    return make_spec(**params)


def test_what_cosign_wrote_is_found_and_verified_with_its_public_key():
    assert check.HAS_CRYPTOGRAPHY
    assert check.missing(spec(), lookup_on(registry()), DIGEST, PUBLIC_KEY) == (False, False)


def test_a_signature_by_another_key_does_not_count():
    assert check.missing(spec(), lookup_on(registry()), DIGEST, other_key()) == (True, True)


def test_a_signature_of_another_digest_does_not_count():
    other = 'sha256:' + '0' * 64
    # The same manifests served under the other digest's tags: their payloads still name the signed digest.
    assert check.missing(spec(), lookup_on(registry(digest=other)), other, PUBLIC_KEY) == (True, True)


def test_what_lacks_is_named_alone():
    assert check.missing(spec(), lookup_on(registry(('sig',))), DIGEST, PUBLIC_KEY) == (False, True)
    assert check.missing(spec(), lookup_on(registry(('att',))), DIGEST, PUBLIC_KEY) == (True, False)
    assert check.missing(spec(sbom=None), lookup_on(registry(("sig",))), DIGEST, PUBLIC_KEY) == (False, False)


def test_an_attestation_of_another_predicate_type_does_not_count():
    wanted = spec(sbom=dict(format='cyclonedx-json'))
    assert check.missing(wanted, lookup_on(registry()), DIGEST, PUBLIC_KEY) == (False, True)


def test_an_unsigned_sbom_is_found_by_its_media_type():
    unsigned = spec(sign=None)
    assert check.missing(unsigned, lookup_on(registry(('sbom',))), DIGEST, None) == (False, False)
    assert check.missing(unsigned, lookup_on(registry(('sig',))), DIGEST, None) == (False, True)
    cyclonedx = spec(sign=None, sbom=dict(format='cyclonedx-json'))
    assert check.missing(cyclonedx, lookup_on(registry(('sbom',))), DIGEST, None) == (False, True)


def test_an_unreachable_registry_counts_as_lacking_both():
    fake = registry()
    fake.content['/v2/team/app/manifests/' + DIGEST.replace(':', '-') + '.sig'] = 500
    assert check.missing(spec(), lookup_on(fake), DIGEST, PUBLIC_KEY) == (True, True)


def test_the_dsse_pre_authentication_encoding():
    # From the DSSE specification (protocol.md): PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
    assert check.pae('http://example.com/HelloWorld', b'hello world') == \
        b'DSSEv1 29 http://example.com/HelloWorld 11 hello world'


def test_the_attested_sbom_is_written_to_dest_and_a_second_time_changes_nothing(tmp_path):
    dest = str(tmp_path / 'sbom.json')
    wanted = spec(sbom=dict(format='spdx-json', dest=dest))
    changed, sha256 = check.write_sbom(wanted, lookup_on(registry()), DIGEST)
    with open(dest) as handle:
        written = json.load(handle)
    assert changed and len(sha256) == 64
    assert written['spdxVersion'] == 'SPDX-2.3' and written['name'] == 'kiln-fixture'
    assert check.write_sbom(wanted, lookup_on(registry()), DIGEST) == (False, sha256)
    assert not os.path.exists(dest + '.kiln-partial')


def test_an_unsigned_sbom_is_written_as_attached():
    wanted = spec(sign=None, sbom=dict(format='spdx-json', dest='/nonexistent/unused'))
    document = check.sbom_document(wanted, lookup_on(registry(('sbom',))), DIGEST)
    assert json.loads(document)['name'] == 'kiln-fixture'


def test_no_sbom_in_the_registry_fails_naming_sbom_dest(tmp_path):
    wanted = spec(sbom=dict(format='spdx-json', dest=str(tmp_path / 'sbom.json')))
    with pytest.raises(ValidationError) as raised:
        check.write_sbom(wanted, lookup_on(registry(('sig',))), DIGEST)
    assert raised.value.message.startswith('sbom.dest: the registry holds no SBOM of ' + DIGEST)


def test_without_the_public_key_a_signature_there_counts_and_the_module_says_it_did_not_verify():
    warnings = []
    assert check.missing(spec(), lookup_on(registry()), DIGEST, None, warnings.append) == (False, False)
    assert len(warnings) == 1 and 'without verifying' in warnings[0] and 'cosign.pub' in warnings[0]


V3_FIXTURES = ('cosign_v3.1.3_bundles_distribution_2.8.json', 'cosign_v3.1.3_bundles_distribution_3.1.2.json',
               'cosign_v3.1.3_bundles_referrers_api.json', 'cosign_v3.1.3_legacy_distribution_2.8.json')


def recorded_lookup(name):
    fixture = load_fixture(name)
    return fixture, lookup_on(FakeRegistry(recorded_content(fixture, REPOSITORY)))


@pytest.mark.parametrize('name', V3_FIXTURES)
def test_what_cosign_3_wrote_is_found_for_an_image_and_an_index_in_each_of_its_ways(name):
    fixture, lookup = recorded_lookup(name)
    for digest in fixture['digests']:
        assert check.missing(spec(), lookup, digest, fixture['public_key']) == (False, False)
        assert check.missing(spec(), lookup, digest, other_key()) == (True, True)
        wanted = spec(sbom=dict(format='cyclonedx-json'))
        assert check.missing(wanted, lookup, digest, fixture['public_key']) == (False, True)


@pytest.mark.parametrize('name', V3_FIXTURES)
def test_the_sbom_cosign_3_attested_is_its_predicate(name):
    fixture, lookup = recorded_lookup(name)
    document = check.sbom_document(spec(), lookup, fixture['digests'][0])
    assert json.loads(document) == {'spdxVersion': 'SPDX-2.3', 'name': 'x', 'packages': []}


def test_a_bundle_about_another_digest_does_not_count():
    fixture, lookup = recorded_lookup('cosign_v3.1.3_bundles_referrers_api.json')
    image, index = fixture['digests']
    fake = FakeRegistry(recorded_content(fixture, REPOSITORY))
    # The index's referrers answered for the image: bundles whose statements are about the index.
    fake.content['/v2/team/app/referrers/' + image] = fake.content['/v2/team/app/referrers/' + index]
    assert check.missing(spec(), lookup_on(fake), image, fixture['public_key']) == (True, True)


@pytest.mark.parametrize('name', ('sbom_artifact_distribution_2.8.json', 'sbom_artifact_distribution_3.1.2.json',
                                  'sbom_artifact_referrers_api.json', 'cosign_v3.1.3_bundles_distribution_2.8.json'))
def test_the_sbom_artifact_the_collection_attached_is_found_and_read(name):
    fixture, lookup = recorded_lookup(name)
    unsigned = spec(sign=None)
    for digest in fixture['digests']:
        assert check.missing(unsigned, lookup, digest, None) == (False, False)
        assert check.missing(spec(sign=None, sbom=dict(format='cyclonedx-json')), lookup, digest, None) == (
            False, True)
        assert json.loads(check.sbom_document(unsigned, lookup, digest))['spdxVersion'] == 'SPDX-2.3'


def test_legacy_tags_that_answer_spare_the_referrers_lookup():
    fake = registry()
    assert check.missing(spec(), lookup_on(fake), DIGEST, PUBLIC_KEY) == (False, False)
    assert not [url for _method, url, _headers, _kwargs in fake.requests if '/referrers/' in url or url.endswith(
        '/manifests/' + DIGEST.replace(':', '-'))]
