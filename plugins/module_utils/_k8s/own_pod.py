# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod this process runs in, when it runs in one (in-cluster configuration).

Kubernetes gives a pod's containers the pod's name as their hostname (unless the pod sets
``spec.hostname``) and mounts the service account's namespace next to its token. ``where()`` reads both;
``read()`` asks the API server for that pod, or None when there is no pod of that name; a pod it may not
read (403) is a ClusterError naming the permission.
"""

from __future__ import annotations

import json
import socket
from typing import Any, Callable

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT, CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import cluster_error

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by client.require_kubernetes
    ApiException = None

SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read().strip()


def where(read: Callable[[str], str] = _read,
          hostname: Callable[[], str] = socket.gethostname) -> tuple[str, str] | None:
    """(namespace, pod name) of the pod this process runs in, or None when that cannot be told."""
    try:
        namespace = read(SERVICE_ACCOUNT_NAMESPACE)
    except (IOError, OSError):
        return None
    name = (hostname() or '').split('.')[0]
    return (namespace, name) if namespace and name else None


def read(core: CoreApi, namespace: str, name: str) -> dict[str, Any] | None:
    """Pod ``name`` (a dict), or None when there is no such pod."""
    try:
        response = core.read_namespaced_pod(name, namespace, _preload_content=False,
                                            _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        if exc.status == 404:
            return None
        error = cluster_error(exc, "read the pod this module runs in ('{0}', to own the build pods)".format(name))
        error.message += '; or set owned_by_job_pod=false'
        raise error from exc
    return json.loads(response.data)
