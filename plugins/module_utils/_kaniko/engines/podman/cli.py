# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The podman command line of a build container: a pure function, BuildSpec in, argument list out.

The container gets what the kaniko container of the build pod gets (pod/render.py), and no more:

- the capabilities of pod.KANIKO_CAPABILITIES, every other one dropped; no new privileges; podman's default
  seccomp profile; never --privileged;
- the build context read-only at the pod's context directory; a private directory for Kaniko's
  --image-name-with-digest-file (the pod's termination log), one for the tarball (the pod's export volume);
- registry credentials as the docker config.json of a private directory, mounted read-only at
  /kaniko/.docker as the pod mounts its Secret: no credential in an argument or an environment value;
- the CAs of registry_ca, copied into the private directory, at the paths --registry-certificate names;
- the open-files and process limits of the module's own process (podman would otherwise raise them, which
  needs CAP_SYS_RESOURCE; see ulimits()).

The container is not run with --rm: its exit state (exit code, OOMKilled) is read before the engine removes it.
It carries the run's label and the managed-by label, so that a cleanup finds it by label as well as by name.
"""

from __future__ import annotations

import posixpath
from typing import Iterable, Sequence, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.scripts import TERMINATION_LOG
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import (
    OUT_DIR,
    SOURCE_DIR,
    BuildSpec,
    RegistryCredential,
)

# Where the digest file is in the container; the engine mounts a private directory there.
DIGEST_DIR = '/kiln/digest'
DIGEST_FILE = DIGEST_DIR + '/image'
# Subdirectories of a build's private directory on the host.
SOURCE = 'src'
DIGEST = 'digest'
OUT = 'out'
DOCKER_CONFIG = 'docker'
CA = 'ca'
# podman starts conmon, the parent of the OCI runtime, with at most this many processes; a container's
# nproc above it cannot be set without CAP_SYS_RESOURCE.
NPROC_MAX = 32768
PULL_POLICY = {'Always': 'always', 'IfNotPresent': 'missing', 'Never': 'never'}
# (soft, hard) of a resource limit, as resource.getrlimit gives it.
Limit = Tuple[int, int]


def kaniko_args(spec: BuildSpec) -> list[str]:
    """The executor's arguments: the pod's, with the digest file in the private directory."""
    digest = '--image-name-with-digest-file=' + TERMINATION_LOG
    return [('--image-name-with-digest-file=' + DIGEST_FILE) if arg == digest else arg
            for arg in render.kaniko_args(spec)]


def ca_file(workdir: str, index: int) -> str:
    """Where the copy of registry_ca[index] is in the private directory."""
    return posixpath.join(workdir, CA, str(index), render.REGISTRY_CA_FILE)


def mounts(spec: BuildSpec, workdir: str,
           registry_auth: Sequence[RegistryCredential] | None = None) -> list[tuple[str, str, bool]]:
    """(host path, container path, read-only) of each bind mount, in a fixed order."""
    found = [(posixpath.join(workdir, SOURCE), SOURCE_DIR, True),
             (posixpath.join(workdir, DIGEST), DIGEST_DIR, False)]
    if spec.tarball:
        found.append((posixpath.join(workdir, OUT), OUT_DIR, False))
    if registry_auth if registry_auth is not None else spec.registry_auth:
        found.append((posixpath.join(workdir, DOCKER_CONFIG), render.DOCKER_CONFIG_DIR, True))
    found.extend((ca_file(workdir, index), render.registry_ca_path(index), True)
                 for index in range(len(spec.registry_ca)))
    return found


def ulimits(nofile: Iterable[int], nproc: Iterable[int]) -> list[str]:
    """--ulimit values from the module's own (soft, hard) limits: a build gets no more than the module has."""
    nproc = tuple(min(value, NPROC_MAX) if value >= 0 else NPROC_MAX for value in nproc)
    nofile = tuple(value if value >= 0 else 1048576 for value in nofile)
    return ['--ulimit=nofile={0}:{1}'.format(*nofile), '--ulimit=nproc={0}:{1}'.format(*nproc)]


def labels(run_id: str) -> dict[str, str]:
    return {render.RUN_LABEL: run_id, 'app.kubernetes.io/managed-by': render.MANAGED_BY,
            'app.kubernetes.io/name': render.APP_NAME}


def create_args(spec: BuildSpec, name: str, run_id: str, workdir: str, network: str,
                limits: tuple[Limit, Limit]) -> list[str]:
    """The arguments of ``podman create`` (after the word create) for the build container ``name``.

    ``limits`` is ((nofile soft, hard), (nproc soft, hard)) of the module's process.
    """
    args = ['--name=' + name]
    args.extend('--label={0}={1}'.format(key, value) for key, value in sorted(labels(run_id).items()))
    args.extend([
        '--pull=' + PULL_POLICY[spec.image_pull_policy],
        '--network=' + network,
        '--cap-drop=ALL',
        '--cap-add=' + ','.join(render.KANIKO_CAPABILITIES),
        '--security-opt=no-new-privileges',
    ])
    args.extend(ulimits(*limits))
    for source, target, read_only in mounts(spec, workdir):
        args.append('--mount=type=bind,source={0},target={1}{2}'.format(source, target, ',ro=true' if read_only else ''))
    args.append(spec.executor_image)
    args.extend(kaniko_args(spec))
    return args
