# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What kiln.kaniko.container_build gives the edge (an engines/base.py Backend): the BuildSpec kiln.kaniko.build
would make (spec/container_build.py), the credentials of its own options and host files (host_files.py),
and a ContainerEngine whose podman was asked whether it can run a build container here at all
(host.py), before anything is made. The result has build's keys, the container's name in place of the
pod's, and none of what only a pod has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Credentials, Engine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.engine import ContainerEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.host_files import HostSecrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import (
    GitCredentials,
    container_spec,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule

# Keys of a pod's result that a container has otherwise, or not at all.
_DROPPED = ('pod_kept', 'events')


class PodmanBackend:
    """``clock`` is the engine's (injected in tests)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock
        self.credentials_of: GitCredentials | None = None

    @staticmethod
    def require(module: AnsibleModule) -> None:
        """podman is checked by the engine, where its absence is a build's failure with a hint."""
        del module

    def specs(self, params: Mapping[str, Any]) -> tuple[list[BuildSpec], str | None, bool]:
        spec, self.credentials_of = container_spec(params)
        return [spec], None, False

    def credentials(self, module: AnsibleModule) -> Credentials:
        del module
        return HostSecrets(self.credentials_of)

    def engine(self, module: AnsibleModule, specs: list[BuildSpec], credentials: Credentials) -> Engine:
        del specs
        kwargs: dict[str, Any] = {} if self.clock is None else dict(clock=self.clock)
        secrets = cast(HostSecrets, credentials)  # what credentials() above gave the edge
        engine = ContainerEngine(module.get_bin_path('podman'), secrets, module.params['network'], **kwargs)
        engine.check_host()  # also in check mode: it only asks podman
        return engine

    @staticmethod
    def reported(result: dict[str, Any]) -> dict[str, Any]:
        """``result`` with the container's name (container_name) for the pod's, without what only a pod has."""
        result = dict(result)
        if 'pod_name' in result:
            result['container_name'] = result.pop('pod_name')
        for key in _DROPPED:
            result.pop(key, None)
        return result
