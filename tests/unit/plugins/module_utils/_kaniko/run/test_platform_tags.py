# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The per-platform tags after the index: deleted where the registry deletes tags, kept (and why) where it does not,
and a second run skipped either way. The registry fake answers each DELETE as distribution 3.1.2 and Debian's 2.8.2
answered it (tests/lab/record_registry.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import FOUND, MISSING, build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.decide import identify
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import multiarch, platform_tags
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BUILD_KEY_LABEL
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import OCI_MANIFEST, sha256_digest
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import (
    FakeRegistry,
    recorded,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fixtures import dump, image_manifest

COMMIT = 'c' * 40
TWO = ['linux/amd64', 'linux/arm64']
REPO = '/v2/team/app'


class Resolver(object):
    def resolve(self, namespace, git):
        return COMMIT


def setup(recording, scenario='delete_enabled', destinations=('registry.test:5000/team/app:1.0',)):
    units, groups = multiarch.expand([make_spec(platforms=TWO, destinations=list(destinations), cache=False,
                                                insecure=False)])
    registry = FakeRegistry({'/v2/': ([], b'{}')}, deletes=recorded(recording, scenario))
    lookup = RegistryLookup(lambda namespace, name: None,
                            client_class=lambda host, **kwargs: RegistryClient(host, opener=registry, **kwargs))
    return units, groups[0], registry, lookup


def push(registry, unit, label=None):
    """What Kaniko pushes for ``unit``: its config (labelled with its build key), its image under its per-platform
    tags and its digest. Returns the digest."""
    arch = unit.platform.split('/')[1]
    config = dump({'architecture': arch, 'os': 'linux',
                   'config': {'Labels': {BUILD_KEY_LABEL: label or build_key(unit, COMMIT)}}})
    body = image_manifest(config)
    digest = sha256_digest(body)
    registry.content[REPO + '/blobs/' + sha256_digest(config)] = ([], config)
    answer = ([('Content-Type', OCI_MANIFEST), ('Docker-Content-Digest', digest)], body)
    registry.content[REPO + '/manifests/' + digest] = answer
    for ref in unit.destination_refs:
        registry.content[REPO + '/manifests/' + ref.tag] = answer
    return digest


def prepared(units, lookup):
    return [SimpleNamespace(spec=unit, decision=identify(unit, Resolver(), lookup)) for unit in units]


def first_run(recording, scenario='delete_enabled'):
    units, group, registry, lookup = setup(recording, scenario)
    assert [p.decision.check for p in prepared(units, lookup)] == [MISSING, MISSING]
    digests = [push(registry, unit) for unit in units]
    results = [dict(changed=True, failed=False, digest=digest) for digest in digests]
    result = multiarch.conclude(group, results, prepared(units, lookup), lookup)
    assert result['failed'] is False and result['changed'] is True
    return units, group, registry, lookup, digests, result


def test_distribution_3_deletes_the_platform_tags_and_keeps_the_images_the_index_lists():
    units, group, registry, lookup, digests, result = first_run('distribution-3.1')
    assert result['platform_tags'] == dict(deleted=['registry.test:5000/team/app:1.0-linux-amd64',
                                                    'registry.test:5000/team/app:1.0-linux-arm64'],
                                           kept=[], reason=None)
    assert registry.deleted == [REPO + '/manifests/1.0-linux-amd64', REPO + '/manifests/1.0-linux-arm64']
    index = json.loads(registry.content[REPO + '/manifests/1.0'][1])
    assert [entry['digest'] for entry in index['manifests']] == digests
    assert all(REPO + '/manifests/' + digest in registry.content for digest in digests)


def test_a_second_run_finds_each_platform_in_the_index_and_is_skipped():
    units, group, registry, lookup, digests, result = first_run('distribution-3.1')
    again = prepared(units, lookup)
    assert [p.decision.check for p in again] == [FOUND, FOUND]
    assert [p.decision.digest for p in again] == digests
    assert again[0].decision.detail.startswith(
        'registry.test:5000/team/app:1.0 (linux/amd64 in its index) already holds an image built from commit ')
    assert multiarch.index_decision(group, again, lookup) == (result['digest'], [result['image']])


def test_a_platform_whose_image_in_the_index_is_of_another_build_key_builds_again():
    units, group, registry, lookup, digests, result = first_run('distribution-3.1')
    other = make_spec(platforms=TWO, destinations=['registry.test:5000/team/app:1.0'], cache=False, insecure=False,
                      build_args={'VERSION': '2'})
    decisions = [identify(unit, Resolver(), lookup) for unit in multiarch.expand([other])[0]]
    assert [d.check for d in decisions] == [MISSING, MISSING]
    assert decisions[0].detail.startswith('registry.test:5000/team/app:1.0 (linux/amd64 in its index) holds an image '
                                          'of another build key')


@pytest.mark.parametrize('scenario, why', [
    ('delete_enabled', 'it deletes manifests by digest only, not tags (distribution before 3.0)'),
    ('delete_disabled', 'it accepts no deletes (storage.delete.enabled is false, or it is read-only or a '
                        'pull-through cache)'),
])
def test_distribution_2_8_keeps_the_platform_tags_and_the_result_says_why(scenario, why):
    units, group, registry, lookup, digests, result = first_run('distribution-2.8', scenario)
    tags = result['platform_tags']
    assert tags['deleted'] == [] and tags['kept'] == ['registry.test:5000/team/app:1.0-linux-amd64',
                                                      'registry.test:5000/team/app:1.0-linux-arm64']
    assert tags['reason'].startswith('https://registry.test:5000 keeps the tag 1.0-linux-amd64 of team/app: ' + why)
    # One refusal is enough: the second tag is not asked for.
    assert [method for method, _url, _h, _o in registry.requests].count('DELETE') == 1
    again = prepared(units, lookup)
    assert [p.decision.check for p in again] == [FOUND, FOUND]
    assert again[0].decision.detail.startswith('registry.test:5000/team/app:1.0-linux-amd64 already holds')


def test_a_tag_that_names_another_image_now_is_kept_and_one_gone_already_is_left_out():
    units, group, registry, lookup = setup('distribution-3.1')
    digests = [push(registry, unit) for unit in units]
    moved = push(registry, units[0], label='sha256:' + 'e' * 64)
    del registry.content[REPO + '/manifests/1.0-linux-arm64']
    tags = platform_tags.delete(group.spec, [[digest] for digest in digests], lookup)
    assert tags == dict(deleted=[], kept=['registry.test:5000/team/app:1.0-linux-amd64'], reason=(
        'registry.test:5000/team/app:1.0-linux-amd64 names {0}, not the image the index lists; an image pushed '
        'since keeps its tag').format(moved))
    assert registry.deleted == []


class DeletesImages(FakeRegistry):
    """A registry that deletes the image with its tag (not what distribution does)."""

    def _delete(self, url, path):
        digest = self.content[path][0][1][1]  # the Docker-Content-Digest header push() gives the tag
        answer = super()._delete(url, path)
        self.content.pop(REPO + '/manifests/' + digest)
        return answer


def test_a_registry_that_deleted_the_image_with_its_tag_gets_no_further_deletes():
    units, group, _registry, _lookup = setup('distribution-3.1')
    registry = DeletesImages({'/v2/': ([], b'{}')}, deletes=recorded('distribution-3.1', 'delete_enabled'))
    lookup = RegistryLookup(lambda namespace, name: None,
                            client_class=lambda host, **kwargs: RegistryClient(host, opener=registry, **kwargs))
    digests = [push(registry, unit) for unit in units]
    tags = platform_tags.delete(group.spec, [[digest] for digest in digests], lookup)
    assert tags['deleted'] == ['registry.test:5000/team/app:1.0-linux-amd64']
    assert tags['kept'] == ['registry.test:5000/team/app:1.0-linux-arm64']
    assert tags['reason'] == ('registry.test:5000 deleted the image {0} with its tag (the index lists it); the other '
                              'tags are kept, and the next run builds it again').format(digests[0])
