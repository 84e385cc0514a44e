# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pack a local build context into a tar, the same bytes for the same tree.

The tar holds the context directory as .dockerignore leaves it (the Dockerfile and
.dockerignore are always in), with sorted entries, owner 0:0 without names, a fixed
modification time and the permission bits of each file; hard links become plain files,
symbolic links stay links, sockets, devices and FIFOs are left out. The same tree
therefore packs to the same bytes, and the sha256 of the tar identifies the context
(the build key is made from it). The tar ends right after its end-of-archive blocks,
without padding to a full record.

It is written to a temporary file, so that it is known complete, with its size and hash,
before anything is created in the cluster; past max_size packing stops and only the
size of the rest is counted, for the message.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Iterable

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import dockerignore

# Modification time of every entry: 2000-01-01T00:00:00Z (tools warn about 1970 as "implausibly old").
MTIME = 946684800
BLOCK = 512
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PackedContext:
    """A packed context: the temporary tar file, its size in bytes, sha256 (hex) and number of entries."""

    file: str
    size: int
    sha256: str
    entries: int

    def remove(self) -> None:
        try:
            os.unlink(self.file)
        except OSError:
            pass


def human_size(size: float) -> str:
    """``size`` bytes as a short text in binary units, such as '200 MiB' or '1.5 GiB'."""
    value = float(size)
    for unit in ('bytes', 'KiB', 'MiB', 'GiB'):
        if value < 1024 or unit == 'GiB':
            if unit == 'bytes':
                return '{0} bytes'.format(int(value))
            text = '{0:.1f}'.format(value).rstrip('0').rstrip('.')
            return '{0} {1}'.format(text, unit)
        value /= 1024
    return '{0} bytes'.format(size)  # not reached


def check_directory(path: str, option: str = 'local_context.path') -> None:
    """Refuse a context path that is not an existing directory on this host."""
    if not os.path.isabs(path):
        raise ValidationError(option, "'{0}' is relative; give an absolute path on the host that runs the module, "
                                      "such as '{{{{ playbook_dir }}}}/app'".format(path))
    if not os.path.exists(path):
        raise ValidationError(option, "'{0}' does not exist on the host that runs the module; give the directory "
                                      "of the build context there".format(path))
    if not os.path.isdir(path):
        raise ValidationError(option, "'{0}' is not a directory; give the directory that holds the Dockerfile, "
                                      "not a file".format(path))
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValidationError(option, "'{0}' cannot be read ({1}); give a directory the module's user may "
                                      "read".format(path, os.strerror(errno.EACCES)))


def _invalid_pattern(root: str, exc: dockerignore.PatternError) -> ValidationError:
    """The refusal of a .dockerignore line that Docker refuses too (dockerignore.PatternError)."""
    if exc.reason.startswith('illegal exclusion'):
        fix = "write the path to take back after the '!', or remove the line"
    elif exc.reason.startswith('syntax error'):
        fix = "close the [ ] class, escape a literal '[', ']' or '\\' with '\\', or remove the line"
    else:
        fix = 'change or remove the line'
    return ValidationError('local_context', '{0} line {1}: {2!r} is a pattern Docker refuses ({3}); {4}'.format(
        os.path.join(root, dockerignore.FILE_NAME), exc.line, exc.text, exc.reason, fix))


def _read_ignore(root: str) -> list[dockerignore.Pattern]:
    try:
        with open(os.path.join(root, dockerignore.FILE_NAME), 'rb') as handle:
            text = handle.read().decode('utf-8', 'surrogateescape')
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise ValidationError('local_context.path', 'cannot read {0}: {1}'.format(
            os.path.join(root, dockerignore.FILE_NAME), exc.strerror or exc)) from exc
    try:
        return dockerignore.parse(text)
    except dockerignore.PatternError as exc:
        raise _invalid_pattern(root, exc) from exc


