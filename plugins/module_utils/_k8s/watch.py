# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Follow the pods that match a label selector in some namespaces, through one queue.

PodWatch runs one thread per namespace: list, then watch from the list's resourceVersion; again
from the last version when a watch ends or its stream breaks; a new list after 410 Gone. What it
sees goes into one queue as (namespace, kind, object); next(seconds) hands it out.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any, Iterable, Mapping, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT, CoreApi

try:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import ProtocolError, ReadTimeoutError
except ImportError:
    pass  # _k8s.client.require_kubernetes() reports it before a PodWatch is made

# Event kinds besides the watch's own (ADDED, MODIFIED, DELETED).
SYNC = 'SYNC'          # a pod as a list returned it
RELIST = 'RELIST'      # a namespace was listed again (after 410): the object is the set of pod names listed
FAILURE = 'FAILURE'    # the watch of a namespace failed for good: the object is the exception

# Longest single watch request; the reader then looks at its pods with a fresh clock.
MAX_WATCH_SECONDS = 30
HTTP_GONE = 410


# What next() hands out: (namespace, kind, object).
Event = Tuple[str, str, Any]


def pod_name(pod: Mapping[str, Any] | None) -> str | None:
    return ((pod or {}).get('metadata') or {}).get('name')


class PodWatch:
    """The pods with label selector ``selector`` in ``namespaces`` (through ``core``, a CoreApi)."""

    def __init__(self, core: CoreApi, namespaces: Iterable[str], selector: str,
                 max_watch: int = MAX_WATCH_SECONDS) -> None:
        self.queue: queue.Queue[Event] = queue.Queue()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._watch, args=(core, namespace, selector, max_watch),
                                         name='kiln-watch-' + namespace, daemon=True)
                        for namespace in sorted(set(namespaces))]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def next(self, seconds: float) -> Event | None:
        try:
            return self.queue.get(timeout=max(0.0, seconds))
        except queue.Empty:
            return None

    def _list(self, core: CoreApi, namespace: str, selector: str, listed_before: bool) -> str | None:
        response = core.list_namespaced_pod(namespace, label_selector=selector, _preload_content=False,
                                            _request_timeout=REQUEST_TIMEOUT)
        data = json.loads(response.data)
        items = data.get('items') or []
        for item in items:
            self.queue.put((namespace, SYNC, item))
        if listed_before:
            self.queue.put((namespace, RELIST, set(pod_name(item) for item in items)))
        return (data.get('metadata') or {}).get('resourceVersion')

    def _watch(self, core: CoreApi, namespace: str, selector: str, max_watch: int) -> None:
        version: str | None = None
        listed_before = False
        while not self.stopping.is_set():
            try:
                if version is None:
                    version = self._list(core, namespace, selector, listed_before)
                    listed_before = True
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
