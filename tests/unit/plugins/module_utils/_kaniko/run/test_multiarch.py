# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The builds of platforms as groups: the node check, the skip by index and the index written, against the
registry fake (it stores what is PUT, as distribution does)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import FOUND, MISSING, Decision
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import multiarch
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    sha256_digest,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fake_registry import FakeRegistry
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry.fixtures import (
    CONFIG_AMD64,
    CONFIG_ARM64,
    image_manifest,
)

TWO = ['linux/amd64', 'linux/arm64']
DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'
IMAGES = {
    'linux/amd64': image_manifest(CONFIG_AMD64, DOCKER_MANIFEST, DOCKER_CONFIG),
    'linux/arm64': image_manifest(CONFIG_ARM64, DOCKER_MANIFEST, DOCKER_CONFIG),
}
DIGESTS = dict((platform, sha256_digest(body)) for platform, body in IMAGES.items())


def registry_with_images(images=None):
    content = {'/v2/': ([], b'{}')}
    for body in (images or IMAGES).values():
        content['/v2/team/app/manifests/' + sha256_digest(body)] = ([('Content-Type', DOCKER_MANIFEST)], body)
    for config in (CONFIG_AMD64, CONFIG_ARM64):
        content['/v2/team/app/blobs/' + sha256_digest(config)] = ([], config)
    return FakeRegistry(content)


def lookup_on(registry):
    return RegistryLookup(lambda namespace, name: None,
                          client_class=lambda host, **kwargs: RegistryClient(host, opener=registry, **kwargs))


def group(**overrides):
    params = dict(platforms=TWO, destinations=['registry.test:5000/team/app:1.0'], insecure=False, cache=False)
    params.update(overrides)
    units, groups = multiarch.expand([make_spec(**params)])
    return units, groups[0]


def prepared_found(units, digests):
    return [SimpleNamespace(spec=unit, decision=Decision(FOUND, 'found', None, 'sha256:k' + unit.platform,
                                                         digests[unit.platform],
                                                         ('registry.test:5000/team/app@' + digests[unit.platform],)))
            for unit in units]


def built(platform, **extra):
    result = dict(changed=True, failed=False, digest=DIGESTS[platform], pod_name='p-' + platform, duration=3.0,
                  build_key='sha256:k' + platform, commit='c' * 40)
    result.update(extra)
    return result


def test_expand_makes_one_unit_per_platform_and_a_build_without_platforms_its_own():
    specs = [make_spec(platforms=TWO), make_spec()]
    units, groups = multiarch.expand(specs)
    assert [unit.platform for unit in units] == ['linux/amd64', 'linux/arm64', None]
    assert [g.units for g in groups] == [(0, 1), (2,)] and [g.multi for g in groups] == [True, False]