def select(root: str, always: Iterable[str] = ()) -> list[tuple[str, os.stat_result]]:
    """The entries of the context in ``root``: sorted (relative path, lstat result) of what .dockerignore keeps.

    ``always`` are relative paths sent whatever .dockerignore says (the Dockerfile, .dockerignore).
    Directories appear before what they hold; a directory that is excluded but holds a file an
    exception takes back is kept, as Docker keeps it. A .dockerignore line Docker refuses is a
    ValidationError naming local_context, the file, the line and the pattern.
    """
    patterns = _read_ignore(root)
    descend_excluded = dockerignore.has_exceptions(patterns)
    always = set(always) | {dockerignore.FILE_NAME}
    kept: dict[str, os.stat_result] = {}

    def add_parents(relative: str) -> None:
        parent = os.path.dirname(relative)
        while parent and parent not in kept:
            kept[parent] = os.lstat(os.path.join(root, parent))
            parent = os.path.dirname(parent)

    def walk(directory: str, relative_dir: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise ValidationError('local_context.path', 'cannot read {0}: {1}'.format(
                directory, exc.strerror or exc)) from exc
        for name in names:
            full = os.path.join(directory, name)
            relative = relative_dir + '/' + name if relative_dir else name
            info = os.lstat(full)
            out = dockerignore.excluded(patterns, relative) and relative not in always
            if stat.S_ISDIR(info.st_mode):
                if not out:
                    kept[relative] = info
                    walk(full, relative)
                elif descend_excluded or any(item.startswith(relative + '/') for item in always):
                    walk(full, relative)
            elif not out and (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                kept[relative] = info
                add_parents(relative)

    try:
        walk(root, '')
    except dockerignore.PatternError as exc:  # a pattern Go compiles only when it is first used
        raise _invalid_pattern(root, exc) from exc
    return sorted(kept.items())


class _Counter:
    """A file object that writes through, counts and hashes, and stops writing past ``limit`` bytes."""

    def __init__(self, handle: BinaryIO, limit: int) -> None:
        self.handle = handle
        self.limit = limit
        self.size = 0
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size <= self.limit:
            self.handle.write(data)
            self.hash.update(data)
        return len(data)

    def tell(self) -> int:
        return self.size


def _tarinfo(relative: str, info: os.stat_result, root: str) -> tarfile.TarInfo:
    item = tarfile.TarInfo(relative)
    item.mode = stat.S_IMODE(info.st_mode)
    item.uid = item.gid = 0
    item.uname = item.gname = ''
    item.mtime = MTIME
    if stat.S_ISDIR(info.st_mode):
        item.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(info.st_mode):
        item.type = tarfile.SYMTYPE
        item.linkname = os.readlink(os.path.join(root, relative))
    else:
        item.type = tarfile.REGTYPE
        item.size = info.st_size
    return item


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def pack(root: str, max_size: int, always: Iterable[str] = (), directory: str | None = None) -> PackedContext:
    """Pack the context directory ``root`` into a temporary tar; return a PackedContext.

    Raises ValidationError naming local_context.max_size when the tar would be larger than ``max_size``
    bytes (nothing is left behind then), naming local_context.path when something cannot be read, and
    naming local_context when .dockerignore holds a line Docker refuses (before anything is written).
    """
    check_directory(root)
    entries = select(root, always)
    handle, name = tempfile.mkstemp(prefix='kiln-context-', suffix='.tar', dir=directory)
    try:
        with os.fdopen(handle, 'wb') as raw:
            counter = _Counter(raw, max_size)
            # A tar that is only written needs write() and tell() of its file object, which _Counter has.
            archive = tarfile.TarFile(fileobj=counter, mode='w', format=tarfile.GNU_FORMAT,  # type: ignore[arg-type]
                                      encoding='utf-8', errors='surrogateescape')
            for relative, info in entries:
                item = _tarinfo(relative, info, root)
                if counter.size > max_size:
                    # Over the limit: count what the rest would take, without reading it.
                    name_size = len(relative.encode('utf-8', 'surrogateescape'))
                    counter.size += BLOCK + _padded(item.size) + (BLOCK + _padded(name_size + 1) if name_size >= 100 else 0)
                    continue
                if item.type == tarfile.REGTYPE:
                    try:
                        with open(os.path.join(root, relative), 'rb') as source:
                            archive.addfile(item, source)
                    except (IOError, OSError) as exc:
                        raise ValidationError('local_context.path', 'cannot read {0}: {1}'.format(
                            os.path.join(root, relative), exc.strerror or exc)) from exc
                else:
                    archive.addfile(item)
            # The end-of-archive blocks, without the padding to a full record that close() would add.
            counter.write(tarfile.NUL * (BLOCK * 2))
            archive.closed = True  # type: ignore[attr-defined]  # close() would pad to a full record
        if counter.size > max_size:
            raise ValidationError('local_context.max_size', 'the build context {0} packs to {1} ({2} bytes) after '
                                  '.dockerignore, more than local_context.max_size ({3}); leave big files out with '
                                  '.dockerignore in that directory, or raise local_context.max_size'.format(
                                      root, human_size(counter.size), counter.size, human_size(max_size)))
        return PackedContext(file=name, size=counter.size, sha256=counter.hash.hexdigest(), entries=len(entries))
    except BaseException:
        try:
            os.unlink(name)
        except OSError:
            pass
        raise
