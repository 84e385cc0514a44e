# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a build reports, and what is kept of it: pure functions, no I/O.

From an outcome (status.Outcome) and the pod as last seen they give the result dict of one build,
the retention decision (keep_pod) that the lifecycle then carries out, and the summary of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import UNAVAILABLE, Decision
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import disruption
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, LocalContext, Tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps

CHECK_MODE_SECRET_NAME = '<generated>'
NOT_CHECKED = Decision(UNAVAILABLE, 'not checked')


@dataclass(frozen=True)
class Retention:
    """What to do with an ended build's pod: keep it, or delete it (at once when it still runs); and whether
    its export container must first be let go (after removing a partial tarball from the claim)."""

    keep: bool
    delete: bool
    running: bool = False
    release_export: bool = False
    discard_partial: bool = False
    release_sbom: bool = False


def identity(spec: BuildSpec, decision: Decision | None, context_root: str | None = None) -> dict[str, Any]:
    """The result keys that say what was (or would be) built and why."""
    decision = decision or NOT_CHECKED
    result: dict[str, Any] = dict(build_key=decision.key, skip_check=decision.check, skip_detail=decision.detail,
                                  cache_repo=spec.cache_repo if spec.cache else None)
    local = spec.local
    if local and local.sha256:
        result['local_context'] = dict(path=context_root, size=local.size, sha256=local.sha256)
    return result


