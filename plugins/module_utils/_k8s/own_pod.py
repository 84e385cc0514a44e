# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod this process runs in, when it runs in one (in-cluster configuration).

Kubernetes gives a pod's containers the pod's name as their hostname (unless the pod sets
``spec.hostname``) and mounts the service account's namespace next to its token. ``where()`` reads both;
``reference()`` asks the API server for the pod's uid and returns an ownerReference to it, or None when
the pod cannot be found or read.
"""

from __future__ import annotations

import json
import socket

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by client.require_kubernetes
    ApiException = None

SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'


def _read(path):
    with open(path) as handle:
        return handle.read().strip()


def where(read=_read, hostname=socket.gethostname):
    """(namespace, pod name) of the pod this process runs in, or None when that cannot be told."""
    try:
        namespace = read(SERVICE_ACCOUNT_NAMESPACE)
    except (IOError, OSError):
        return None
    name = (hostname() or '').split('.')[0]
    return (namespace, name) if namespace and name else None


def reference(core, namespace, name):
    """An ownerReference to pod ``name``, or None when it does not exist or cannot be read (403)."""
    try:
        response = core.read_namespaced_pod(name, namespace, _preload_content=False,
                                            _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        if exc.status in (403, 404):
            return None
        raise
    metadata = json.loads(response.data).get('metadata') or {}
    if metadata.get('name') != name or not metadata.get('uid'):
        return None
    return {'apiVersion': 'v1', 'kind': 'Pod', 'name': name, 'uid': metadata['uid']}
