# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build pods lost through no fault of the build, and what became of them: pure predicates on the pod.

Kubernetes says so in the pod itself, so no access to nodes is needed:

- the condition DisruptionTarget, which whoever is about to stop or delete a pod adds first (KEP-3329). Its
  reason names who: EvictionByEvictionAPI (pkg/registry/core/pod/storage/eviction.go: the Eviction API, which
  ``kubectl drain`` and the cluster autoscaler use), PreemptionByScheduler (the scheduler makes room for a pod
  of higher priority), DeletionByTaintManager (pkg/controller/tainteviction: a NoExecute taint the pod does not
  tolerate, such as the one the node lifecycle controller puts on a node that no longer reports, after the 300 s
  of the default toleration), DeletionByPodGC (pkg/controller/podgc: the pod's node object was deleted; the pod
  is marked Failed, then force-deleted) and TerminationByKubelet (pkg/kubelet/eviction under node pressure,
  pkg/kubelet/nodeshutdown when the node shuts down). The kubelet's evictions for a pod's own limits (an
  emptyDir's sizeLimit, an ephemeral-storage limit) carry no DisruptionTarget: the build caused those. Once the
  kubelet has stopped a pod so disrupted, the pod is Failed (Ready False, reason PodFailed) and its containers
  ended non-zero, in the second of the condition or after it.
- the node lifecycle controller's mark: once a node has not reported for node-monitor-grace-period (50 s since
  Kubernetes 1.32, 40 s before), MarkPodsNotReady (pkg/controller/util/node/controller_utils.go) sets the Ready
  condition of its pods to False, in the second the node's own Ready turns Unknown, with a NodeNotReady event, and
  leaves the rest as the kubelet last reported it. A kubelet never reports Ready False beside ContainersReady True
  (pkg/kubelet/status/generate.go), and one that still reaches the API server writes its own status back at its
  next sync, within 10 s (status_manager.go, needsReconcile): a mark that stays MARK_CONFIRM seconds says that the
  node is lost.
  The controller changes nothing on a pod whose Ready is False already (an init container runs, or a container of
  the steps after Kaniko waits): for those the node itself tells (``node_check`` of run/waiter.py), where the
  module may read nodes, and the taint eviction otherwise. Nor does a node deleted before it is marked lost leave
  a mark: its pods keep Ready True until the pod GC.

These shapes were recorded on a lab of three nodes running Kubernetes 1.36.2 (tests/lab/record_statuses.py), but
for the kubelet's own disruptions, written from its code: an eviction under node pressure is not recorded yet, and
a node shutdown needs a kubelet under systemd with shutdownGracePeriod.

