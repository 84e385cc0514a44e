# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read a build pod's status: pure predicates on the pod as the API returns it (a dict).

classify() tells whether the build still runs, succeeded, or failed, and why; it knows
every terminal state, including the early ones that never reach phase Failed
(image pull errors, bad container config, a pod no node will take).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.log_sections import clean_text
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import disruption
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.render import CLONE, EXPORT, KANIKO, RECEIVE
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply.steps import ATTACH, SBOM, SIGN

RUNNING = 'running'
SUCCEEDED = 'succeeded'
FAILED = 'failed'

# Waiting reasons that do not get better by waiting.
FAIL_FAST_WAITING = frozenset((
    'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull',
    'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError',
))

TIMEOUT = 'Timeout'
DEADLINE_EXCEEDED = 'DeadlineExceeded'
DELETED = disruption.DELETED
UNSCHEDULABLE = 'Unschedulable'
# The module could not send the local context into the pod, or fetch the tarball out of it.
CONTEXT_NOT_RECEIVED = 'ContextNotReceived'
TARBALL_NOT_FETCHED = 'TarballNotFetched'
# The module could not read the unsigned SBOM out of the attach container.
SBOM_NOT_FETCHED = 'SbomNotFetched'

MOUNT_FAILED = 'FailedMount'
_VOLUME_WARNINGS = ('FailedMount', 'FailedAttachVolume')

_IMAGE_OPTION = {CLONE: 'git_image', RECEIVE: 'git_image', EXPORT: 'git_image', KANIKO: 'executor_image',
                 SBOM: 'syft_image', SIGN: 'cosign_image', ATTACH: 'syft_image'}
# What cosign says when cosign.password does not open cosign.key.
_DECRYPT_RE = re.compile(r'decrypt|incorrect password|invalid password', re.I)
_DIGEST_LINE_RE = re.compile(r'^(?P<name>\S+)@(?P<digest>sha256:[0-9a-f]{64})$')
_COMMIT_RE = re.compile(r'^(?:[0-9a-f]{40}|[0-9a-f]{64})$')
# What Go (Kaniko) says of a registry certificate it does not trust.
_UNTRUSTED_CERTIFICATE_RE = re.compile(r'x509: certificate signed by unknown authority|tls: failed to verify certificate')


@dataclass(frozen=True)
class Outcome:
    """Where a build stands. For failures: which container, its exit code, reason, message, hint, and for a pod
    lost through no fault of the build, the Loss (pod/disruption.py)."""

    state: str
    container: Optional[str] = None
    exit_code: Optional[int] = None
    reason: Optional[str] = None
    message: Optional[str] = None
    hint: Optional[str] = None
    loss: Optional[disruption.Loss] = None

    @property
    def terminal(self) -> bool:
        return self.state != RUNNING


