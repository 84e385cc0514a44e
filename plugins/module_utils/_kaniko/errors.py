# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a build raises when it ends without an image, is stopped, or cannot start on this host."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError


class BuildFailed(KilnError):
    """The build pod ended without an image (details carry the build result)."""


class BuildInterrupted(KilnError):
    """A signal (SIGINT, SIGTERM) stopped the wait."""


class PodmanUnavailable(KilnError):
    """podman cannot run a build container on this host: missing, too old, failing, or without the helper program
    of the network. Raised before anything is made; details carry reason, hint, rc and container as a build's do."""


class TransferError(KilnError):
    """A file could not be sent into a build (the local context) or brought out of it (the tarball), or a
    command in a build's container failed; the build then fails naming the container."""


class EngineError(KilnError):
    """An engine could not do what the build path asked of it (the API server refused, podman failed): read a
    build's logs, its events, the nodes. The message says what and why, with the fix where there is one."""
