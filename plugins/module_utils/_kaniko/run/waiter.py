# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the wait for one build pod remembers, and the decision on each look at it.

PodWait knows since when the pod is unschedulable or unstarted, and its deadline; on each look at
the pod it says, through status.classify(), whether the build is over. It also tells a pod whose node is lost
(pod/disruption.py): by the node lifecycle controller's mark once it has stayed MARK_CONFIRM seconds, or, where
the pod cannot show that mark, by asking about the node every NODE_CHECK_SECONDS. run/scheduler.py holds one
per running pod; the clock is injected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import disruption
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states

# Seconds between two questions about the node of a pod that cannot show the node lifecycle controller's mark.
NODE_CHECK_SECONDS = 15
# node_check(node name): (cause, what the node says) when the node is lost (disruption.NODE_LOST) or gone
# (disruption.NODE_DELETED), else None (it reports, or the engine cannot tell).
NodeCheck = Callable[[str], Optional[Tuple[str, str]]]


@dataclass(frozen=True)
class WaitResult:
    outcome: states.Outcome
    pod: Optional[Dict[str, Any]]


class PodWait:
    """What the wait for one pod remembers, and the decision on each look at the pod.

    ``events()`` returns the pod's events (dicts); they are read only when the pod has not
    started for ``unschedulable_timeout`` seconds. ``clock()`` returns seconds (monotonic).
    ``on_running(pod)``, when given, is called on each look at a pod whose build still runs, and may
    act on it (send the local context once its receive container runs); an Outcome it returns ends
    the wait. ``node_check`` (NodeCheck), when given, is asked about the node of a pod that cannot show
    that its node stopped reporting.
    """

    def __init__(self, clock: Callable[[], float], timeout: float, unschedulable_timeout: float,
                 events: Callable[[], list[dict[str, Any]]],
                 on_running: Callable[[dict[str, Any]], states.Outcome | None] | None = None,
                 node_check: NodeCheck | None = None) -> None:
        self.clock = clock
        self.timeout = timeout
        self.unschedulable_timeout = unschedulable_timeout
        self.events = events
        self.on_running = on_running
        self.deadline = clock() + timeout
        self.unschedulable_since: float | None = None
        # A pod whose volumes cannot be mounted stays Pending with nothing in its status:
        # only its events tell. They are read once it has not started for unschedulable_timeout.
        self.not_started_since: float | None = None
        self.node_check = node_check
        # Since when the pod shows the node lifecycle controller's mark; since when it could not show it (and
        # its node is asked about instead), and when that was last done.
        self.marked_since: float | None = None
        self.unmarkable_since: float | None = None
        self.node_checked_at: float | None = None
        self.pod: dict[str, Any] | None = None
        self.settled_at: float | None = None

    def settle(self, pod: dict[str, Any] | None) -> WaitResult | None:
        """A WaitResult when the build is over (or given up on), else None."""
        self.pod = pod
        if pod is None:
            return WaitResult(states.deleted(), None)
        now = self.clock()
        self.settled_at = now
        if states.unschedulable_message(pod) is None:
            self.unschedulable_since = None
        elif self.unschedulable_since is None:
            self.unschedulable_since = now
        if not states.not_started(pod):
            self.not_started_since = None
        elif self.not_started_since is None:
            self.not_started_since = now
        outcome = states.classify(pod, now, self.unschedulable_since, self.unschedulable_timeout)
        if outcome.terminal:
            return WaitResult(outcome, pod)
        loss = self._node_loss(pod, now)
        if loss is not None:
            return WaitResult(states.lost(pod, loss), pod)
        if self.on_running is not None:
            ended = self.on_running(pod)
            if ended is not None:
                return WaitResult(ended, pod)
        if self.not_started_since is not None and now - self.not_started_since >= self.unschedulable_timeout:
            message = states.volume_failure(self.events())
            if message:
                return WaitResult(states.mount_failed(message), pod)
        if now >= self.deadline:
            return WaitResult(states.timed_out(pod, self.timeout), pod)
        return None

    def _node_loss(self, pod: dict[str, Any], now: float) -> disruption.Loss | None:
        """The Loss of a pod whose node is lost, or None; remembers since when the pod says so, or cannot."""
        if not disruption.marked(pod):
            self.marked_since = None
        elif self.marked_since is None:
            self.marked_since = now
        if self.marked_since is not None and now - self.marked_since >= disruption.MARK_CONFIRM:
            return disruption.node_lost(pod)
        if self.node_check is None or not disruption.unmarkable(pod):
            self.unmarkable_since = self.node_checked_at = None
            return None
        if self.unmarkable_since is None:
            self.unmarkable_since = now
        if now < self._next_node_check():
            return None
        self.node_checked_at = now
        found = self.node_check(str(disruption.node_of(pod)))  # unmarkable: bound to a node
        return disruption.node_lost(pod, found[0], found[1]) if found else None

    def _next_node_check(self) -> float:
        return max(self.unmarkable_since or 0.0, self.node_checked_at or 0.0) + NODE_CHECK_SECONDS

    def _thresholds(self, after: float) -> list[float]:
        """Times later than ``after`` at which a look at the unchanged pod may end the wait."""
        times = [self.deadline]
        for since, wait in ((self.unschedulable_since, self.unschedulable_timeout),
                            (self.not_started_since, self.unschedulable_timeout),
                            (self.marked_since, disruption.MARK_CONFIRM)):
            if since is not None and since + wait > after:
                times.append(since + wait)
        if self.unmarkable_since is not None and self._next_node_check() > after:
            times.append(self._next_node_check())
        return times

    def next_look(self, max_watch: float) -> float:
        """When (on the clock) to look at the unchanged pod again: a threshold, or max_watch after the last look."""
        last = self.settled_at if self.settled_at is not None else self.clock()
        return min([last + max_watch] + self._thresholds(last))