def _hint(reason: str | None, container: str | None, message: str | None = None, lost: bool = False) -> str | None:
    image_option = _IMAGE_OPTION.get(container or '', 'the image options')
    if container == KANIKO and _UNTRUSTED_CERTIFICATE_RE.search(message or ''):
        return ("a registry's TLS certificate is not trusted: give the CA that signed it in registry_ca "
                "(a Secret or ConfigMap in namespace that holds it)")
    if reason == 'OOMKilled':
        if container == KANIKO:
            return ('the build ran out of memory: raise pod.resources.limits.memory, or add '
                    '--compressed-caching=false to extra_args')
        return 'the container ran out of memory: raise pod.resources.limits.memory'
    if reason in ('ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull'):
        return ('the node could not pull {0}: check the image name and tag, that the node reaches its '
                'registry, image_pull_policy and pod.image_pull_secrets'.format(image_option))
    if reason == 'InvalidImageName':
        return '{0} is not an image name the node accepts'.format(image_option)
    if reason == 'CreateContainerConfigError':
        return ('a Secret or key the pod refers to is missing: check git.secret, registry_secret, '
                'pod.service_account and pod.image_pull_secrets')
    if reason in ('CreateContainerError', 'RunContainerError'):
        return 'the container runtime could not start {0}: check that image'.format(image_option)
    if reason == UNSCHEDULABLE:
        return ('no node can take the pod: check pod.resources.requests, pod.node_selector, '
                'pod.tolerations, pod.affinity and pod.priority_class, or raise unschedulable_timeout')
    if reason in (DEADLINE_EXCEEDED, TIMEOUT):
        return 'the build did not finish in time: raise timeout'
    if reason == 'Evicted':
        return ('the node evicted the pod under resource pressure: set pod.resources.requests for '
                'memory and ephemeral-storage' + (', or ' + disruption.retry_hint(reason) if lost else ''))
    if reason == MOUNT_FAILED:
        return ('a volume of the pod cannot be mounted: check that the Secrets named by git.secret and '
                'registry_secret (and the Secrets and ConfigMaps of registry_ca) exist and hold the keys they '
                'need, or raise unschedulable_timeout')
    if reason == DELETED:
        return ('something other than this task deleted the build pod (kubectl delete, a node drain, the '
                "namespace's deletion): see the namespace's events, and run the build again, or "
                + disruption.retry_hint(reason))
    if lost:
        return 'the build did not fail on its own: ' + disruption.retry_hint(reason or '')
    if reason == CONTEXT_NOT_RECEIVED:
        return ('the build context could not be sent into the pod: the module needs the permission to create '
                'pods/exec in the namespace, and git_image needs sh, head and tar')
    if reason == TARBALL_NOT_FETCHED:
        return ('the tarball could not be brought out of the pod: the module needs the permission to create '
                'pods/exec in the namespace, and git_image needs sh, stat, cat and sha256sum')
    if reason == SBOM_NOT_FETCHED:
        return ('the SBOM could not be read out of the pod: the module needs the permission to create pods/exec in '
                'the namespace, and syft_image needs sh, cat and sha256sum')
    if container == CLONE:
        return 'the source could not be fetched: check git.repo, git.version and git.secret'
    if container == SIGN and _DECRYPT_RE.search(message or ''):
        return ("cosign could not open cosign.key with cosign.password: the Secret of sign.key_secret must hold the "
                "password the key was made with; the image was pushed, unsigned")
    if container in (SIGN, ATTACH):
        return ('signing or attaching the SBOM failed: see log_lines; the image was pushed, and lacks what this step '
                'adds (a run again adds it without rebuilding)')
    if container == SBOM:
        return 'syft could not make the SBOM of the pushed image: see log_lines; the image was pushed without it'
    if container == KANIKO:
        return 'a build step or the push failed: see log_lines (and log_path for the whole log)'
    return None


def _statuses(status: Mapping[str, Any], key: str) -> list[tuple[str | None, dict[str, Any]]]:
    return [(item.get('name'), item) for item in status.get(key) or [] if isinstance(item, dict)]


