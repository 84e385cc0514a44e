# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The image tarball out of a build pod's export container (tarball.dest), or kept on its claim (tarball.pvc).

fetch() streams the tarball over pods/exec into a temporary file next to dest and checks its size against the
one the container reports before it replaces dest (run/tarball.py): dest is either the old file or the whole
new one, never a part.
"""

from __future__ import annotations

from typing import Any, Callable, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import pod_exec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import TransferError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import execs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, Tarball


def fetch(core: CoreApi, namespace: str, pod: str, spec: BuildSpec) -> dict[str, Any]:
    """Bring the tarball out of the export container to spec.tarball.dest; return {path, size, sha256}.

    Raises TransferError when it cannot; dest is then untouched.
    """
    def produce(write: Callable[[bytes], None]) -> None:
        received = [0]

        def save(data: bytes) -> None:
            write(data)
            received[0] += len(data)

        execution = pod_exec.PodExec(core, namespace, pod, render.EXPORT, execs.fetch_command(spec))
        execution.wait(save)
        reported = execution.stderr.decode('utf-8', 'replace').strip().splitlines()
        expected = int(reported[0]) if reported and reported[0].isdigit() else None
        if expected is None or expected != received[0]:
            raise TransferError('received {0} bytes of a tarball of {1} bytes'.format(
                received[0], expected if expected is not None else 'unknown'))

    return tarball.replace(cast(str, cast(Tarball, spec.tarball).dest), produce)  # fetched for tarball.dest


def keep_on_claim(core: CoreApi, namespace: str, pod: str, spec: BuildSpec) -> dict[str, Any]:
    """Check the tarball Kaniko wrote on the claim and give it its name; return {pvc, path, size, sha256}."""
    out = pod_exec.run(core, namespace, pod, render.EXPORT, execs.keep_command(spec)).split()
    if len(out) != 2 or not out[0].isdigit() or len(out[1]) != 64:
        raise TransferError('unexpected answer from the export container: {0!r}'.format(' '.join(out)[:200]))
    claim = cast(Tarball, spec.tarball)  # kept for tarball.pvc
    return dict(pvc=claim.pvc, path=claim.path, size=int(out[0]), sha256=out[1])
