# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wait for one build pod to end, by watching it.

wait_for_pod() is the loop: it reads events from a source (get/watch) and a clock, both
injected, and returns as soon as status.classify() says the build is over. PodEvents is
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
    from kubernetes import watch as k8s_watch
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


def wait_for_pod(source, clock, timeout, unschedulable_timeout, max_watch=MAX_WATCH_SECONDS):
    """Watch the pod of ``source`` until its build is over or ``timeout`` seconds have passed.

    ``source.get()`` returns (pod dict or None, resourceVersion); ``source.watch(version,
    timeout_seconds)`` yields (event type, pod dict) and may raise ResourceExpired;
    ``source.events()`` returns the pod's events (dicts). ``clock()`` returns seconds
    (monotonic). Returns a WaitResult.
    """
    deadline = clock() + timeout
    unschedulable_since = None
    # A pod whose volumes cannot be mounted stays Pending with nothing in its status:
    # only its events tell. They are read once it has not started for unschedulable_timeout.
    not_started_since = None

    def settle(pod):
        nonlocal unschedulable_since, not_started_since
        if pod is None:
            return WaitResult(pod_status.deleted(), None)
        now = clock()
        if pod_status.unschedulable_message(pod) is None:
            unschedulable_since = None
        elif unschedulable_since is None:
            unschedulable_since = now
        if not pod_status.not_started(pod):
            not_started_since = None
        elif not_started_since is None:
            not_started_since = now
        outcome = pod_status.classify(pod, now, unschedulable_since, unschedulable_timeout)
        if outcome.terminal:
            return WaitResult(outcome, pod)
        if not_started_since is not None and now - not_started_since >= unschedulable_timeout:
            message = pod_status.volume_failure(source.events())
            if message:
                return WaitResult(pod_status.mount_failed(message), pod)
        if now >= deadline:
            return WaitResult(pod_status.timed_out(pod, timeout), pod)
        return None

    def window():
        now = clock()
        seconds = min(deadline - now, max_watch)
        for since in (unschedulable_since, not_started_since):
            if since is not None and since + unschedulable_timeout > now:
                seconds = min(seconds, since + unschedulable_timeout - now)
        return max(1, int(math.ceil(seconds)))

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
    """The events of one pod, from the Kubernetes API (CoreV1Api)."""

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
        watcher = k8s_watch.Watch()
        try:
            for event in watcher.stream(
                    self._core.list_namespaced_pod, self._namespace, field_selector=self._selector,
                    resource_version=version, timeout_seconds=timeout_seconds,
                    _request_timeout=timeout_seconds + 15):
                yield event['type'], event['raw_object']
        except ApiException as exc:
            if exc.status == HTTP_GONE:
                raise ResourceExpired()
            raise
        except (ProtocolError, ReadTimeoutError):
            # A broken or stalled stream: the loop watches again from the last version.
            return
        finally:
            watcher.stop()
