# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The commands the module runs through exec in the containers of a build pod: pure functions, BuildSpec in,
argument list out.

receive_command unpacks a local context in the receive container; with a tarball, fetch_command and
keep_command bring it out of the export container or check it on the claim, discard_command removes what is
left of a partial one, release_command lets the export container end; with an unsigned SBOM,
sbom_sha256_command and sbom_command read it out of the attach container and release_sbom_command lets that end. Each runs one of pod/scripts.py's *_EXEC
scripts with /bin/sh -c and gives the script its values as arguments, never inside the script.
"""

from __future__ import annotations

import posixpath
from typing import cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.scripts import (
    DISCARD_EXEC,
    FETCH_EXEC,
    KEEP_EXEC,
    RECEIVE_EXEC,
    RECEIVED,
    RELEASE_EXEC,
    RELEASED,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import (
    OUT_DIR,
    BuildSpec,
    Tarball,
    partial_name,
)


def _sh(script: str, *args: object) -> list[str]:
    return ['/bin/sh', '-c', script, 'kiln'] + [str(arg) for arg in args]


def receive_command(spec: BuildSpec, size: int) -> list[str]:
    """The exec in the receive container that unpacks ``size`` bytes of tar from stdin into the context directory."""
    return _sh(RECEIVE_EXEC, spec.context_dir, size, RECEIVED)


def fetch_command(spec: BuildSpec) -> list[str]:
    """The exec in the export container that writes the tarball's size to stderr and its bytes to stdout."""
    return _sh(FETCH_EXEC, cast(Tarball, spec.tarball).tar_path)


def keep_command(spec: BuildSpec) -> list[str]:
    """The exec in the export container that checks the tarball on the claim and gives it its name."""
    path = cast(str, cast(Tarball, spec.tarball).path)  # a tarball on a claim has its path there
    return _sh(KEEP_EXEC, OUT_DIR, partial_name(path), posixpath.basename(path))


def discard_command(spec: BuildSpec) -> list[str]:
    """The exec in the export container that removes what Kaniko may have left of the tarball."""
    return _sh(DISCARD_EXEC, cast(Tarball, spec.tarball).tar_path)


def release_command() -> list[str]:
    """The exec that lets the export container end (so that a kept pod ends too)."""
    return _sh(RELEASE_EXEC, RELEASED)


def sbom_sha256_command() -> list[str]:
    """The exec in the attach container that prints the sha256 of the SBOM syft wrote."""
    return _sh(steps.SHA256_EXEC, steps.SBOM_FILE)


def sbom_command() -> list[str]:
    """The exec in the attach container that writes the SBOM to stdout."""
    return _sh(steps.HAND_OVER_EXEC, steps.SBOM_FILE)


def release_sbom_command() -> list[str]:
    """The exec that lets the attach container end (so that a kept pod ends too)."""
    return _sh(steps.RELEASE_EXEC, steps.RELEASED)
