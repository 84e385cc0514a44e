# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The logs of a build pod, followed while it runs.

A LogStreamer follows the clone container's log, then Kaniko's, from the moment the pod exists, and
writes each line to the build's log file (``log_path``) as it comes, so that the build action shows
lines with -v while the build runs, and keeps the last ``log_lines`` lines in memory. Once the pod
has ended its logs are whole on the node: a stream still open is cut at once (the kubelet would close it
within a second, when it next looks whether a quiet container still runs) and each log is read once more,
without follow, past the lines already seen: what a stream cut by an API server restart missed, or the end
of one still open. A follow never counts a last line without its line end as seen, so that read has it
whole. A follow that ends is followed again until the pod says the container has ended: the kubelet
also ends at once the follow of a container that is only starting.

Several builds can write to one file (``builds:`` with a ``log_path`` for the task): the writer is a
control/log_file.py SectionWriter.
"""

from __future__ import annotations

import collections
import json
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT, CoreApi, iter_lines
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import cluster_error
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import LogWriter
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import EngineError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by _k8s.client.require_kubernetes
    ApiException = None

if TYPE_CHECKING:
    import urllib3

LOG_CHUNK = 64 * 1024
LOG_LINE_MAX = 64 * 1024
# How long to wait before asking again for the log of a container that has not started.
NOT_STARTED_WAIT = 0.5
# What LogStreamer._read_pod gives for a pod it could not read (an error other than 404).
UNREAD = object()


class LogStreamer:
    """Follows the logs of ``containers`` of one pod, in order, in a thread of its own (see the module docstring)."""

    def __init__(self, core: CoreApi, namespace: str, pod_name: str, containers: Iterable[str],
                 writer: LogWriter | None = None, label: str = '', keep: int = 30,
                 request_timeout: float = REQUEST_TIMEOUT, sleep: Callable[[float], object] | None = None) -> None:
        self.core = core
        self.namespace = namespace
        self.pod_name = pod_name
        self.containers = list(containers)
        self.writer = writer
        self.label = label
        self.tail: collections.deque[str] = collections.deque(maxlen=keep)
        self.request_timeout = request_timeout
        self.seen = dict((container, 0) for container in self.containers)
        self._stopping = threading.Event()
        # Set once the build is over (stop(), finish()): no status lag is waited out any more, and a
        # wait between two follows ends at once.
        self._over = threading.Event()
        self._sleep = sleep or self._over.wait
        self._response: urllib3.BaseHTTPResponse | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LogStreamer:
        self._thread = threading.Thread(target=self._follow_all, name='kiln-log-' + self.pod_name)
        self._thread.daemon = True
        self._thread.start()
        return self

    def _emit(self, container: str, line: str) -> None:
        self.seen[container] += 1
        if self.writer is not None:
            self.writer.write(self.label + container, line)
        self.tail.append(log_sections.clean_text(line))

    def _emit_new(self, container: str, response: urllib3.BaseHTTPResponse, whole: bool = True) -> None:
        """Emit the lines of a log ``response`` past those of ``container`` already seen; ``whole``: the
        response is the log to its end, not a follow that may be cut."""
        skip = self.seen[container]
        for number, line in enumerate(iter_lines(response.stream(LOG_CHUNK), LOG_LINE_MAX, unterminated=whole)):
            if number >= skip:
                self._emit(container, line)

    def _follow_all(self) -> None:
        try:
            for container in self.containers:
                if not self._follow(container):
                    return
        except Exception:  # finish() reads each log again, past what was seen; the build's result is what counts
            return

    def _follow(self, container: str) -> bool:
        """Follow one container's log to its end; False when the streamer is stopped or the pod is gone."""
        while not self._stopping.is_set():
            try:
                response = self.core.read_namespaced_pod_log(
                    self.pod_name, self.namespace, container=container, follow=True,
                    _preload_content=False, _request_timeout=(self.request_timeout, None))
            except ApiException as exc:
                # 404 comes from the kubelet too, for a pod it has not taken up yet: gone only if the API says so.
                if exc.status == 404 and self._gone():
                    return False
                if exc.status not in (400, 404):  # 400: the container has not started yet
                    raise
                if self._over.is_set():  # it never will: finish() reads what there is
                    return True
                self._sleep(NOT_STARTED_WAIT)
                continue
            self._response = response
            try:
                self._emit_new(container, response, whole=False)
            except Exception:  # a cut stream: follow again, past the lines already seen
                if self._stopping.is_set():
                    return False
            finally:
                self._response = None
                response.release_conn()
            # The kubelet also ends a follow at once for a container that is only starting: move on
            # only once the container has ended.
            if self._stopping.is_set():
                return False
            if self._over.is_set() or self._ended(container):
                return True
            self._sleep(NOT_STARTED_WAIT)
        return False

    def _read_pod(self) -> Any:
        """The pod (a dict), None once it is gone (404), or UNREAD when it could not be read."""
        try:
            response = self.core.read_namespaced_pod(self.pod_name, self.namespace, _preload_content=False,
                                                     _request_timeout=self.request_timeout)
        except ApiException as exc:
            return None if exc.status == 404 else UNREAD
        return json.loads(response.data)

    def _gone(self) -> bool:
        return self._read_pod() is None

    def _ended(self, container: str) -> bool:
        pod = self._read_pod()
        if pod is None:  # gone: nothing more will come
            return True
        if pod is UNREAD:
            return False
        return states.container_termination(pod, container) is not None

    def stop(self, grace: float = 0) -> None:
        """Let the streams reach the end of the logs for up to ``grace`` seconds, then cut them.

        The build is over when this is called: the follower no longer waits for the pod's status to say
        that a container has ended (the kubelet reports it up to a second after the log stream closed).
        """
        self._over.set()
        if self._thread is None:
            return
        self._thread.join(grace)
        if self._thread.is_alive():
            self._stopping.set()
            response = self._response
            if response is not None:
                cut = getattr(response, 'shutdown', None) or response.close
                try:
                    cut()
                except Exception:  # already closed
                    pass
            self._thread.join(5)
        self._stopping.set()

    def finish(self, grace: float = 0) -> list[str]:
        """Stop following, read what was not read yet, and return the last lines; raises EngineError when the
        API server refuses the logs."""
        try:
            return self._finish(grace)
        except ApiException as exc:
            raise EngineError(cluster_error(exc, 'read the log of pod {0}'.format(self.pod_name)).message) from exc

    def lines(self) -> list[str]:
        """The last lines followed so far."""
        return list(self.tail)

    def _finish(self, grace: float) -> list[str]:
        self.stop(grace)
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError('the log stream of pod {0} did not stop'.format(self.pod_name))
        # Read each log once more, past the lines already seen: what a cut stream missed, and the end of
        # a stream that was still open.
        for container in self.containers:
            try:
                response = self.core.read_namespaced_pod_log(
                    self.pod_name, self.namespace, container=container,
                    _preload_content=False, _request_timeout=self.request_timeout)
            except ApiException as exc:
                if exc.status in (400, 404):  # never started, or already gone
                    continue
                raise
            try:
                self._emit_new(container, response)
            finally:
                response.release_conn()
        return list(self.tail)
