# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run builds as pods, at most max_concurrent at a time, and follow them all through one stream.

Scheduler is the loop, for one build as for many. It is pure apart from what it is given: the
jobs (start a pod, read its events, finish), an event source and a clock. It starts jobs while
slots are free, hands each pod event to the PodWait of that pod, looks again at pods whose
deadline or unschedulable threshold has come, and finishes a job as soon as its PodWait says it
is over, after filling the freed slot. A job whose pod was lost through no fault of its own and that may run
again (Build.retry) takes its own slot back first, with a new pod. The real event sources are the engines'
watches (engines/base.py).
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Iterable, Optional, Protocol, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import (
    FAILURE,
    MAX_WATCH_SECONDS,
    RELIST,
    SYNC,
    Event,
    EventSource,
    pod_name,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.waiter import PodWait, WaitResult

# A running pod: (namespace, pod name).
Key = Tuple[Optional[str], Optional[str]]


class Job(Protocol):
    """What the Scheduler runs (run/lifecycle.py's Build): see Scheduler."""

    @property
    def namespace(self) -> str | None:
        """Where its pod runs."""

    @property
    def timeout(self) -> float:
        """Seconds its pod may run."""

    @property
    def unschedulable_timeout(self) -> float:
        """Seconds its pod may wait for a node, or to start."""

    def start(self) -> dict[str, Any] | None:
        """Create the pod; the pod, or None when it could not start."""

    def events(self) -> list[dict[str, Any]]:
        """The pod's events."""

    def finish(self, waited: WaitResult) -> None:
        """Conclude from the end of the wait."""


class Scheduler:
    """Runs ``jobs`` in order, at most ``max_concurrent`` pods at a time.

    A job has ``namespace``, ``timeout``, ``unschedulable_timeout``, ``start()`` (returns the
    created pod, or None when it could not start; the job then holds its failure), ``events()``
    (the pod's events), ``finish(wait_result)`` and optionally ``on_running(pod)`` and ``node_check`` (see
    PodWait), ``retry(wait_result)`` (for a pod lost through no fault of the job: whether it is to start again;
    it then starts before any other), ``error`` (set
    by a failed finish), and ``siblings`` with ``cancel(failed_job)``: the jobs given up on when one of them
    fails (the platforms of one build). ``source.next(seconds)`` returns
    (namespace, kind, object) or None after ``seconds``. ``exists(namespace, name)`` says
    whether a pod missing from a new list is really gone.
    """

    def __init__(self, jobs: Iterable[Job], max_concurrent: int, source: EventSource, clock: Callable[[], float],
                 exists: Callable[[str, str], bool] | None = None, max_watch: float = MAX_WATCH_SECONDS) -> None:
        self.pending = collections.deque(jobs)
        self.max_concurrent = max(1, max_concurrent)
        self.source = source
        self.clock = clock
        self.exists = exists or (lambda namespace, name: True)
        self.max_watch = max_watch
        self.running: collections.OrderedDict[Key, tuple[Job, PodWait]] = collections.OrderedDict()  # by pod
        self.peak = 0

    def _fill(self) -> list[tuple[Key, WaitResult]]:
        """Start pending jobs while slots are free; return those that ended at once."""
        ended = []
        while self.pending and len(self.running) < self.max_concurrent:
            job = self.pending.popleft()
            pod = job.start()
            if pod is None:
                continue
            wait = PodWait(self.clock, job.timeout, job.unschedulable_timeout, job.events,
                           getattr(job, 'on_running', None), getattr(job, 'node_check', None))
            key = (job.namespace, pod_name(pod))
            self.running[key] = (job, wait)
            self.peak = max(self.peak, len(self.running))
            result = wait.settle(pod)
            if result:
                ended.append((key, result))
        return ended

    def _on_event(self, event: Event) -> list[tuple[Key, WaitResult]]:
        namespace, kind, obj = event
        if kind == FAILURE:
            raise obj
        if kind == RELIST:  # of a watch of namespaces: its pods have a namespace and a name
            return [(key, WaitResult(states.deleted(), None)) for key in list(self.running)
                    if key[0] == namespace and key[1] not in obj and not self.exists(*cast(Tuple[str, str], key))]
        key = (namespace, pod_name(obj))
        if key not in self.running:
            return []
        wait = self.running[key][1]
        if kind == 'DELETED':
            return [(key, WaitResult(states.deleted(obj), obj))]
        if kind in ('ADDED', 'MODIFIED', SYNC):
            result = wait.settle(obj)
            if result:
                return [(key, result)]
        return []

    def _look_again(self, skip: set[Key]) -> list[tuple[Key, WaitResult]]:
        """Look again at the unchanged pods whose time has come (deadline, thresholds, max_watch)."""
        now = self.clock()
        ended = []
        for key, (_job, wait) in list(self.running.items()):
            if key not in skip and wait.next_look(self.max_watch) <= now:
                result = wait.settle(wait.pod)
                if result:
                    ended.append((key, result))
        return ended

    def run(self) -> None:
        ended = self._fill()
        while self.running or ended:
            if not ended:
                wake = min(wait.next_look(self.max_watch) for _job, wait in self.running.values())
                event = self.source.next(max(0.0, wake - self.clock()))
                if event is not None:
                    ended = self._on_event(event)
                ended += self._look_again(set(key for key, _result in ended))
            done = self._ended(ended)
            for job, result in done:
                if result.outcome.state != states.SUCCEEDED:  # its siblings do not take the freed slot
                    self._cancel(job, pending_only=True)
            ended = self._fill()  # the next builds start before the finished ones' logs are read
            for job, result in done:
                job.finish(result)
                if getattr(job, 'error', None) is not None:
                    self._cancel(job)

    def _ended(self, ended: list[tuple[Key, WaitResult]]) -> list[tuple[Job, WaitResult]]:
        """The jobs that ended, out of the running ones; those lost that run again go first in the queue."""
        done, again = [], []
        for key, result in ended:
            if key not in self.running:
                continue
            job = self.running.pop(key)[0]
            retry = getattr(job, 'retry', None)
            if result.outcome.loss is not None and retry is not None and retry(result):
                again.append(job)
            else:
                done.append((job, result))
        self.pending.extendleft(reversed(again))
        return done

    def _cancel(self, failed: Job, pending_only: bool = False) -> None:
        """Give up on the unfinished siblings of the ``failed`` job (the other platforms of its build): they
        start no pod, or theirs is deleted at once."""
        for job in getattr(failed, 'siblings', ()):
            if job in self.pending:
                self.pending.remove(job)
                job.cancel(failed)
                continue
            for key, (running, _wait) in list(self.running.items()):
                if running is job and not pending_only:
                    del self.running[key]
                    job.cancel(failed)
