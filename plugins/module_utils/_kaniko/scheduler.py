# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run many builds as pods, at most max_concurrent at a time, and follow them all through one stream.

Scheduler is the loop. It is pure apart from what it is given: the jobs (start a pod, read its
events, finish), an event source and a clock. It starts jobs while slots are free, hands each
pod event to the PodWait of that pod, looks again at pods whose deadline or unschedulable
threshold has come, and finishes a job as soon as its PodWait says it is over, after filling
the freed slot.

RunWatch is the real event source: one thread per namespace runs a watch on the pods with the
run's label (list, then watch from the list's resourceVersion; again from the last version when
a watch ends; a new list after 410 Gone), and puts what it sees into one queue.
"""

from __future__ import annotations

import collections
import json
import queue
import threading

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import status as pod_status
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.waiter import (
    HTTP_GONE,
    MAX_WATCH_SECONDS,
    PodWait,
    WaitResult,
)

try:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import ProtocolError, ReadTimeoutError
except ImportError:
    pass  # _k8s.client.require_kubernetes() reports it before a RunWatch is made

# Event kinds of a source besides the watch's own (ADDED, MODIFIED, DELETED).
SYNC = 'SYNC'          # a pod as a list returned it
RELIST = 'RELIST'      # a namespace was listed again (after 410): the object is the set of pod names listed
FAILURE = 'FAILURE'    # the watch of a namespace failed for good: the object is the exception

REQUEST_TIMEOUT = 60


def _name(pod):
    return ((pod or {}).get('metadata') or {}).get('name')


class Scheduler(object):
    """Runs ``jobs`` in order, at most ``max_concurrent`` pods at a time.

    A job has ``namespace``, ``timeout``, ``unschedulable_timeout``, ``start()`` (returns the
    created pod, or None when it could not start; the job then holds its failure), ``events()``
    (the pod's events), ``finish(wait_result)`` and optionally ``on_running(pod)`` (see PodWait). ``source.next(seconds)`` returns
    (namespace, kind, object) or None after ``seconds``. ``exists(namespace, name)`` says
    whether a pod missing from a new list is really gone.
    """

    def __init__(self, jobs, max_concurrent, source, clock, exists=None, max_watch=MAX_WATCH_SECONDS):
        self.pending = collections.deque(jobs)
        self.max_concurrent = max(1, max_concurrent)
        self.source = source
        self.clock = clock
        self.exists = exists or (lambda namespace, name: True)
        self.max_watch = max_watch
        self.running = collections.OrderedDict()  # (namespace, pod name) -> (job, PodWait)
        self.peak = 0

    def _fill(self):
        """Start pending jobs while slots are free; return those that ended at once."""
        ended = []
        while self.pending and len(self.running) < self.max_concurrent:
            job = self.pending.popleft()
            pod = job.start()
            if pod is None:
                continue
            wait = PodWait(self.clock, job.timeout, job.unschedulable_timeout, job.events,
                           getattr(job, 'on_running', None))
            key = (job.namespace, _name(pod))
            self.running[key] = (job, wait)
            self.peak = max(self.peak, len(self.running))
            result = wait.settle(pod)
            if result:
                ended.append((key, result))
        return ended

    def _on_event(self, event):
        namespace, kind, obj = event
        if kind == FAILURE:
            raise obj
        if kind == RELIST:
            return [(key, WaitResult(pod_status.deleted(), None)) for key in list(self.running)
                    if key[0] == namespace and key[1] not in obj and not self.exists(*key)]
        key = (namespace, _name(obj))
        if key not in self.running:
            return []
        wait = self.running[key][1]
        if kind == 'DELETED':
            return [(key, WaitResult(pod_status.deleted(obj), obj))]
        if kind in ('ADDED', 'MODIFIED', SYNC):
            result = wait.settle(obj)
            if result:
                return [(key, result)]
        return []

    def _look_again(self, skip):
        """Look again at the unchanged pods whose time has come (deadline, thresholds, max_watch)."""
        now = self.clock()
        ended = []
        for key, (_job, wait) in list(self.running.items()):
            if key not in skip and wait.next_look(self.max_watch) <= now:
                result = wait.settle(wait.pod)
                if result:
                    ended.append((key, result))
        return ended

    def run(self):
        ended = self._fill()
        while self.running or ended:
            if not ended:
                wake = min(wait.next_look(self.max_watch) for _job, wait in self.running.values())
                event = self.source.next(max(0.0, wake - self.clock()))
                if event is not None:
                    ended = self._on_event(event)
                ended += self._look_again(set(key for key, _result in ended))
            done = [(self.running.pop(key)[0], result) for key, result in ended if key in self.running]
            ended = self._fill()  # the next builds start before the finished ones' logs are read
            for job, result in done:
                job.finish(result)


class RunWatch(object):
    """The pods with label selector ``selector`` in ``namespaces``: one watch thread per namespace."""

    def __init__(self, core, namespaces, selector, max_watch=MAX_WATCH_SECONDS):
        self.queue = queue.Queue()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._watch, args=(core, namespace, selector, max_watch),
                                         name='kiln-watch-' + namespace, daemon=True)
                        for namespace in sorted(set(namespaces))]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()

    def next(self, seconds):
        try:
            return self.queue.get(timeout=max(0.0, seconds))
        except queue.Empty:
            return None

    def _watch(self, core, namespace, selector, max_watch):
        version = None
        listed_before = False
        while not self.stopping.is_set():
            try:
                if version is None:
                    response = core.list_namespaced_pod(namespace, label_selector=selector, _preload_content=False,
                                                        _request_timeout=REQUEST_TIMEOUT)
                    data = json.loads(response.data)
                    items = data.get('items') or []
                    for item in items:
                        self.queue.put((namespace, SYNC, item))
                    if listed_before:
                        self.queue.put((namespace, RELIST, set(_name(item) for item in items)))
                    listed_before = True
                    version = (data.get('metadata') or {}).get('resourceVersion')
                for kind, obj in core.watch_namespaced_pods(namespace, label_selector=selector,
                                                            resource_version=version, timeout_seconds=max_watch,
                                                            request_timeout=max_watch + 15):
                    if self.stopping.is_set():
                        return
                    version = ((obj or {}).get('metadata') or {}).get('resourceVersion') or version
                    if kind in ('ADDED', 'MODIFIED', 'DELETED'):
                        self.queue.put((namespace, kind, obj))
            except ApiException as exc:
                if exc.status == HTTP_GONE:
                    version = None
                    continue
                self.queue.put((namespace, FAILURE, exc))
                return
            except (ProtocolError, ReadTimeoutError):
                continue  # a broken or stalled stream: watch again from the last version
            except Exception as exc:  # handed to the main thread, which cleans up and reports it
                self.queue.put((namespace, FAILURE, exc))
                return
