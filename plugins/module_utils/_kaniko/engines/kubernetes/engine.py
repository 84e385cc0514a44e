# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Builds as pods: the Engine (engines/base.py) of kiln.kaniko.build.

KubernetesEngine creates a build's workload (its registry Secret, its pod, the Secret owned by the
pod), watches the pods of a run, follows a pod's logs, execs into it, reads its events and deletes
what a build made. It is the one place that creates build pods and their Secrets, and the one place
that deletes them. The API server's refusals leave it as KilnErrors (ClusterError, EngineError,
TransferError) that say what could not be done.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Collection, Dict, Iterable, Sequence, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT, CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError, cluster_error, refusal
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.watch import PodWatch
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import LogWriter, Warn, Workload, lost_contact, watched
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import export, pod_exec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.logs import LogStreamer
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import disruption
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.states import Outcome
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import EngineError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:
    ApiException = None  # _k8s.client.require_kubernetes() reports the missing library before anything here runs

# The owner of the build pods of one namespace: (namespace, ownerReference).
Owner = Tuple[str, Dict[str, str]]


class KubernetesEngine:
    """Builds as pods, through ``core`` (a CoreApi, or anything with CoreV1Api's methods). ``log_wait(seconds)``
    is how the log follower waits before asking again for a log that has not started (injected in tests).
    ``owner``: (namespace, ownerReference) that build pods of that namespace get (backend.job_pod_owner)."""

    def __init__(self, core: CoreApi, log_wait: Callable[[float], object] | None = None,
                 owner: Owner | None = None) -> None:
        self.core = core
        self.log_wait = log_wait
        self.owner = owner
        # Whether nodes may be read (lost_node): many users may not, and are not asked again once refused.
        self.nodes_readable = True

    def check_namespace(self, namespace: str) -> None:
        try:
            self.core.read_namespace(namespace, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                raise ClusterError("namespace: '{0}' does not exist; create it first".format(namespace),
                                   {'option': 'namespace'}) from exc
            if exc.status != 403:  # without access to namespaces, creating the pod will tell
                raise cluster_error(exc, "read namespace '{0}'".format(namespace)) from exc

    def create(self, spec: BuildSpec, workload: Workload, registry_key: str, run_id: str) -> Workload:
        """Create the registry Secret (registry_auth), the pod, and make the Secret the pod's; fill ``workload``.

        Raises ClusterError; a Secret made before a refused pod is then deleted again. ``workload`` is
        filled as things are made, so that the caller can delete them if this is cut short.
        """
        if spec.registry_auth:
            try:
                response = self.core.create_namespaced_secret(
                    spec.namespace, render.render_auth_secret(spec, run_id),
                    _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                raise cluster_error(exc, 'create the registry Secret for registry_auth') from exc
            workload.auth_secret = json.loads(response.data)['metadata']['name']
        manifest = render.render_pod(spec, auth_secret_name=workload.auth_secret, registry_secret_key=registry_key,
                                     run_id=run_id)
        if self.owner and self.owner[0] == spec.namespace:
            manifest['metadata']['ownerReferences'] = [dict(self.owner[1])]
        try:
            response = self.core.create_namespaced_pod(
                spec.namespace, manifest, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            raise cluster_error(exc, 'create the build pod') from exc
        workload.pod = json.loads(response.data)
        if workload.auth_secret:
            try:
                self.core.patch_namespaced_secret(
                    workload.auth_secret, spec.namespace,
                    {'metadata': {'ownerReferences': [render.owner_reference(workload.pod)]}},
                    _content_type='application/merge-patch+json', _preload_content=False,
                    _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                raise cluster_error(exc, 'create the build pod') from exc
        return workload

    @staticmethod
    def preview(spec: BuildSpec, registry_key: str, run_id: str) -> dict[str, Any]:
        """What check mode shows of a build that would run: the pod, with a stand-in for the registry Secret's name."""
        return dict(pod=render.render_pod(spec, auth_secret_name=results.check_mode_secret_name(spec),
                                          registry_secret_key=registry_key, run_id=run_id))

    @staticmethod
    def explain(outcome: Outcome) -> Outcome:
        """The outcome of a failed build as the user reads it: the hints of pod/states.py name this engine's options."""
        return outcome

    def delete(self, kind: str, namespace: str, name: str, running: bool, warn: Warn,
               deadline: float | None = None) -> None:
        """Delete pod or Secret ``name``; at once (grace 0) when ``running``. Warns what is left when it cannot."""
        delete = self.core.delete_namespaced_pod if kind == 'pod' else self.core.delete_namespaced_secret
        try:
            delete(name, namespace, grace_period_seconds=0 if running else None,
                   propagation_policy='Background', _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status != 404:
                warn('Could not delete {0} {1}: {2}'.format(kind, name, refusal(exc)))
        except KilnError as exc:  # the API server is gone (client.ApiUnreachable): say what is left
            left = ('its activeDeadlineSeconds ({0} s) stops it'.format(deadline) if kind == 'pod' else
                    'the deletion of its pod removes it (it is owned by the pod)')
            warn('Could not delete {0} {1} in namespace {2}: {3}; {4}'.format(kind, name, namespace, exc.message, left))

    def delete_run(self, namespaces: Iterable[str], run_id: str, keep: Collection[tuple[str, str | None]],
                   warn: Warn) -> None:
        """Delete every pod and Secret of run ``run_id`` in ``namespaces`` but those in ``keep`` ((namespace, name))."""
        selector = render.run_selector(run_id)
        for namespace in sorted(set(namespaces)):
            for kind, listing, delete in (
                    ('pod', self.core.list_namespaced_pod, self.core.delete_namespaced_pod),
                    ('secret', self.core.list_namespaced_secret, self.core.delete_namespaced_secret)):
                try:
                    found = listing(namespace, label_selector=selector, _preload_content=False,
                                    _request_timeout=REQUEST_TIMEOUT)
                    for item in json.loads(found.data).get('items') or []:
                        name = item['metadata']['name']
                        if (namespace, name) not in keep:
                            delete(name, namespace, grace_period_seconds=0, propagation_policy='Background',
                                   _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
                except ApiException as exc:
                    if exc.status != 404:
                        warn('Could not delete the {0}s of this run in {1}: {2}'.format(kind, namespace, refusal(exc)))
                except Exception as exc:  # the cluster is gone too: say what may be left
                    warn('Could not delete the {0}s of this run in {1} (label {2}): {3}'.format(
                        kind, namespace, selector, exc))

    def watch(self, namespaces: Iterable[str], run_id: str) -> PodWatch:
        """A PodWatch on the pods of run ``run_id`` (not started)."""
        return PodWatch(self.core, namespaces, render.run_selector(run_id))

    def exists(self, namespace: str, name: str) -> bool:
        try:
            self.core.read_namespaced_pod(name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def nodes(self) -> list[dict[str, Any]]:
        """The cluster's nodes (dicts); raises EngineError with the API server's words (403 without 'list' on
        nodes, and the permission to grant)."""
        try:
            response = self.core.list_node(_preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            raise EngineError(refusal(exc)) from exc
        return json.loads(response.data).get('items') or []

    def lost_node(self, name: str) -> tuple[str, str] | None:
        """(disruption.NODE_LOST, what its Ready condition says) when node ``name`` no longer reports (Ready
        Unknown: the node lifecycle controller's word once node-monitor-grace-period passed without a word of its
        kubelet), (disruption.NODE_DELETED, ...) when it is gone, else None: it reports, or it cannot be read.
        The pod itself tells most losses (pod/disruption.py); this is asked only of pods that cannot."""
        if not self.nodes_readable:
            return None
        try:
            response = self.core.read_node(name, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return disruption.NODE_DELETED, 'the API server has no node {0}'.format(name)
            self.nodes_readable = exc.status not in (401, 403)
            return None
        except KilnError:  # the API server is out of reach: the watch says so
            return None
        for condition in (json.loads(response.data).get('status') or {}).get('conditions') or []:
            if condition.get('type') == 'Ready' and condition.get('status') == 'Unknown':
                return disruption.NODE_LOST, 'its Ready condition is Unknown since {0}: {1}'.format(
                    condition.get('lastTransitionTime') or '(not known)',
                    condition.get('message') or condition.get('reason') or 'the node does not report')
        return None

    def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """The events of pod ``name`` (dicts); raises EngineError with the API server's words."""
        try:
            response = self.core.list_namespaced_event(
                namespace, field_selector='involvedObject.kind=Pod,involvedObject.name=' + name,
                _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            raise EngineError(refusal(exc)) from exc
        return json.loads(response.data).get('items') or []

    def follow_logs(self, namespace: str, name: str, containers: Sequence[str], writer: LogWriter | None, label: str,
                    keep: int) -> LogStreamer:
        """A started LogStreamer on ``containers`` of pod ``name``, writing to ``writer``, keeping ``keep`` lines."""
        return LogStreamer(self.core, namespace, name, containers, writer, label, keep, REQUEST_TIMEOUT,
                           sleep=self.log_wait).start()

    def send_file(self, namespace: str, name: str, container: str, command: list[str], path: str, size: int) -> None:
        """Run ``command`` in ``container`` with the ``size`` bytes of file ``path`` on its stdin."""
        pod_exec.send_file(self.core, namespace, name, container, command, path, size)

    def run(self, namespace: str, name: str, container: str, command: list[str]) -> str:
        """Run ``command`` in ``container``; return its output (raises TransferError)."""
        return pod_exec.run(self.core, namespace, name, container, command)

    def fetch_tarball(self, namespace: str, name: str, spec: BuildSpec) -> dict[str, Any]:
        return export.fetch(self.core, namespace, name, spec)

    def keep_tarball(self, namespace: str, name: str, spec: BuildSpec) -> dict[str, Any]:
        return export.keep_on_claim(self.core, namespace, name, spec)

    @staticmethod
    def lost(exc: BaseException, count: int) -> ClusterError:
        """The ClusterError of a run whose watch or API server failed with ``exc``."""
        if ApiException is not None and isinstance(exc, ApiException):
            return cluster_error(exc, ('run ' if count == 1 else 'follow ') + watched(count))
        return ClusterError(lost_contact(exc, count))

    def close(self, warn: Warn) -> None:
        """Nothing to release: the run's objects are deleted by delete_run, the connection by the client."""
        del warn
