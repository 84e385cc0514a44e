# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The option platforms: its checks, the per-platform specs and which nodes take which platform. Pure."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import platforms
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import NAME_LENGTH_MAX
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

TWO = ['linux/amd64', 'linux/arm64']


def refused(**overrides):
    with pytest.raises(ValidationError) as info:
        make_spec(**overrides)
    return info.value.message


@pytest.mark.parametrize('overrides, message', [
    (dict(platforms=TWO, platform='linux/amd64'), 'platforms: give platform (one) or platforms (several), not both'),
    (dict(platforms=[]), 'platforms: must list at least one platform, e.g. [linux/amd64, linux/arm64]'),
    (dict(platforms=['linux/amd64', 'linux']),
     "platforms[1]: 'linux' is not os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8"),
    (dict(platforms=['linux/arm64', 'linux/arm64/v8']),
     "platforms[1]: 'linux/arm64/v8' is listed already (platforms[0])"),
    (dict(platforms=TWO, push=False),
     'platforms: the index of the platforms is written to the destinations; set push to true (or leave it out)'),
    (dict(platforms=TWO, destinations=['registry:5000/rng:' + 'v' * 120]),
     "destinations[0]: the tag of platform linux/amd64 would be '" + 'v' * 120 + "-linux-amd64', longer than 128 "
     "characters; give a shorter tag"),
    (dict(platforms=TWO, pod=dict(node_selector={'kubernetes.io/arch': 'amd64'})),
     "pod.node_selector.kubernetes.io/arch: is 'amd64', but platform linux/arm64 builds on nodes with "
     "kubernetes.io/arch=arm64; leave kubernetes.io/arch out (the module pins each platform's pod), or set "
     "cross_build: true"),
    (dict(platforms=TWO, pod=dict(affinity=dict(node_affinity={'requiredDuringSchedulingIgnoredDuringExecution': {
        'nodeSelectorTerms': [{'matchExpressions': [
            {'key': 'kubernetes.io/arch', 'operator': 'NotIn', 'values': ['arm64']}]}]}}))),
     'pod.affinity.node_affinity: its required terms exclude the nodes of platform linux/arm64 (kubernetes.io/os=linux, '
     'kubernetes.io/arch=arm64); widen them, or set cross_build: true'),
])
def test_refusals_name_the_option_and_the_fix(overrides, message):
    assert refused(**overrides) == message


def test_a_tarball_holds_one_platform():
    message = refused(platforms=TWO, destinations=['app:1'], tarball=dict(dest='/tmp/app.tar'))
    assert message.startswith('platforms: a tarball holds the image of one platform')


def test_cross_build_lifts_the_placement_checks():
    spec = make_spec(platforms=TWO, cross_build=True, pod=dict(node_selector={'kubernetes.io/arch': 'amd64'}))
    assert spec.platforms == tuple(TWO) and spec.cross_build


def test_an_affinity_term_that_allows_the_platform_is_accepted():
    terms = [{'matchExpressions': [{'key': 'kubernetes.io/arch', 'operator': 'In', 'values': ['amd64']}]},
             {'matchExpressions': [{'key': 'kubernetes.io/arch', 'operator': 'In', 'values': ['arm64']}]}]
    spec = make_spec(platforms=TWO, pod=dict(affinity=dict(node_affinity={
        'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': terms}})))
    assert spec.platforms == tuple(TWO)


def test_normalize_and_slug():
    assert platforms.normalize('linux/arm64/v8') == 'linux/arm64'
    assert platforms.normalize('linux/amd64/v1') == 'linux/amd64'
    assert platforms.normalize('linux/arm/v7') == 'linux/arm/v7'
    assert platforms.slug('linux/arm/v7') == 'linux-arm-v7'