def test_the_index_lists_each_platform_from_its_config_and_is_the_results_digest():
    registry = registry_with_images()
    units, g = group()
    result = multiarch.conclude(g, [built(p) for p in TWO], prepared_found(units, DIGESTS), lookup_on(registry))
    assert result['failed'] is False and result['changed'] is True
    (path, media_type, body), = registry.written
    assert path == '/v2/team/app/manifests/1.0' and media_type == DOCKER_LIST
    doc = json.loads(body)
    assert [(m['digest'], m['platform']) for m in doc['manifests']] == [
        (DIGESTS['linux/amd64'], {'os': 'linux', 'architecture': 'amd64'}),
        (DIGESTS['linux/arm64'], {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'})]
    assert [m['size'] for m in doc['manifests']] == [len(IMAGES[p]) for p in TWO]
    assert result['digest'] == sha256_digest(body)
    assert result['image'] == 'registry.test:5000/team/app@' + sha256_digest(body)
    assert [m['platform'] for m in result['manifests']] == TWO
    assert result['manifests'][1]['pod_name'] == 'p-linux/arm64' and result['commit'] == 'c' * 40
    assert result['build_key'] == multiarch.group_key(['sha256:klinux/amd64', 'sha256:klinux/arm64'])


def test_oci_images_make_an_oci_index():
    oci = dict((platform, image_manifest(config)) for platform, config in zip(TWO, (CONFIG_AMD64, CONFIG_ARM64)))
    registry = registry_with_images(oci)
    digests = dict((platform, sha256_digest(body)) for platform, body in oci.items())
    units, g = group()
    results = [dict(built(p), digest=digests[p]) for p in TWO]
    multiarch.conclude(g, results, prepared_found(units, digests), lookup_on(registry))
    assert registry.written[0][1] == OCI_INDEX


def test_a_group_is_skipped_only_when_every_destination_indexes_every_platforms_image():
    registry = registry_with_images()
    units, g = group()
    prepared = prepared_found(units, DIGESTS)
    lookup = lookup_on(registry)
    assert multiarch.index_decision(g, prepared, lookup) is None  # no index yet
    multiarch.conclude(g, [built(p) for p in TWO], prepared, lookup)
    digest, images = multiarch.index_decision(g, prepared, lookup)
    assert digest == sha256_digest(registry.written[0][2]) and images == ['registry.test:5000/team/app@' + digest]
    other = dict(DIGESTS, **{'linux/arm64': 'sha256:' + '9' * 64})
    assert multiarch.index_decision(g, prepared_found(units, other), lookup) is None
    missing = prepared_found(units, DIGESTS)
    missing[1] = SimpleNamespace(spec=units[1], decision=Decision(MISSING, 'not there'))
    assert multiarch.index_decision(g, missing, lookup) is None


def test_a_skipped_platform_goes_into_the_index_with_its_existing_image():
    registry = registry_with_images()
    units, g = group()
    results = [dict(changed=False, failed=False, skipped_reason='found', digest=DIGESTS['linux/amd64']),
               built('linux/arm64')]
    result = multiarch.conclude(g, results, prepared_found(units, DIGESTS), lookup_on(registry))
    assert result['changed'] is True and result['manifests'][0]['skipped'] is True
    assert result['msg'] == ('Built linux/arm64 and pushed the index of linux/amd64, linux/arm64 to '
                             'registry.test:5000/team/app:1.0')
    assert len(json.loads(registry.written[0][2])['manifests']) == 2


def test_a_failed_platform_fails_the_build_and_pushes_no_index():
    registry = registry_with_images()
    units, g = group()
    results = [dict(failed=True, cancelled=True, msg='Cancelled: the build of linux/arm64 failed', pod_name='a'),
               dict(failed=True, msg='The build failed: RUN exited 1', rc=1, container='kaniko', reason='Error',
                    pod_name='b', pod_kept=True)]
    result = multiarch.conclude(g, results, prepared_found(units, DIGESTS), lookup_on(registry))
    assert result['failed'] is True and registry.written == []
    assert result['msg'] == 'platform linux/arm64: The build failed: RUN exited 1'
    assert (result['rc'], result['container'], result['reason'], result['pod_kept']) == (1, 'kaniko', 'Error', True)
    assert result['pod_name'] == 'b'
    assert result['manifests'][0]['msg'] == 'Cancelled: the build of linux/arm64 failed'


def test_an_index_the_registry_refuses_fails_the_build_naming_the_destination():
    registry = registry_with_images()
    registry.content[('PUT', '/v2/team/app/manifests/1.0')] = 403
    units, g = group()
    result = multiarch.conclude(g, [built(p) for p in TWO], prepared_found(units, DIGESTS), lookup_on(registry))
    assert result['failed'] is True
    assert result['msg'].startswith('Could not write the index of registry.test:5000/team/app:1.0: ')
    assert 'HTTP 403' in result['msg']


def node(arch):
    return {'metadata': {'labels': {'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch}}, 'spec': {}}


def test_check_nodes_refuses_the_platform_without_a_node_before_anything_runs():
    units, g = group()
    errors = multiarch.check_nodes([g], units, lambda: [node('amd64')], None)
    assert errors[0].option == 'platforms[1]' and 'no schedulable node is linux/arm64' in errors[0].message
    assert multiarch.check_nodes([g], units, lambda: [node('amd64'), node('arm64')], None) == {}
    units, crossed = group(cross_build=True)
    assert multiarch.check_nodes([crossed], units, lambda: [], None) == {}


def test_check_nodes_warns_when_nodes_may_not_be_listed():
    units, g = group()
    warnings = []

    class Forbidden:
        """A cluster whose API server refuses to list nodes, as RBAC does."""

        @staticmethod
        def list_node(**_kwargs):
            exc = ApiException(status=403, reason='Forbidden')
            exc.body = json.dumps({'message': 'nodes is forbidden: User "system:serviceaccount:awx:default" cannot '
                                              'list resource "nodes" in API group "" at the cluster scope'})
            raise exc

    forbidden = KubernetesEngine(Forbidden()).nodes
    assert multiarch.check_nodes([g], units, forbidden, warnings.append) == {}
    assert warnings == [
        'Could not list the nodes to check that each platform has one: nodes is forbidden: User '
        '"system:serviceaccount:awx:default" cannot list resource "nodes" in API group "" at the cluster scope; grant '
        "the verb 'list' on 'nodes' to the account the module runs as (docs/awx.md lists the Role a build needs); "
        'nodes are cluster-wide, so that takes a ClusterRole. A platform without a node ends when '
        'unschedulable_timeout runs out']


def test_an_index_with_a_platform_no_longer_asked_for_or_in_another_order_is_written_again():
    registry = registry_with_images()
    lookup = lookup_on(registry)
    units, g = group()
    prepared = prepared_found(units, DIGESTS)
    multiarch.conclude(g, [built(p) for p in TWO], prepared, lookup)
    assert multiarch.index_decision(g, prepared, lookup) is not None
    fewer_units, fewer = group(platforms=['linux/amd64'])
    assert multiarch.index_decision(fewer, prepared_found(fewer_units, DIGESTS), lookup) is None
    swapped_units, swapped = group(platforms=['linux/arm64', 'linux/amd64'])
    assert multiarch.index_decision(swapped, prepared_found(swapped_units, DIGESTS), lookup) is None
