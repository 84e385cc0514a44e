# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wait for one build pod to end, by watching it.

PodWait is what the wait for one pod remembers (since when it is unschedulable or unstarted,
its deadline) and decides on each look at the pod; scheduler.py uses it for many pods at once.
wait_for_pod() is the loop for one pod: it reads events from a source (get/watch) and a clock,
both injected, and returns as soon as status.classify() says the build is over. PodEvents is
the real source: a watch on the one pod with kubernetes.watch, resumed from the last
resourceVersion; 410 Gone makes the loop list the pod again and go on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import status as pod_status

try:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import ProtocolError, ReadTimeoutError
except ImportError:
    pass  # _k8s.client.require_kubernetes() reports it before a PodEvents is made

# Longest single watch request; the loop then looks at the pod with a fresh clock.
MAX_WATCH_SECONDS = 30
HTTP_GONE = 410


class ResourceExpired(Exception):
    """The watch's resourceVersion is too old (HTTP 410 Gone): list again."""


@dataclass(frozen=True)
class WaitResult:
    outcome: pod_status.Outcome
    pod: Optional[Dict[str, Any]]


def _resource_version(obj):
    return ((obj or {}).get('metadata') or {}).get('resourceVersion')


class PodWait(object):
    """What the wait for one pod remembers, and the decision on each look at the pod.

    ``events()`` returns the pod's events (dicts); they are read only when the pod has not
    started for ``unschedulable_timeout`` seconds. ``clock()`` returns seconds (monotonic).
    ``on_running(pod)``, when given, is called on each look at a pod whose build still runs, and may
    act on it (send the local context once its receive container runs); an Outcome it returns ends
    the wait.
    """

    def __init__(self, clock, timeout, unschedulable_timeout, events, on_running=None):
        self.clock = clock
        self.timeout = timeout
        self.unschedulable_timeout = unschedulable_timeout
        self.events = events
        self.on_running = on_running
        self.deadline = clock() + timeout
        self.unschedulable_since = None
        # A pod whose volumes cannot be mounted stays Pending with nothing in its status:
        # only its events tell. They are read once it has not started for unschedulable_timeout.
        self.not_started_since = None
        self.pod = None
        self.settled_at = None

    def settle(self, pod):
        """A WaitResult when the build is over (or given up on), else None."""
        self.pod = pod
        if pod is None:
            return WaitResult(pod_status.deleted(), None)
        now = self.clock()
        self.settled_at = now
        if pod_status.unschedulable_message(pod) is None:
            self.unschedulable_since = None
        elif self.unschedulable_since is None:
            self.unschedulable_since = now
        if not pod_status.not_started(pod):
            self.not_started_since = None
        elif self.not_started_since is None:
            self.not_started_since = now
        outcome = pod_status.classify(pod, now, self.unschedulable_since, self.unschedulable_timeout)
        if outcome.terminal:
            return WaitResult(outcome, pod)
        if self.on_running is not None:
            ended = self.on_running(pod)
            if ended is not None:
                return WaitResult(ended, pod)
        if self.not_started_since is not None and now - self.not_started_since >= self.unschedulable_timeout:
            message = pod_status.volume_failure(self.events())
            if message:
                return WaitResult(pod_status.mount_failed(message), pod)
        if now >= self.deadline:
            return WaitResult(pod_status.timed_out(pod, self.timeout), pod)
        return None

    def _thresholds(self, after):
        """Times later than ``after`` at which a look at the unchanged pod may end the wait."""
        times = [self.deadline]
        for since in (self.unschedulable_since, self.not_started_since):
            if since is not None and since + self.unschedulable_timeout > after:
                times.append(since + self.unschedulable_timeout)
        return times

    def window(self, max_watch):
        """Whole seconds to watch before looking at the pod again (at least 1)."""
        now = self.clock()
        seconds = min([max_watch] + [time - now for time in self._thresholds(now)])
        return max(1, int(math.ceil(seconds)))

    def next_look(self, max_watch):
        """When (on the clock) to look at the unchanged pod again: a threshold, or max_watch after the last look."""
        last = self.settled_at if self.settled_at is not None else self.clock()
        return min([last + max_watch] + self._thresholds(last))


def wait_for_pod(source, clock, timeout, unschedulable_timeout, max_watch=MAX_WATCH_SECONDS, on_running=None):
    """Watch the pod of ``source`` until its build is over or ``timeout`` seconds have passed.

    ``source.get()`` returns (pod dict or None, resourceVersion); ``source.watch(version,
    timeout_seconds)`` yields (event type, pod dict) and may raise ResourceExpired;
    ``source.events()`` returns the pod's events (dicts). ``clock()`` returns seconds
    (monotonic). ``on_running`` is PodWait's. Returns a WaitResult.
    """
    wait = PodWait(clock, timeout, unschedulable_timeout, source.events, on_running)
    settle = wait.settle

    def window():
        return wait.window(max_watch)

    pod, version = source.get()
    while True:
        result = settle(pod)
        if result:
            return result
        try:
            for kind, obj in source.watch(version, window()):
                version = _resource_version(obj) or version
                if kind == 'DELETED':
                    return WaitResult(pod_status.deleted(), obj)
                if kind not in ('ADDED', 'MODIFIED'):
                    continue
                pod = obj
                result = settle(pod)
                if result:
                    return result
        except ResourceExpired:
            pod, version = source.get()


class PodEvents(object):
    """The events of one pod, from the Kubernetes API (a CoreApi)."""

    def __init__(self, core_v1, namespace, name):
        self._core = core_v1
        self._namespace = namespace
        self._name = name
        self._selector = 'metadata.name=' + name

    def get(self):
        response = self._core.list_namespaced_pod(
            self._namespace, field_selector=self._selector, _preload_content=False)
        data = json.loads(response.data)
        items = data.get('items') or []
        return (items[0] if items else None), _resource_version(data)

    def events(self, request_timeout=60):
        response = self._core.list_namespaced_event(
            self._namespace, field_selector='involvedObject.kind=Pod,involvedObject.name=' + self._name,
            _preload_content=False, _request_timeout=request_timeout)
        return json.loads(response.data).get('items') or []

    def watch(self, version, timeout_seconds):
        try:
            for kind, obj in self._core.watch_namespaced_pods(
                    self._namespace, field_selector=self._selector, resource_version=version,
                    timeout_seconds=timeout_seconds, request_timeout=timeout_seconds + 15):
                yield kind, obj
        except ApiException as exc:
            if exc.status == HTTP_GONE:
                raise ResourceExpired()
            raise
        except (ProtocolError, ReadTimeoutError):
            # A broken or stalled stream: the loop watches again from the last version.
            return