A container that had failed before the disruption failed on its own: that build's failure is its own. A
DisruptionTarget counts once the pod is being deleted or has failed: one that stays on a running pod (a deletion
that did not follow) is stale, and the disruption controller sets it to False after two minutes
(pkg/controller/disruption/disruption.go, stalePodDisruptionTimeout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

DISRUPTION_TARGET = 'DisruptionTarget'
# What the module names itself: the node stopped reporting (the mark, or the node's Ready condition Unknown),
# the node object is gone, the pod was deleted with no word why.
NODE_LOST = 'NodeLost'
NODE_DELETED = 'NodeDeleted'
DELETED = 'Deleted'
# The reasons of DisruptionTarget (k8s.io/api/core/v1 PodReason...).
EVICTION_API = 'EvictionByEvictionAPI'
PREEMPTED = 'PreemptionByScheduler'
TAINT_MANAGER = 'DeletionByTaintManager'
POD_GC = 'DeletionByPodGC'
KUBELET = 'TerminationByKubelet'
# Seconds the node lifecycle controller's mark must stay before the node counts as lost.
MARK_CONFIRM = 15

# What became of the pod, by cause (the kubelet's causes are named by the pod's status.reason: Evicted, or
# Terminated when the node shut down).
_WHAT = {
    NODE_LOST: 'node {node} stopped reporting to the API server',
    NODE_DELETED: 'node {node} was deleted from the cluster',
    POD_GC: 'node {node} was deleted from the cluster, and the pods bound to it with it',
    TAINT_MANAGER: 'node {node} has a NoExecute taint the pod does not tolerate (a node that stopped reporting '
                   'gets one)',
    EVICTION_API: 'the pod was evicted from node {node} through the Eviction API (kubectl drain, the cluster '
                  'autoscaler)',
    PREEMPTED: 'the scheduler preempted the pod on node {node} for a pod of higher priority',
    'Evicted': 'the kubelet of node {node} evicted the pod under node pressure',
    'Terminated': 'node {node} shut down',
    DELETED: 'the pod was deleted by someone else',
}
# The kubelet's causes: it ends the pod (phase Failed) and the pod object stays.
_KUBELET = frozenset(('Evicted', 'Terminated', KUBELET))
# Causes after which a new pod keeps off the node: it is gone, failing, drained or under pressure. A preempted
# pod's node is sound, and a deleted pod says nothing of its node.
_KEEP_OFF = frozenset((NODE_LOST, NODE_DELETED, POD_GC, TAINT_MANAGER, EVICTION_API, 'Evicted', 'Terminated',
                       KUBELET))


@dataclass(frozen=True)
class Loss:
    """A build pod lost through no fault of the build: the cause (an Outcome's reason), the pod, its node, and
    what Kubernetes said of it (or None)."""

    cause: str
    pod: Optional[str] = None
    node: Optional[str] = None
    said: Optional[str] = None

    @property
    def stays(self) -> bool:
        """Whether the pod stays, as its kubelet ended it (an eviction under node pressure, a node shutdown)."""
        return self.cause in _KUBELET

    @property
    def keep_off(self) -> Optional[str]:
        """The node a new pod must keep off, or None."""
        return self.node if self.cause in _KEEP_OFF else None

    def what(self) -> str:
        """What happened, in a few words that name the node."""
        return _WHAT.get(self.cause, 'the kubelet of node {node} stopped the pod').format(
            node=self.node or '(not known)')


def name_of(pod: Mapping[str, Any] | None) -> Optional[str]:
    return ((pod or {}).get('metadata') or {}).get('name')


def node_of(pod: Mapping[str, Any] | None) -> Optional[str]:
    """The node the pod is bound to, or None."""
    return ((pod or {}).get('spec') or {}).get('nodeName') or None


def _condition(pod: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (pod.get('status') or {}).get('conditions') or []:
        if isinstance(condition, dict) and condition.get('type') == kind:
            return condition
    return None


def _true(pod: Mapping[str, Any], kind: str) -> bool:
    return (_condition(pod, kind) or {}).get('status') == 'True'


def _failed_before(pod: Mapping[str, Any], since: str | None) -> bool:
    """Whether a container of the pod failed on its own before ``since`` (an RFC 3339 time, UTC, as the API
    writes them): it ran out of memory, or ended non-zero earlier. Without the times to tell, it did. The times
    are whole seconds, and a container the disruption stopped may end in the very second of the condition (a
    drained pod did): that one did not fail before."""
    status = pod.get('status') or {}
    for item in (status.get('initContainerStatuses') or []) + (status.get('containerStatuses') or []):
        ended = ((item or {}).get('state') or {}).get('terminated') or {}
        if not ended or ended.get('exitCode', 0) == 0:
            continue
        finished = ended.get('finishedAt')
        if ended.get('reason') == 'OOMKilled' or not finished or not since or finished < since:
            return True
    return False


def loss(pod: Mapping[str, Any] | None) -> Loss | None:
    """The Loss a DisruptionTarget condition of ``pod`` says, or None (none, not acted on yet, or the build had
    failed first)."""
    condition = _condition(pod or {}, DISRUPTION_TARGET) if pod else None
    if pod is None or condition is None or condition.get('status') != 'True':
        return None
    if not (pod.get('metadata') or {}).get('deletionTimestamp') and (pod.get('status') or {}).get('phase') != 'Failed':
        return None  # not yet, or stale
    if _failed_before(pod, condition.get('lastTransitionTime')):
        return None
    cause = condition.get('reason') or DELETED
    if cause == KUBELET:
        cause = (pod.get('status') or {}).get('reason') or KUBELET
    said = condition.get('message') or (pod.get('status') or {}).get('message')
    return Loss(cause, name_of(pod), node_of(pod), said)


def marked(pod: Mapping[str, Any]) -> bool:
    """Whether the node lifecycle controller marked the pod not ready (its node stopped reporting): Ready False
    while ContainersReady is True, which no kubelet reports."""
    ready = _condition(pod, 'Ready')
    return (ready is not None and ready.get('status') == 'False' and _true(pod, 'ContainersReady')
            and not (pod.get('metadata') or {}).get('deletionTimestamp'))


def unmarkable(pod: Mapping[str, Any]) -> bool:
    """Whether the pod runs on a node but could not show the mark: its Ready is False already (an init container
    runs, or a container has ended and another waits). Only the node tells then."""
    phase = (pod.get('status') or {}).get('phase')
    return (node_of(pod) is not None and phase in ('Pending', 'Running') and not _true(pod, 'ContainersReady')
            and not (pod.get('metadata') or {}).get('deletionTimestamp'))


def node_lost(pod: Mapping[str, Any], cause: str = NODE_LOST, said: str | None = None) -> Loss:
    """The Loss of a pod whose node stopped reporting (NODE_LOST) or is gone (NODE_DELETED)."""
    if said is None and cause == NODE_LOST:
        ready = _condition(pod, 'Ready') or {}
        said = 'the node lifecycle controller marked the pod not ready at {0}'.format(
            ready.get('lastTransitionTime') or '(not known)')
    return Loss(cause, name_of(pod), node_of(pod), said)


def retry_hint(cause: str) -> str:
    """How the build runs again after a loss of ``cause``: the words a hint ends with."""
    again = 'set retries to run it again as a new pod'
    return again + ', kept off that node' if cause in _KEEP_OFF else again


def exhausted_hint(attempts: int) -> str:
    """The hint of a build whose ``attempts`` pods were all lost."""
    return ("the build did not fail on its own, but each of its {0} pods was lost: see the nodes and the "
            "namespace's events, or raise retries".format(attempts))