def skipped(decision: Decision, identity_keys: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = dict(changed=False, commit=decision.commit, digest=decision.digest,
                                  image=decision.images[0] if decision.images else None, images=list(decision.images),
                                  skipped_reason=decision.detail,
                                  msg='Skipped: ' + cast(str, decision.detail))  # a skip says why
    if decision.tarball:
        result['tarball'] = decision.tarball
    result.update(identity_keys)
    return result


def check_mode_secret_name(spec: BuildSpec) -> str | None:
    """The stand-in for the registry Secret's generated name in the pod a check-mode run shows."""
    return spec.name + '-auth-' + CHECK_MODE_SECRET_NAME if spec.registry_auth else None


def check_mode(preview: Mapping[str, Any], decision: Decision, identity_keys: Mapping[str, Any]) -> dict[str, Any]:
    """The result of a build that would run; ``preview`` is what the engine would run (engine.preview): the pod, and
    maybe its own message."""
    result: dict[str, Any] = dict(changed=True, commit=decision.commit,
                                  msg='Check mode: the build pod would be created')
    result.update(preview)
    result.update(identity_keys)
    return result


def not_finished(pod_name: str | None, identity_keys: Mapping[str, Any],
                 duration: float | None = None) -> dict[str, Any]:
    """The keys of a build that did not come to a result (it could not start, or the run was stopped)."""
    result: dict[str, Any] = dict(changed=pod_name is not None, pod_name=pod_name, pod_kept=False)
    result.update(identity_keys)
    if duration is not None:
        result['duration'] = duration
    return result


def ended(pod_name: str | None, outcome: states.Outcome, pod: Mapping[str, Any] | None, duration: float,
          lines: list[str], identity_keys: Mapping[str, Any]) -> dict[str, Any]:
    """The keys every ended build reports."""
    clone = states.container_termination(pod or {}, render.CLONE) or {}
    result = dict(changed=True, pod_name=pod_name, commit=states.parse_commit(clone.get('message')),
                  duration=duration, rc=outcome.exit_code, container=outcome.container, reason=outcome.reason,
                  log_lines=lines)
    result.update(identity_keys)
    return result


def attempt(pod_name: str | None, outcome: states.Outcome, pod: Mapping[str, Any] | None) -> dict[str, Any]:
    """One pod of a build, as the result's attempts list it: its name, its node, why it ended, and what happened
    (for a pod lost through no fault of the build, Kubernetes' words), or None."""
    loss = outcome.loss
    message = outcome.message
    if loss is not None and loss.cause != disruption.DELETED:  # a deletion's message says it all
        message = loss.what() + (': ' + outcome.message if outcome.message else '')
    lines = [line.strip() for line in (message or '').splitlines() if line.strip()]
    return dict(pod_name=pod_name, node=disruption.node_of(pod) or (loss.node if loss else None),
                reason=outcome.reason, message=lines[-1] if lines else None)


def retry_line(lost: Mapping[str, Any], spec: BuildSpec) -> str:
    """What the log (and the build action) says when the build runs again after ``lost`` (an attempt)."""
    line = 'pod {0} was lost ({1}): {2}; running the build again as a new pod, attempt {3} of {4}'.format(
        lost['pod_name'], lost['reason'], lost['message'], spec.attempt, spec.retries + 1)
    if spec.avoid_nodes:
        line += ', kept off {0} {1}'.format('node' if len(spec.avoid_nodes) == 1 else 'nodes',
                                            ', '.join(spec.avoid_nodes))
    return line


def retention(spec: BuildSpec, outcome: states.Outcome, pod: Mapping[str, Any] | None) -> Retention:
    """The Retention of a build that ended with ``outcome`` (after the tarball was brought out, if any)."""
    if outcome.state == states.SUCCEEDED:
        keep = spec.keep_pod == 'always'
        return Retention(keep=keep, delete=not keep, release_export=bool(spec.tarball) and keep,
                         release_sbom=steps.hands_over(spec) and keep)
    # Only a pod that has ended is kept: one given up on while pending or running
    # (timeout, image pull error, unschedulable) could still build later.
    # A container that exited non-zero under restartPolicy Never has ended the pod too.
    # A build out of time (the task's timeout, or the pod's deadline) is deleted like an interrupted one.
    # A pod lost through no fault of the build is deleted at once (its node's kubelet may never confirm), but
    # one its kubelet ended and that stays (evicted under node pressure) is kept as a failed one is.
    pod = pod or {}
    finished = (((pod.get('status') or {}).get('phase') in ('Succeeded', 'Failed') or outcome.exit_code is not None)
                and outcome.reason not in (states.TIMEOUT, states.DEADLINE_EXCEEDED)
                and (outcome.loss is None or outcome.loss.stays))
    keep = finished and spec.keep_pod in ('always', 'on_failure')
    release = bool(spec.tarball) and outcome.loss is None and (
        keep or bool(cast(Tarball, spec.tarball).pvc)) and states.container_running(pod, render.EXPORT)
    # A pod someone else deleted is gone already: it is not deleted again.
    release_sbom = steps.hands_over(spec) and outcome.loss is None and keep and states.container_running(
        pod, steps.ATTACH)
    return Retention(keep=keep, delete=not keep and outcome.reason != states.DELETED, running=not finished,
                     release_export=release, discard_partial=release, release_sbom=release_sbom)


def pushed(spec: BuildSpec, pod: Mapping[str, Any] | None) -> tuple[str | None, list[str]]:
    """(digest, [name@digest, ...]) of the image the build pushed: what Kaniko wrote to its termination log, or,
    for a pod that only signs, the image the registry held."""
    if spec.supply_only is not None:
        return spec.supply_only.digest, list(spec.supply_only.images)
    termination = states.container_termination(pod or {}, render.KANIKO) or {}
    return states.parse_termination(termination.get('message'))


def succeeded(spec: BuildSpec, result: dict[str, Any], pod: Mapping[str, Any] | None, kept: bool) -> dict[str, Any]:
    """``result`` of a build that succeeded, with its digest, images and message."""
    digest, images = pushed(spec, pod)
    result.update(digest=digest, images=images, image=images[0] if images else None, events=[])
    if steps.wanted(spec):  # sign and sbom push: the image has its digest
        result.update(steps.references(spec, cast(str, digest)), signed=bool(spec.sign))
    if spec.supply_only is not None:
        added = ' and '.join(what for what, wanted in (('signed', spec.supply_only.sign),
                                                       ('added its SBOM to', spec.supply_only.attest)) if wanted)
        result['msg'] = '{0}{1} {2}: the registry held this build already'.format(
            added[:1].upper(), added[1:], result['image'])
    elif spec.tarball:
        where = spec.tarball.dest or '{0} in claim {1}'.format(spec.tarball.path, spec.tarball.pvc)
        result['msg'] = 'Built {0} into the tarball {1}'.format(spec.destinations[0], where)
    elif spec.push:
        result['msg'] = 'Built and pushed {0}'.format(result['image'] or ', '.join(spec.destinations))
    else:
        result['msg'] = 'Built (not pushed, push is false)'
    result['pod_kept'] = kept
    return result


def failure(outcome: states.Outcome, result: dict[str, Any], events: list[str], kept: bool,
            spec: BuildSpec | None = None, pod: Mapping[str, Any] | None = None) -> BuildFailed:
    """The BuildFailed to raise for a build that ended with ``outcome``. An image pushed before a step after
    Kaniko failed (sign, sbom) is reported, as unsigned (``signed: false``)."""
    result.update(events=events, hint=outcome.hint, pod_kept=kept, digest=None, image=None, images=[])
    if spec is not None and steps.wanted(spec):
        digest, images = pushed(spec, pod)
        if digest:
            result.update(digest=digest, images=images, image=images[0] if images else None, signed=False)
    return BuildFailed(states.describe(outcome, states.telling_line(result.get('log_lines'))), result)


def describe_item(index: int, spec: BuildSpec) -> str:
    """``builds[2] (registry:5000/app:1)``: the item's index and its first destination, or its source."""
    if spec.destinations:
        what = spec.destinations[0]
    else:
        what = '{0} {1}'.format(spec.git.repo if spec.git else cast(LocalContext, spec.local).path,
                                spec.context_sub_path or '.')
    return 'builds[{0}] ({1})'.format(index, what)


def for_item(exc: KilnError, index: int) -> KilnError:
    """A KilnError of the whole task from one item's error: the option or the message names the item."""
    details = dict(exc.details)
    option = details.get('option')
    message = exc.message
    if option:
        details['option'] = 'builds[{0}].{1}'.format(index, option)
        if message.startswith(option + ': '):
            return KilnError('builds[{0}].{1}'.format(index, message), details)
    return KilnError('builds[{0}]: {1}'.format(index, message), details)


def summary(specs: Sequence[BuildSpec], results: Sequence[Mapping[str, Any]], check_mode: bool) -> dict[str, Any]:
    """The result of a ``builds`` list; raises KilnError naming each failed item."""
    changed = any(result.get('changed') for result in results)
    failed = [index for index, result in enumerate(results) if result.get('failed')]
    skipped_count = sum(1 for result in results if result.get('skipped_reason'))
    built = len(results) - skipped_count - len(failed)
    counts = '{0} built, {1} skipped, {2} failed'.format(built, skipped_count, len(failed))
    if check_mode:
        counts = '{0} would build, {1} would be skipped'.format(len(results) - skipped_count, skipped_count)
    if failed:
        reasons = '; '.join('{0}: {1}'.format(describe_item(index, specs[index]), results[index].get('msg'))
                            for index in failed)
        raise KilnError('{0} of {1} builds failed ({2}): {3}'.format(len(failed), len(results), counts, reasons),
                        dict(changed=changed, results=results))
    return dict(changed=changed, results=results, msg='{0} builds: {1}'.format(len(results), counts))
