# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A build of several platforms (option platforms): one build per platform, then an index. Pure.

Kaniko builds one platform per run and cannot write an index, so a build of ``platforms`` is a group
of ordinary builds, one per platform (``unit_spec``): each passes --custom-platform, is pinned to nodes
of its OS and architecture (unless cross_build), has a cache repository of its own and pushes to
per-platform tags (``<tag>-<os>-<arch>[-<variant>]``, since Kaniko pushes only to tags); the run then
writes an index of the platforms' images under every destination (run/multiarch.py). Here: the checks of
the option, the per-platform specs and which nodes can take which platform.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, PodOptions, Tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import (
    DEFAULT_TAG,
    TAG_LENGTH_MAX,
    ImageReference,
)

OS_LABEL = 'kubernetes.io/os'
ARCH_LABEL = 'kubernetes.io/arch'

PLATFORM_RE = re.compile(r'^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$')
PLATFORM_FORMAT = 'os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8'
# Variants that name the architecture's only (or baseline) variant; containerd's platforms.Normalize drops them.
_DEFAULT_VARIANTS = {'arm64': 'v8', 'amd64': 'v1'}


def normalize(platform: str) -> str:
    """``os/arch[/variant]`` as an index compares it: arm64's v8 and amd64's v1 are no variant."""
    parts = platform.split('/')
    if len(parts) == 3 and _DEFAULT_VARIANTS.get(parts[1]) == parts[2]:
        parts = parts[:2]
    return '/'.join(parts)


def slug(platform: str) -> str:
    """The platform in a tag, a name or a repository: 'linux/arm64/v8' -> 'linux-arm64-v8'."""
    return platform.replace('/', '-')


def check_platforms(values: Sequence[Any] | None, platform: str | None, tarball: Tarball | None,
                    push: bool) -> tuple[str, ...]:
    """The platforms option checked: a tuple of os/arch[/variant] (empty when not given)."""
    if values is None:
        return ()
    if platform is not None:
        raise ValidationError('platforms', 'give platform (one) or platforms (several), not both')
    if not values:
        raise ValidationError('platforms', 'must list at least one platform, e.g. [linux/amd64, linux/arm64]')
    if tarball is not None:
        raise ValidationError('platforms', 'a tarball holds the image of one platform; give platform instead, or '
                                           'push the platforms to a registry')
    if not push:
        raise ValidationError('platforms', 'the index of the platforms is written to the destinations; set push to '
                                           'true (or leave it out)')
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if not isinstance(value, str) or not PLATFORM_RE.match(value):
            raise ValidationError('platforms[{0}]'.format(index), "'{0}' is not {1}".format(value, PLATFORM_FORMAT))
        if normalize(value) in seen:
            raise ValidationError('platforms[{0}]'.format(index), "'{0}' is listed already (platforms[{1}])".format(
                value, seen[normalize(value)]))
        seen[normalize(value)] = index
    return tuple(values)


def platform_tag(ref: ImageReference, platform: str) -> str:
    """The tag a platform's image is pushed to for destination ``ref``: '<tag>-<os>-<arch>[-<variant>]'."""
    return '{0}-{1}'.format(ref.tag or DEFAULT_TAG, slug(platform))


def check_tags(destination_refs: Iterable[ImageReference], platforms: Iterable[str]) -> None:
    for index, ref in enumerate(destination_refs):
        for platform in platforms:
            tag = platform_tag(ref, platform)
            if len(tag) > TAG_LENGTH_MAX:
                raise ValidationError('destinations[{0}]'.format(index), (
                    "the tag of platform {0} would be '{1}', longer than {2} characters; give a shorter tag").format(
                        platform, tag, TAG_LENGTH_MAX))


