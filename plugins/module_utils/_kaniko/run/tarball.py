# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The image tarball (option tarball) on the module's host: check dest, read what it holds, fetch it.

Kaniko writes a docker-archive (``docker load``, ``skopeo ... docker-archive:``): manifest.json
names the image's configuration, whose labels carry the build key, so a dest that already holds
this very build is found without a pod. fetch() brings the tarball out of the export container
into a temporary file next to dest, checks its size against the one the container reports, and
renames it over dest: dest is either the old file or the whole new one, never a part.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tarfile
import tempfile

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import pod_exec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render

CHUNK = 1024 * 1024


def check_dest(path, option='tarball.dest'):
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


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def read(path):
    """(labels, size, sha256) of the docker-archive at ``path``; None when there is no file.

    A file that is not a readable docker-archive has the labels {}.
    """
    if not os.path.isfile(path):
        return None
    labels = {}
    try:
        with tarfile.open(path, 'r:') as archive:
            manifest = json.load(archive.extractfile('manifest.json'))
            config = json.load(archive.extractfile(manifest[0]['Config']))
            labels = (config.get('config') or {}).get('Labels') or {}
    except (tarfile.TarError, KeyError, IndexError, TypeError, ValueError, AttributeError, OSError):
        labels = {}
    return labels, os.path.getsize(path), _sha256(path)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fetch(core, namespace, pod, spec):
    """Bring the tarball out of the export container to spec.tarball.dest; return {path, size, sha256}.

    Raises pod_exec.ExecError when it cannot; dest is then untouched.
    """
    dest = spec.tarball.dest
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(dest), prefix='.' + os.path.basename(dest) + '.',
                                       suffix='.kiln-partial')
    try:
        digest = hashlib.sha256()
        written = [0]
        with os.fdopen(handle, 'wb') as out:
            def save(data):
                out.write(data)
                digest.update(data)
                written[0] += len(data)

            execution = pod_exec.PodExec(core, namespace, pod, render.EXPORT, render.fetch_command(spec))
            execution.wait(save)
            out.flush()
            os.fsync(out.fileno())
        reported = execution.stderr.decode('utf-8', 'replace').strip().splitlines()
        expected = int(reported[0]) if reported and reported[0].isdigit() else None
        if expected is None or expected != written[0]:
            raise pod_exec.ExecError('received {0} bytes of a tarball of {1} bytes'.format(
                written[0], expected if expected is not None else 'unknown'))
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, dest)
        return dict(path=dest, size=written[0], sha256=digest.hexdigest())
    finally:
        try:
            os.unlink(partial)
        except OSError:
            pass


def place(source, dest):
    """Copy the tarball at ``source`` (a file of this host) to ``dest`` through a temporary file next to it, as
    fetch() does; return {path, size, sha256}. Raises OSError; dest is then untouched."""
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(dest), prefix='.' + os.path.basename(dest) + '.',
                                       suffix='.kiln-partial')
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(handle, 'wb') as out, open(source, 'rb') as data:
            for block in iter(lambda: data.read(CHUNK), b''):
                out.write(block)
                digest.update(block)
                size += len(block)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, dest)
        return dict(path=dest, size=size, sha256=digest.hexdigest())
    finally:
        try:
            os.unlink(partial)
        except OSError:
            pass


def keep_on_claim(core, namespace, pod, spec):
    """Check the tarball Kaniko wrote on the claim and give it its name; return {pvc, path, size, sha256}."""
    out = pod_exec.run(core, namespace, pod, render.EXPORT, render.keep_command(spec)).split()
    if len(out) != 2 or not out[0].isdigit() or len(out[1]) != 64:
        raise pod_exec.ExecError('unexpected answer from the export container: {0!r}'.format(' '.join(out)[:200]))
    return dict(pvc=spec.tarball.pvc, path=spec.tarball.path, size=int(out[0]), sha256=out[1])