def test_each_platform_pushes_to_its_tag_and_is_pinned_to_its_nodes():
    spec = make_spec(platforms=TWO, destinations=['registry:5000/rng:1.0', 'registry:5000/rng'], cache=True,
                     pod=dict(node_selector={'pool': 'build'}))
    unit = platforms.unit_spec(spec, 'linux/arm64', NAME_LENGTH_MAX)
    assert unit.platform == 'linux/arm64' and unit.platforms == ()
    assert unit.destinations == ('registry:5000/rng:1.0-linux-arm64', 'registry:5000/rng:latest-linux-arm64')
    assert dict(unit.pod.node_selector) == {'pool': 'build', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64'}
    assert unit.cache_repo == spec.cache_repo + '-linux-arm64'
    assert unit.name == 'kiln-build-linux-arm64'
    args = render.render_pod(unit, run_id='r')['spec']['containers'][0]['args']
    assert '--custom-platform=linux/arm64' in args
    assert '--destination=registry:5000/rng:1.0-linux-arm64' in args
    assert render.render_pod(unit, run_id='r')['spec']['nodeSelector']['kubernetes.io/arch'] == 'arm64'


def test_a_cross_build_is_not_pinned_and_each_platform_has_its_own_key():
    spec = make_spec(platforms=TWO, cross_build=True)
    amd64, arm64 = (platforms.unit_spec(spec, platform, NAME_LENGTH_MAX) for platform in TWO)
    assert amd64.pod.node_selector == () == arm64.pod.node_selector
    assert build_key(amd64, 'c' * 40) != build_key(arm64, 'c' * 40)
    # The image of one platform is the image a single build of that platform makes.
    assert build_key(arm64, 'c' * 40) == build_key(make_spec(platform='linux/arm64'), 'c' * 40)


def test_a_long_name_is_cut_to_fit_with_the_platform():
    spec = make_spec(platforms=TWO, name='x' * NAME_LENGTH_MAX)
    unit = platforms.unit_spec(spec, 'linux/arm64', NAME_LENGTH_MAX)
    assert len(unit.name) == NAME_LENGTH_MAX and unit.name.endswith('-linux-arm64')


def node(arch, taints=(), unschedulable=False, **labels):
    labels.update({'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch})
    return {'metadata': {'name': 'n-' + arch, 'labels': labels},
            'spec': {'taints': list(taints), 'unschedulable': unschedulable}}


def unit_of(platform, **overrides):
    return platforms.unit_spec(make_spec(platforms=[platform], **overrides), platform, NAME_LENGTH_MAX)


def test_a_platform_without_a_node_is_named_with_what_the_cluster_has():
    nodes = [node('amd64'), node('amd64')]
    assert platforms.unplaceable(unit_of('linux/amd64'), nodes) is None
    assert platforms.unplaceable(unit_of('linux/arm64'), nodes) == (
        'no schedulable node is linux/arm64 (the cluster has linux/amd64 (2 nodes)); add a node of that platform, '
        'or set cross_build: true to build it on any node with --custom-platform')


def test_cordoned_and_tainted_nodes_do_not_count_unless_tolerated():
    taint = {'key': 'arch', 'value': 'arm', 'effect': 'NoSchedule'}
    assert platforms.unplaceable(unit_of('linux/arm64'), [node('arm64', unschedulable=True)])
    assert platforms.unplaceable(unit_of('linux/arm64'), [node('arm64', taints=[taint])])
    tolerated = unit_of('linux/arm64', pod=dict(tolerations=[{'key': 'arch', 'operator': 'Equal', 'value': 'arm',
                                                             'effect': 'NoSchedule'}]))
    assert platforms.unplaceable(tolerated, [node('arm64', taints=[taint])]) is None
    everything = unit_of('linux/arm64', pod=dict(tolerations=[{'operator': 'Exists'}]))
    assert platforms.unplaceable(everything, [node('arm64', taints=[taint])]) is None
    soft = {'key': 'arch', 'value': 'arm', 'effect': 'PreferNoSchedule'}
    assert platforms.unplaceable(unit_of('linux/arm64'), [node('arm64', taints=[soft])]) is None


def test_the_users_node_selector_counts_too():
    unit = unit_of('linux/arm64', pod=dict(node_selector={'pool': 'build'}))
    assert platforms.unplaceable(unit, [node('arm64')])
    assert platforms.unplaceable(unit, [node('arm64', pool='build')]) is None
