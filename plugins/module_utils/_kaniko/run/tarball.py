# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Files a build writes on the module's host (tarball.dest, sbom.dest): checked before anything is made, and
written through a temporary file next to them, renamed over them once whole: dest is either the old file or
the whole new one, never a part. An engine brings the bytes (engines/kubernetes/export.py from the export
container, engines/podman/engine.py from the build container's directory); what a tarball holds is read by
identity/decide.py.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from typing import Any, Callable

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError

CHUNK = 1024 * 1024
# produce(write): hands each piece of a file to write.
Produce = Callable[[Callable[[bytes], None]], None]


def check_dest(path: str, option: str = 'tarball.dest') -> None:
    """Refuse a file (tarball.dest, sbom.dest) that cannot be written, before anything is created; it is not made."""
    directory = os.path.dirname(path)
    reason = None
    if os.path.isdir(path):
        reason = os.strerror(errno.EISDIR)
    elif not os.path.isdir(directory):
        reason = os.strerror(errno.ENOENT)
    elif not os.access(directory, os.W_OK | os.X_OK):
        reason = os.strerror(errno.EACCES)
    if reason:
        raise ValidationError(option, 'cannot write {0}: {1}; give a file in a directory that exists and is '
                                      'writable on the host that runs the module'.format(path, reason))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace(dest: str, produce: Produce) -> dict[str, Any]:
    """Write ``dest`` from ``produce(write)``, which hands each piece of the file to ``write`` and raises to
    leave dest untouched; return {path, size, sha256}."""
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(dest), prefix='.' + os.path.basename(dest) + '.',
                                       suffix='.kiln-partial')
    try:
        digest = hashlib.sha256()
        size = [0]
        with os.fdopen(handle, 'wb') as out:
            def write(data: bytes) -> None:
                out.write(data)
                digest.update(data)
                size[0] += len(data)

            produce(write)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, dest)
        return dict(path=dest, size=size[0], sha256=digest.hexdigest())
    finally:
        try:
            os.unlink(partial)
        except OSError:
            pass


def place(source: str, dest: str) -> dict[str, Any]:
    """Copy the file ``source`` of this host to ``dest`` (see replace); raises OSError, dest then untouched."""
    def copy(write: Callable[[bytes], None]) -> None:
        with open(source, 'rb') as data:
            for block in iter(lambda: data.read(CHUNK), b''):
                write(block)

    return replace(dest, copy)
