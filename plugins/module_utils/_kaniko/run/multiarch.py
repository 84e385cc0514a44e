# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The builds of a task as groups: a build is a group of one, a build of ``platforms`` a group of one
build per platform (platforms.unit_spec) whose images the module then lists in an index.

Around the one build path of run/build_run.py: ``expand`` makes the units the run prepares and schedules; before
any pod, ``check_nodes`` refuses a platform no node can take and ``index_decision`` skips a group whose
destinations all hold an index of every platform's image of the same build key; after the units ran,
``conclude`` writes the index under every destination (through the registry client, with the push
credentials of the build), deletes the per-platform tags where the registry can (run/platform_tags.py) and makes
the group's one result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Callable, Iterable, Mapping, Sequence, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import EngineError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Warn
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import FOUND, Decision
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import (
    LookupUnavailable,
    RegistryLookup,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import platform_tags
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.prepare import Prepared
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import platforms
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import NAME_LENGTH_MAX, BuildSpec
from ansible_collections.kiln.kaniko.plugins.module_utils._registry import manifests
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference

# The keys of a platform's result that its entry in ``manifests`` carries.
_MANIFEST_KEYS = ('digest', 'pod_name', 'duration', 'commit', 'build_key', 'skip_check', 'pod_kept', 'attempts')
# The keys that say why a pod failed, which the build's result takes from the pod that failed it.
FAILURE_KEYS = ('rc', 'container', 'reason', 'hint', 'log_lines', 'events')
_SUPPLY_KEYS = ('signed', 'signatures', 'attestations', 'sbom')  # with sign or sbom (supply/steps.py)


@dataclasses.dataclass(frozen=True)
class Group:
    """Build ``index`` of the task (``spec``, as the user gave it) and the indexes of its units."""

    index: int
    spec: BuildSpec
    units: Tuple[int, ...]

    @property
    def multi(self) -> bool:
        return bool(self.spec.platforms)


def expand(specs: Iterable[BuildSpec]) -> tuple[list[BuildSpec], list[Group]]:
    """(the unit specs, the groups): a spec without platforms is its own unit."""
    units: list[BuildSpec] = []
    groups = []
    for index, spec in enumerate(specs):
        first = len(units)
        if spec.platforms:
            units.extend(platforms.unit_spec(spec, platform, NAME_LENGTH_MAX) for platform in spec.platforms)
        else:
            units.append(spec)
        groups.append(Group(index, spec, tuple(range(first, len(units)))))
    return units, groups


def group_key(keys: Iterable[str | None]) -> str:
    """The build key of a group: a sha256 over its platforms' keys, in order ('sha256:' and 64 hex digits)."""
    text = json.dumps(list(keys), separators=(',', ':'))
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()


def check_nodes(groups: Iterable[Group], unit_specs: Sequence[BuildSpec],
                read_nodes: Callable[[], list[dict[str, Any]]], warn: Warn) -> dict[int, ValidationError]:
    """{group index: ValidationError} for each group with a platform that no schedulable node can take.

    ``read_nodes()`` lists the nodes once; when the cluster refuses (no 'list' on nodes), the check is skipped
    with a warning, and unschedulable_timeout ends such a build instead."""
    pinned = [group for group in groups if group.multi and not group.spec.cross_build]
    if not pinned:
        return {}
    try:
        nodes = read_nodes()
    except EngineError as exc:
        warn('Could not list the nodes to check that each platform has one: {0}; nodes are cluster-wide, so that '
             'takes a ClusterRole. A platform without a node ends when unschedulable_timeout runs out'.format(
                 exc.message))
        return {}
    errors = {}
    for group in pinned:
        for position, unit in enumerate(group.units):
            reason = platforms.unplaceable(unit_specs[unit], nodes)
            if reason:
                errors[group.index] = ValidationError('platforms[{0}]'.format(position), reason)
                break
    return errors


def _index_platforms(client: RegistryClient, ref: ImageReference) -> tuple[list[tuple[str, str]], str | None]:
    """[(normalised platform, digest), ...] of the index ``ref`` names, in its order, and its digest; ([], None)
    when ``ref`` names no index."""
    fetched = client.get_manifest(ref.repository, ref.manifest_reference)
    if fetched is None:
        return [], None
    body, content_type, digest = fetched
    doc = manifests.load_json(body, 'manifest')
    if manifests.classify(doc, content_type)[0] != manifests.INDEX:
        return [], None
    entries = manifests.index_entries(doc)
    return [(platforms.normalize(entry['platform_name']), entry['digest']) for entry in entries], digest


def _unit_digests(decision: Decision, count: int) -> list[str]:
    """The digest a skipped unit's image has under each of ``count`` destinations."""
    return [image.rpartition('@')[2] for image in decision.images] or [cast(str, decision.digest)] * count


def index_decision(group: Group, prepared: Sequence[Prepared], lookup: RegistryLookup) -> tuple[str, list[str]] | None:
    """(index digest, images) when every destination holds the index of exactly these platforms' images of this
    build key, in this order (the group is then skipped), else None: an index that lists a platform no longer
    asked for, or in another order, is written again."""
    units = [prepared[unit] for unit in group.units]
    if not units or any(cast(Decision, unit.decision).check != FOUND for unit in units):  # prepared: decided
        return None
    spec = group.spec
    per_unit = [(platforms.normalize(cast(str, unit.spec.platform)),  # a unit of platforms has its platform
                 _unit_digests(cast(Decision, unit.decision), len(spec.destination_refs))) for unit in units]
    digests, images = [], []
    for position, ref in enumerate(spec.destination_refs):
        try:
            held, digest = _index_platforms(lookup.client(spec, ref), ref)
        except (RegistryError, LookupUnavailable):
            return None
        if held != [(platform, unit_digests[position]) for platform, unit_digests in per_unit]:
            return None
        digests.append(cast(str, digest))  # it held the index: its digest
        images.append('{0}@{1}'.format(ref.name, digest))
    return digests[0], images


def _entry(client: RegistryClient, repository: str, digest: str) -> dict[str, Any]:
    """The index entry of image ``digest`` of ``repository``: its media type, size and platform (from its config)."""
    fetched = client.get_manifest(repository, digest)
    if fetched is None:
        raise RegistryError('the image {0}@{1} is not in the registry'.format(repository, digest))
    body, content_type, _digest = fetched
    doc = manifests.load_json(body, 'manifest')
    kind, media_type = manifests.classify(doc, content_type)
    if kind != manifests.IMAGE:
        raise RegistryError('{0}@{1} is not an image manifest'.format(repository, digest))
    config = manifests.image_summary(doc)['config']
    platform = manifests.config_summary(manifests.load_json(
        client.get_blob(repository, config['digest']), 'image configuration'))['platform']
    return dict(media_type=media_type, digest=digest, size=len(body), platform=platform)


def write_indexes(spec: BuildSpec, unit_digests: Sequence[Sequence[str]],
                  lookup: RegistryLookup) -> tuple[str, list[str]]:
    """Write under each destination of ``spec`` the index of the platforms' images (``unit_digests``: per unit,
    its digest under each destination); return (index digest, images). Raises KilnError."""
    digests, images = [], []
    for position, ref in enumerate(spec.destination_refs):
        try:
            client = lookup.client(spec, ref)
            entries = [_entry(client, ref.repository, per_destination[position]) for per_destination in unit_digests]
            body, media_type = manifests.image_index(entries)
            digest = client.put_manifest(ref.repository, ref.manifest_reference, body, media_type)
        except (RegistryError, LookupUnavailable) as exc:
            raise KilnError('Could not write the index of {0}: {1}'.format(
                spec.destinations[position], getattr(exc, 'message', exc))) from exc
        digests.append(digest)
        images.append('{0}@{1}'.format(ref.name, digest))
    return digests[0], images


def _manifest(platform: str, result: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = dict(platform=platform)
    entry.update((key, result.get(key)) for key in _MANIFEST_KEYS)
    entry['skipped'] = bool(result.get('skipped_reason'))
    entry.update((key, result[key]) for key in _SUPPLY_KEYS if key in result)
    if result.get('failed'):
        entry.update(failed=True, msg=result.get('msg'))
    return entry


def _common(results: Iterable[Mapping[str, Any]], key: str) -> Any:
    values = set(result.get(key) for result in results)
    return values.pop() if len(values) == 1 else None


def conclude(group: Group, unit_results: Sequence[Mapping[str, Any]], prepared: Sequence[Prepared],
             lookup: RegistryLookup, skipped: tuple[str, list[str]] | None = None) -> dict[str, Any]:
    """The result of a group of platforms (``unit_results``, in the order of spec.platforms); ``skipped`` is
    index_decision's answer when the group was skipped. Failed: with ``failed`` and ``msg``, and no index."""
    spec = group.spec
    result = dict(changed=any(result.get('changed') for result in unit_results),
                  commit=_common(unit_results, 'commit'),
                  build_key=group_key([result.get('build_key') for result in unit_results]),
                  manifests=[_manifest(platform, unit) for platform, unit in zip(spec.platforms, unit_results)],
                  platforms=list(spec.platforms), pod_name=None, pod_kept=any(r.get('pod_kept') for r in unit_results),
                  cache_repo=spec.cache_repo if spec.cache else None, platform_tags=None)
    failed = sorted(((platform, unit) for platform, unit in zip(spec.platforms, unit_results) if unit.get('failed')),
                    key=lambda pair: bool(pair[1].get('cancelled')))  # the platform that failed first, not those cancelled
    if failed:
        platform, unit = failed[0]
        for key in FAILURE_KEYS:
            if key in unit:
                result[key] = unit[key]
        result.update(failed=True, digest=None, image=None, images=[], pod_name=unit.get('pod_name'),
                      pod_kept=bool(unit.get('pod_kept')), msg='platform {0}: {1}'.format(platform, unit.get('msg')))
        return result
    if skipped is not None:
        digest, images = skipped
        result.update(changed=False, digest=digest, image=images[0], images=images, skip_check=FOUND,
                      skipped_reason=unit_results[0].get('skipped_reason'), failed=False,
                      msg='Skipped: {0} already {1} an index of {2} built with the same build keys'.format(
                          ', '.join(spec.destinations), 'holds' if len(spec.destinations) == 1 else 'hold',
                          ', '.join(spec.platforms)))
        return result
    per_unit = []
    for index, unit_result in zip(group.units, unit_results):
        if unit_result.get('skipped_reason'):
            per_unit.append(_unit_digests(cast(Decision, prepared[index].decision), len(spec.destination_refs)))
        else:
            per_unit.append([unit_result['digest']] * len(spec.destination_refs))
    try:
        digest, images = write_indexes(spec, per_unit, lookup)
    except KilnError as exc:
        result.update(failed=True, digest=None, image=None, images=[], msg=exc.message)
        return result
    built = [platform for platform, unit in zip(spec.platforms, unit_results) if not unit.get('skipped_reason')]
    result.update(changed=True, digest=digest, image=images[0], images=images, failed=False,
                  platform_tags=platform_tags.delete(spec, per_unit, lookup),
                  msg='Built {0} and pushed the index of {1} to {2}'.format(
                      ', '.join(built) or 'nothing', ', '.join(spec.platforms), ', '.join(spec.destinations)))
    return result