def placement(platform: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The node labels of a platform's OS and architecture."""
    parts = platform.split('/')
    return ((OS_LABEL, parts[0]), (ARCH_LABEL, parts[1]))


def _term_allows(term: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a nodeSelectorTerm can match a node with ``labels`` (only the OS and architecture are known)."""
    for expression in term.get('matchExpressions') or ():
        key, operator = expression.get('key'), expression.get('operator')
        if key not in labels:
            continue
        values = expression.get('values') or ()
        if (operator == 'In' and labels[key] not in values) or (operator == 'NotIn' and labels[key] in values) \
                or operator == 'DoesNotExist':
            return False
    return True


def check_placement(platforms: Iterable[str], pod: PodOptions, cross_build: bool) -> None:
    """Refuse a node_selector or a required node affinity that no node of some platform can satisfy."""
    if cross_build:
        return
    selector = dict(pod.node_selector)
    affinity = ((pod.affinity or {}).get('nodeAffinity') or {}).get('requiredDuringSchedulingIgnoredDuringExecution')
    terms = (affinity or {}).get('nodeSelectorTerms') or ()
    for platform in platforms:
        labels = dict(placement(platform))
        for key, value in labels.items():
            if key in selector and selector[key] != value:
                raise ValidationError('pod.node_selector.' + key, (
                    "is '{0}', but platform {1} builds on nodes with {2}={3}; leave {2} out (the module pins each "
                    "platform's pod), or set cross_build: true").format(selector[key], platform, key, value))
        if terms and not any(_term_allows(term, labels) for term in terms):
            raise ValidationError('pod.affinity.node_affinity', (
                'its required terms exclude the nodes of platform {0} ({1}={2}, {3}={4}); widen them, or set '
                'cross_build: true').format(platform, OS_LABEL, labels[OS_LABEL], ARCH_LABEL, labels[ARCH_LABEL]))


def _fit_name(name: str, suffix: str, limit: int) -> str:
    return '{0}-{1}'.format(name[:max(1, limit - len(suffix) - 1)].rstrip('-'), suffix)


def unit_spec(spec: BuildSpec, platform: str, name_limit: int) -> BuildSpec:
    """The spec of ``platform``'s build in the group of ``spec``: pushes to the per-platform tags, pinned to
    its nodes (unless cross_build), with a cache repository of its own; ``index_refs`` names the group's
    destinations, where the index lists its image."""
    refs = tuple(ref.with_tag(platform_tag(ref, platform)) for ref in spec.destination_refs)
    pod = spec.pod
    if not spec.cross_build:
        selector = dict(pod.node_selector)
        selector.update(placement(platform))
        pod = dataclasses.replace(pod, node_selector=tuple(sorted(selector.items())))
    cache_repo = '{0}-{1}'.format(spec.cache_repo, slug(platform)) if spec.cache and spec.cache_repo else \
        spec.cache_repo
    return dataclasses.replace(
        spec, platform=platform, platforms=(), name=_fit_name(spec.name, slug(platform), name_limit),
        destinations=tuple(str(ref) for ref in refs), destination_refs=refs, pod=pod, cache_repo=cache_repo,
        log_path=None, index_refs=spec.destination_refs)


def _tolerated(taint: Mapping[str, Any], tolerations: Iterable[Mapping[str, Any]]) -> bool:
    for toleration in tolerations:
        if toleration.get('effect') and toleration['effect'] != taint.get('effect'):
            continue
        if not toleration.get('key'):
            if toleration.get('operator') == 'Exists':
                return True
            continue
        if toleration['key'] != taint.get('key'):
            continue
        if toleration.get('operator') == 'Exists' or toleration.get('value', '') == taint.get('value', ''):
            return True
    return False


def node_takes(node: Mapping[str, Any], labels: Mapping[str, str], tolerations: Iterable[Mapping[str, Any]]) -> bool:
    """Whether ``node`` (a Node as the API returns it) can run a pod that selects ``labels`` (a dict) and
    tolerates ``tolerations``: it has the labels, is not cordoned, and every NoSchedule/NoExecute taint is
    tolerated."""
    meta_labels = (node.get('metadata') or {}).get('labels') or {}
    if any(meta_labels.get(key) != value for key, value in labels.items()):
        return False
    spec = node.get('spec') or {}
    if spec.get('unschedulable'):
        return False
    return all(_tolerated(taint, tolerations) for taint in spec.get('taints') or ()
               if taint.get('effect') in ('NoSchedule', 'NoExecute'))


def describe_nodes(nodes: Iterable[Mapping[str, Any]]) -> str:
    """'linux/amd64 (1 node)': the platforms of ``nodes``, for messages."""
    counts: dict[str, int] = {}
    for node in nodes:
        labels = (node.get('metadata') or {}).get('labels') or {}
        key = '{0}/{1}'.format(labels.get(OS_LABEL, '?'), labels.get(ARCH_LABEL, '?'))
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return 'no nodes'
    return ', '.join('{0} ({1} node{2})'.format(key, count, '' if count == 1 else 's')
                     for key, count in sorted(counts.items()))


def unplaceable(unit: BuildSpec, nodes: Sequence[Mapping[str, Any]]) -> str | None:
    """The reason no node of ``nodes`` can take the pod of ``unit`` (a platform's spec), or None."""
    labels = dict(unit.pod.node_selector)
    if any(node_takes(node, labels, unit.pod.tolerations) for node in nodes):
        return None
    return ('no schedulable node is {0} (the cluster has {1}); add a node of that platform, or set cross_build: '
            'true to build it on any node with --custom-platform').format(unit.platform, describe_nodes(nodes))
