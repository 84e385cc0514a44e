# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The log file a build (or the builds of a task) write: lines from several sources, each run of lines under
a ``==> <source> <==`` header (control/log_sections.py), which the build action reads while the build runs.
Both engines' log followers write through it.
"""

from __future__ import annotations

import threading
from typing import BinaryIO

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections


class SectionWriter:
    """Lines from several sources into one binary file, each run of lines under a header naming its source."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self._lock = threading.Lock()
        self._section: str | None = None

    def write(self, section: str, line: str) -> None:
        with self._lock:
            if section != self._section:
                self.handle.write(log_sections.header(section).encode('utf-8') + b'\n')
                self._section = section
            self.handle.write(line.encode('utf-8') + b'\n')
            self.handle.flush()

    def close(self) -> None:
        with self._lock:
            self.handle.close()


def writer_for(handle: BinaryIO | SectionWriter | None) -> SectionWriter | None:
    """A SectionWriter for ``handle`` (a binary file, a SectionWriter already, or None)."""
    if handle is None or isinstance(handle, SectionWriter):
        return handle
    return SectionWriter(handle)
