# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The logs of a build container, as logs.LogStreamer gives those of a build pod.

The source step (the clone on the host) and the container (``podman start --attach``) write to pipes; a
thread per pipe reads it line by line into the build's log file (``log_path``, under a ``==> clone <==``
or ``==> kaniko <==`` header, which the build action shows with -v) and keeps the last ``log_lines``
lines. A pipe ends when its process does, so finish() only waits for the readers to reach that end. The
last few lines of each step are kept whatever log_lines says: when podman could not start the container, its
own error is the last line of the kaniko step.
"""

from __future__ import annotations

import collections
import threading
from typing import IO

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import LogWriter

LOG_LINE_MAX = 64 * 1024
# How long finish() waits for a reader to reach the end of its pipe.
FINISH_WAIT = 10
# The lines of each step that last() gives.
LAST_LINES = 5


class ContainerLog:
    """The lines of one build container's steps."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.writer: LogWriter | None = None
        self.label = ''
        self.tail: collections.deque[str] = collections.deque(maxlen=50)
        self.ends: dict[str, collections.deque[str]] = {}
        self.readers: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def configure(self, writer: LogWriter | None, label: str, keep: int) -> ContainerLog:
        """Write to ``writer`` (a SectionWriter or None) under ``label``, keep the last ``keep`` lines; return self."""
        with self._lock:
            self.writer = writer
            self.label = label
            self.tail = collections.deque(self.tail, maxlen=keep)
        return self

    def line(self, container: str, text: str) -> None:
        with self._lock:
            if self.writer is not None:
                self.writer.write(self.label + container, text)
            self.tail.append(log_sections.clean_text(text))
            self.ends.setdefault(container, collections.deque(maxlen=LAST_LINES)).append(text)

    def last(self, container: str) -> list[str]:
        """The last lines of step ``container`` (read so far: close() it first to have them all)."""
        with self._lock:
            return list(self.ends.get(container, ()))

    def _read(self, container: str, stream: IO[bytes]) -> None:
        try:
            for raw in iter(lambda: stream.readline(LOG_LINE_MAX), b''):
                self.line(container, raw.decode('utf-8', 'replace').rstrip('\r\n'))
        except (OSError, ValueError):  # the pipe was closed under the reader: the build is being removed
            pass

    def follow(self, container: str, stream: IO[bytes]) -> None:
        """Read ``stream`` (a binary pipe) as the log of ``container``, in a thread of its own."""
        reader = threading.Thread(target=self._read, args=(container, stream), name='kiln-log-' + self.name)
        reader.daemon = True
        self.readers[container] = reader
        reader.start()

    def close(self, container: str, wait: float = FINISH_WAIT) -> None:
        """Wait for the reader of ``container`` to reach the end of its pipe (its process has ended)."""
        reader = self.readers.get(container)
        if reader is not None:
            reader.join(wait)

    def close_all(self, wait: float = FINISH_WAIT) -> None:
        for container in list(self.readers):
            self.close(container, wait)

    def stop(self, grace: float = 0) -> None:
        """The build is over or given up on: the engine ends its processes, which ends the pipes."""
        self.close_all(grace)

    def lines(self) -> list[str]:
        """The last lines read so far."""
        with self._lock:
            return list(self.tail)

    def finish(self, grace: float = 0) -> list[str]:
        """The last lines, once every reader has read its pipe to the end."""
        del grace
        self.close_all()
        with self._lock:
            return list(self.tail)