def _container_statuses(pod: Mapping[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """(name, status) of init containers, then containers, in pod order."""
    status = pod.get('status') or {}
    return _statuses(status, 'initContainerStatuses') + _statuses(status, 'containerStatuses')


def _state(container_status: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    return ((container_status.get('state') or {}).get(key)) or None


def container_termination(pod: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The ``terminated`` state of container ``name``, or None."""
    for container, item in _container_statuses(pod):
        if container == name:
            return _state(item, 'terminated')
    return None


def container_running(pod: Mapping[str, Any], name: str) -> bool:
    """True while container ``name`` of the pod runs."""
    for container, item in _container_statuses(pod):
        if container == name:
            return 'running' in (item.get('state') or {})
    return False


def final_container(pod: Mapping[str, Any]) -> str:
    """The container whose success is the build's: the last supply step when the pod has any (sbom, which attach
    runs beside to hold the SBOM for the module), else Kaniko."""
    names = [item.get('name') for item in (pod.get('spec') or {}).get('containers') or [] if isinstance(item, dict)]
    if SIGN in names:
        return SIGN
    if ATTACH in names:
        return SBOM
    return KANIKO


def _failed_container(pod: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    for name, item in _container_statuses(pod):
        terminated = _state(item, 'terminated')
        if terminated and terminated.get('exitCode', 0) != 0:
            return name, terminated
    return None, None


def _active_container(pod: Mapping[str, Any]) -> str | None:
    """The container the build was in: the first one that has not terminated successfully."""
    for name, item in _container_statuses(pod):
        terminated = _state(item, 'terminated')
        if not terminated or terminated.get('exitCode', 0) != 0:
            return name
    return None


def not_started(pod: Mapping[str, Any]) -> bool:
    """True while the pod is scheduled but none of its containers has started yet."""
    status = pod.get('status') or {}
    if status.get('phase') != 'Pending' or unschedulable_message(pod) is not None:
        return False
    scheduled = any(c.get('type') == 'PodScheduled' and c.get('status') == 'True' for c in status.get('conditions') or [])
    return scheduled and not any(_state(item, 'running') or _state(item, 'terminated')
                                 for _name, item in _container_statuses(pod))


def volume_failure(events: Iterable[Mapping[str, Any]] | None) -> str | None:
    """The message of the newest warning that a volume cannot be mounted, among a pod's events, or None."""
    failures = [event for event in events or [] if event.get('type') == 'Warning'
                and event.get('reason') in _VOLUME_WARNINGS]
    if not failures:
        return None
    newest = max(failures, key=lambda event: event.get('lastTimestamp') or event.get('eventTime') or '')
    return clean_text(newest.get('message')) or newest.get('reason')


def warning_messages(events: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The Warning events of a pod as 'Reason: message' lines, oldest first."""
    warnings = [event for event in events or [] if event.get('type') == 'Warning']
    warnings.sort(key=lambda event: event.get('lastTimestamp') or event.get('eventTime') or '')
    lines = []
    for event in warnings:
        line = '{0}: {1}'.format(event.get('reason'), clean_text(event.get('message')))
        if (event.get('count') or 1) > 1:
            line += ' (x{0})'.format(event['count'])
        lines.append(line)
    return lines


def mount_failed(message: str | None) -> Outcome:
    """The outcome of a pod whose volumes cannot be mounted."""
    return Outcome(FAILED, reason=MOUNT_FAILED, message=message, hint=_hint(MOUNT_FAILED, None))


def unschedulable_message(pod: Mapping[str, Any]) -> str | None:
    """The scheduler's message while the pod is Unschedulable, else None."""
    for condition in (pod.get('status') or {}).get('conditions') or []:
        if (condition.get('type') == 'PodScheduled' and condition.get('status') == 'False'
                and condition.get('reason') == UNSCHEDULABLE):
            return condition.get('message') or 'no node can take the pod'
    return None


def _from_termination(name: str | None, terminated: Mapping[str, Any]) -> Outcome:
    reason = terminated.get('reason') or 'Error'
    return Outcome(FAILED, container=name, exit_code=terminated.get('exitCode'), reason=reason,
                   message=clean_text(terminated.get('message')) or None,
                   hint=_hint(reason, name, terminated.get('message')))


def classify(pod: Mapping[str, Any], now: float = 0.0, unschedulable_since: float | None = None,
             unschedulable_timeout: float | None = None) -> Outcome:
    """Classify a build pod.

    ``unschedulable_since`` is when the caller first saw the pod Unschedulable (same clock
    as ``now``); it fails once that lasts ``unschedulable_timeout`` seconds.

    A pod that someone is deleting (it has a deletionTimestamp) has not failed on its own: the
    kubelet stops its containers, whose exit codes then only tell of the stop. It is reported as
    deleted, unless its build had already succeeded; so is a pod that a DisruptionTarget condition says
    is being stopped (pod/disruption.py), by its cause, unless it had failed on its own first.
    """
    outcome = _classify(pod, now, unschedulable_since, unschedulable_timeout)
    if outcome.state == SUCCEEDED:
        return outcome
    loss = disruption.loss(pod)
    if loss is not None:
        return lost(pod, loss)
    if (pod.get('metadata') or {}).get('deletionTimestamp'):
        return deleted(pod)
    return outcome


def _classify(pod: Mapping[str, Any], now: float, unschedulable_since: float | None,
              unschedulable_timeout: float | None) -> Outcome:
    status = pod.get('status') or {}
    phase = status.get('phase')
    name, terminated = _failed_container(pod)

    if phase == 'Succeeded':
        return Outcome(SUCCEEDED, container=final_container(pod), exit_code=0, reason='Completed')
    if phase == 'Failed':
        if status.get('reason'):
            reason = status['reason']
            container = name or _active_container(pod)
            return Outcome(FAILED, container=container, exit_code=terminated.get('exitCode') if terminated else None,
                           reason=reason, message=status.get('message'), hint=_hint(reason, container))
        if terminated:
            return _from_termination(name, terminated)
        return Outcome(FAILED, reason='Failed', message=status.get('message') or 'the pod failed',
                       hint=_hint(None, None))

    # Pending, Running or Unknown: the phase may lag behind the containers.
    if terminated:
        return _from_termination(name, terminated)
    final = final_container(pod)
    done = container_termination(pod, final)
    if done and done.get('exitCode') == 0:
        return Outcome(SUCCEEDED, container=final, exit_code=0, reason=done.get('reason') or 'Completed')
    for container, item in _container_statuses(pod):
        waiting = _state(item, 'waiting')
        if waiting and waiting.get('reason') in FAIL_FAST_WAITING:
            reason = waiting['reason']
            return Outcome(FAILED, container=container, reason=reason, message=waiting.get('message'),
                           hint=_hint(reason, container))
    message = unschedulable_message(pod)
    if (message is not None and unschedulable_since is not None and unschedulable_timeout is not None
            and now - unschedulable_since >= unschedulable_timeout):
        return Outcome(FAILED, reason=UNSCHEDULABLE, message=message, hint=_hint(UNSCHEDULABLE, None))
    return Outcome(RUNNING, container=_active_container(pod))


def transfer_failed(container: str, reason: str, message: str | None) -> Outcome:
    """The outcome of a build whose context could not be sent in, or whose tarball could not be fetched."""
    return Outcome(FAILED, container=container, reason=reason, message=message, hint=_hint(reason, container))


def timed_out(pod: Mapping[str, Any] | None, timeout: float) -> Outcome:
    """The outcome of a build that outlived ``timeout`` seconds."""
    container = _active_container(pod) if pod else None
    return Outcome(FAILED, container=container, reason=TIMEOUT,
                   message='the build did not finish within {0} s'.format(timeout), hint=_hint(TIMEOUT, container))


def lost(pod: Mapping[str, Any] | None, loss: disruption.Loss) -> Outcome:
    """The outcome of a build whose pod was lost through no fault of the build (``pod``, as last seen)."""
    message = loss.said
    if loss.cause == 'Evicted':  # the kubelet's message names the resource and what the build used
        message = ((pod or {}).get('status') or {}).get('message') or message
    return Outcome(FAILED, container=_active_container(pod) if pod else None, reason=loss.cause,
                   message=clean_text(message) or None, hint=_hint(loss.cause, None, lost=True), loss=loss)


def deleted(pod: Mapping[str, Any] | None = None) -> Outcome:
    """The outcome of a build whose pod disappeared, or is being deleted (``pod``, as last seen): by its
    DisruptionTarget's cause when it has one."""
    loss = disruption.loss(pod)
    if loss is not None:
        return lost(pod, loss)
    metadata = (pod or {}).get('metadata') or {}
    message = 'the pod was deleted by someone else'
    if metadata.get('name'):
        message = "pod {0} was deleted by someone else".format(metadata['name'])
        if metadata.get('deletionTimestamp'):
            message += ' at {0}'.format(metadata['deletionTimestamp'])
    return Outcome(FAILED, container=_active_container(pod) if pod else None, reason=DELETED, message=message,
                   hint=_hint(DELETED, None),
                   loss=disruption.Loss(DELETED, metadata.get('name'), disruption.node_of(pod)))


def parse_termination(message: str | None) -> tuple[str | None, list[str]]:
    """Read kaniko's --image-name-with-digest-file lines: return (digest, [name@digest, ...])."""
    images = []
    digest: str | None = None
    for line in (message or '').splitlines():
        match = _DIGEST_LINE_RE.match(line.strip())
        if match:
            images.append(match.group(0))
            digest = digest or match.group('digest')
    return digest, images


def parse_commit(message: str | None) -> str | None:
    """Read the commit the clone container wrote to its termination log, or None."""
    text = (message or '').strip()
    return text if _COMMIT_RE.match(text) else None


def telling_line(lines: Iterable[str] | None, window: int = 10) -> str | None:
    """The log line that best says why a build failed: the last error line near the end, else the last line.

    Kaniko prints its final error on stderr and the failing step's output on stdout; the kubelet
    may interleave the two streams in either order.
    """
    lines = [clean_text(line) for line in lines or []]
    lines = [line for line in lines if line.strip()]
    for line in reversed(lines[-window:]):
        if line.lower().startswith(('error', 'erro[', 'fatal', 'fata[')):
            return line
    return lines[-1] if lines else None


def describe(outcome: Outcome, last_log_line: str | None = None) -> str:
    """One readable sentence for a failed outcome.

    ``last_log_line`` is used for containers that ran; a container that could not start
    is described by its waiting message instead.
    """
    if outcome.reason == TIMEOUT:
        text = 'Build timed out: {0}'.format(outcome.message)
        if outcome.container:
            text += " (still in container '{0}')".format(outcome.container)
    elif outcome.reason == UNSCHEDULABLE:
        text = 'Build pod could not be scheduled (Unschedulable): {0}'.format(outcome.message)
    elif outcome.reason == MOUNT_FAILED:
        text = 'Build pod could not start (FailedMount): {0}'.format(outcome.message)
    elif outcome.reason == DELETED:
        text = 'Build failed (Deleted): {0}'.format(outcome.message)
        if outcome.container:
            text += " while in container '{0}'".format(outcome.container)
    elif outcome.loss is not None:
        loss = outcome.loss
        text = 'Build pod {0} was lost ({1}): {2}'.format(loss.pod or '(not known)', outcome.reason, loss.what())
        if outcome.message:
            text += ': {0}'.format(outcome.message.splitlines()[-1].strip())
        if outcome.container:
            text += " (the build was in container '{0}')".format(outcome.container)
        last_log_line = None
    elif outcome.reason in (CONTEXT_NOT_RECEIVED, TARBALL_NOT_FETCHED, SBOM_NOT_FETCHED):
        text = "Build failed ({0}) in container '{1}': {2}".format(outcome.reason, outcome.container, outcome.message)
        last_log_line = None
    elif outcome.exit_code is not None and outcome.container:
        text = "Build failed in container '{0}' with exit code {1} ({2})".format(
            outcome.container, outcome.exit_code, outcome.reason)
    elif outcome.container and outcome.reason in FAIL_FAST_WAITING:
        text = "Build failed: container '{0}' could not start ({1})".format(outcome.container, outcome.reason)
    else:
        text = 'Build failed ({0})'.format(outcome.reason)
        if outcome.container:
            text += " in container '{0}'".format(outcome.container)
    detail = None if outcome.reason in FAIL_FAST_WAITING else clean_text(last_log_line)
    if detail:
        text += ': last log line: {0}'.format(detail.strip())
    elif outcome.message and outcome.loss is None and outcome.reason not in (
            TIMEOUT, UNSCHEDULABLE, MOUNT_FAILED, CONTEXT_NOT_RECEIVED, TARBALL_NOT_FETCHED, SBOM_NOT_FETCHED):
        lines = [line for line in outcome.message.splitlines() if line.strip()]
        if lines:
            text += ': {0}'.format(lines[-1].strip())
    if outcome.hint:
        text += ' (hint: {0})'.format(outcome.hint)
    return text
