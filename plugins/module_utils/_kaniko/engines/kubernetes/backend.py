# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What kiln.kaniko.build gives the edge (an engines/base.py Backend): its specs (one build, or the items of
``builds``), the Secrets and ConfigMaps its options name, and the KubernetesEngine of the cluster its
connection options reach, with the owner its build pods get (owned_by_job_pod).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import own_pod
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import api_client, connection_source, require_kubernetes
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Credentials, Engine, Warn
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import (
    KubernetesEngine,
    Owner,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.secrets import SecretReader
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.items import specs_from
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule


class KubernetesBackend:
    """``option_spec`` is the module's argument spec of one build, which the items of ``builds`` follow."""

    def __init__(self, option_spec: Mapping[str, Any]) -> None:
        self.option_spec = option_spec
        self.core: CoreApi | None = None

    @staticmethod
    def require(module: AnsibleModule) -> None:
        require_kubernetes(module)

    def specs(self, params: Mapping[str, Any]) -> tuple[list[BuildSpec], str | None, bool]:
        return specs_from(params, self.option_spec)

    def credentials(self, module: AnsibleModule) -> Credentials:
        self.core = CoreApi(api_client(module.params))
        return SecretReader(self.core, module.warn)

    def engine(self, module: AnsibleModule, specs: list[BuildSpec], credentials: Credentials) -> Engine:
        del credentials
        core = cast(CoreApi, self.core)  # credentials() connected
        return KubernetesEngine(core, owner=job_pod_owner(module.params, core, specs, module.warn))

    @staticmethod
    def reported(result: dict[str, Any]) -> dict[str, Any]:
        return result


def job_pod_owner(params: Mapping[str, Any], core: CoreApi, specs: Sequence[BuildSpec], warn: Warn,
                  where: Callable[[], tuple[str, str] | None] = own_pod.where,
                  source: Callable[[Mapping[str, Any]], str | None] = connection_source) -> Owner | None:
    """The owner the build pods get: the pod this module runs in (in-cluster, owned_by_job_pod), as
    (namespace, ownerReference), when some build runs in its namespace; otherwise None.

    Kubernetes' garbage collector then deletes the builds (and their Secrets, which they own) when the job
    pod goes. Owner references cannot cross namespaces: builds elsewhere end with the job through the
    SIGTERM its container gets (see control/heartbeat.py and the action plugin)."""
    if not params.get('owned_by_job_pod') or source(params) != 'incluster':
        return None
    here = where()
    if here is None or not any(spec.namespace == here[0] for spec in specs):
        return None
    pod = own_pod.read(core, *here)
    if pod is None:
        warn("owned_by_job_pod: there is no pod '{1}' in namespace '{0}' (does this pod set spec.hostname?); the "
             "builds will not be deleted with the pod this module runs in".format(*here))
        return None
    return here[0], render.owner_reference(pod)
