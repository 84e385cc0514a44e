# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Render the build pod and the short-lived registry Secret: pure functions, BuildSpec in, dict out.

The pod: an init container ``clone`` (git_image, non-root, no capabilities) clones the
source into the ``workspace`` emptyDir and writes the commit to its termination log; the
container ``kaniko`` (executor_image) builds from it and writes ``name@digest`` lines to
its termination log, so both land in the pod status.

With a local context (option local_context) the init container is ``receive`` instead: it waits
until the module, through an exec (receive_command), has unpacked the context's tar into the
workspace and left the marker RECEIVED. With a tarball, Kaniko writes the image to OUT_DIR
(an emptyDir, or the claim of tarball.pvc) instead of pushing, and a second container
``export`` waits there until the module has fetched or checked it (fetch_command,
keep_command) and released it (release_command); pod/execs.py has those commands. No secret reaches args or env
values: git credentials are files of the git.secret Secret read by the clone script,
registry credentials are the Secret mounted at /kaniko/.docker/config.json. The CAs of
registry_ca are mounted read-only and named by --registry-certificate, the keys of build_secrets
as files that --secret names (spec/build_secrets.py). sign and sbom add steps after Kaniko (supply/steps.py).
The scripts the containers and execs run are in pod/scripts.py; this module only places them.
"""

from __future__ import annotations

import base64
import posixpath
from typing import Any, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import affinity
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.docker_config import docker_config
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import build_secrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.scripts import (
    CLONE_SCRIPT,
    EXPORT_SCRIPT,
    EXPORT_STATE_DIR,
    GIT_SECRET_DIR,
    RECEIVE_SCRIPT,
    TERMINATION_LOG,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import (
    OUT_DIR,
    SOURCE_DIR,
    WORKSPACE,
    BuildSpec,
    GitSource,
    LocalContext,
    RegistryCA,
    Tarball,
)

MANAGED_BY = 'kiln.kaniko'
APP_NAME = 'kaniko-build'
CLONE = 'clone'
RECEIVE = 'receive'
KANIKO = 'kaniko'
EXPORT = 'export'
DOCKERCONFIGJSON = '.dockerconfigjson'
CONFIG_JSON = 'config.json'
DOCKER_CONFIG_DIR = '/kaniko/.docker'
# registry_ca[n] is mounted at REGISTRY_CA_DIR/<n>/ca.crt in the kaniko container.
REGISTRY_CA_DIR = '/kaniko/ssl/kiln'
REGISTRY_CA_FILE = 'ca.crt'
GIT_HOME = '/kiln/home'
# The pod's activeDeadlineSeconds is timeout plus this, so that the task, which counts from the
# pod's creation, times out first and reports Timeout; the deadline stops builds nobody waits for.
DEADLINE_GRACE = 60
GIT_HOME_SIZE = '16Mi'
# 'nobody' in Alpine-based images (alpine/git): OpenSSH refuses to run for a uid without
# a passwd entry, so the clone user must be one the image knows.
CLONE_UID = 65534

# Kaniko builds the image inside its own container, as root: it unpacks the base image over its
# root file system and runs each RUN step there. It keeps only the capabilities that needs, the
# set container runtimes such as CRI-O grant by default, and drops the rest of containerd's and
# Docker's defaults (NET_RAW, MKNOD, SYS_CHROOT, AUDIT_WRITE), which the Pod Security "baseline"
# level allows but no build needs. docs/security.md says why each is kept.
KANIKO_CAPABILITIES = (
    'CHOWN',             # files of other owners in layers, chown in RUN, COPY --chown
    'DAC_OVERRIDE',      # read and write files whatever their mode (root's usual power)
    'FOWNER',            # chmod and utime on files root does not own
    'FSETID',            # keep setuid and setgid bits through chown and writes
    'KILL',              # signal processes of RUN steps that run as another user
    'NET_BIND_SERVICE',  # RUN steps that listen on ports below 1024 (tests, servers started while building)
    'SETFCAP',           # file capabilities (security.capability) that layers carry, e.g. on ping
    'SETGID',            # USER and RUN steps that change group (su, setpriv, package scripts)
    'SETPCAP',           # drop capabilities when switching to a USER
    'SETUID',            # USER and RUN steps that change user
)

ANNOTATION_GIT_REPO = 'kiln.kaniko/git-repo'
ANNOTATION_GIT_VERSION = 'kiln.kaniko/git-version'
ANNOTATION_CONTEXT = 'kiln.kaniko/context-sha256'
# Marks the pods and Secrets of one run: one watch (a label selector) follows them, cleanup finds them.
RUN_LABEL = 'kiln.kaniko/run'


def init_container_name(spec: BuildSpec) -> str:
    """The init container of the pod: clone (git) or receive (a local context)."""
    return RECEIVE if spec.local else CLONE


def log_containers(spec: BuildSpec) -> tuple[str, ...]:
    """The containers whose logs the build follows, in the order they run."""
    if spec.supply_only is not None:
        return steps.steps(spec)
    return (init_container_name(spec), KANIKO) + (steps.steps(spec) if steps.wanted(spec) else ())


def pod_labels(spec: BuildSpec, run_id: str | None = None) -> dict[str, str]:
    labels = dict(spec.pod.labels)
    labels['app.kubernetes.io/managed-by'] = MANAGED_BY
    labels['app.kubernetes.io/name'] = APP_NAME
    if run_id:
        labels[RUN_LABEL] = run_id
    return labels


def pod_prefix(spec: BuildSpec) -> str:
    """The generateName of the build pod: ``<name>-``, and ``<name>-a2-`` for its second attempt (option retries)."""
    return spec.name + ('-' if spec.attempt == 1 else '-a{0}-'.format(spec.attempt))


def run_selector(run_id: str) -> str:
    """The label selector of the pods and Secrets of one run."""
    return '{0}={1}'.format(RUN_LABEL, run_id)


def kaniko_args(spec: BuildSpec) -> list[str]:
    """The executor's command line, in a fixed order."""
    args = [
        '--context=dir://' + spec.context_dir,
        '--dockerfile=' + spec.dockerfile_path,
    ]
    args.extend('--destination=' + destination for destination in spec.destinations)
    if spec.destinations:  # Kaniko refuses the digest file without a destination
        args.append('--image-name-with-digest-file=' + TERMINATION_LOG)
    args.extend('--build-arg={0}={1}'.format(key, value) for key, value in spec.build_args)
    if spec.target:
        args.append('--target=' + spec.target)
    args.extend('--label={0}={1}'.format(key, value) for key, value in spec.labels)
    if spec.platform:
        args.append('--custom-platform=' + spec.platform)
    if spec.insecure:
        args.append('--insecure')
    if spec.skip_tls_verify:
        args.append('--skip-tls-verify')
    args.extend('--insecure-registry=' + registry for registry in spec.insecure_registries)
    args.extend('--registry-mirror=' + mirror for mirror in spec.registry_mirrors)
    args.extend('--registry-certificate={0}={1}'.format(ca.registry, registry_ca_path(index))
                for index, ca in enumerate(spec.registry_ca))
    args.extend(build_secrets.kaniko_args(spec))
    if not spec.push:
        args.append('--no-push')
    if spec.tarball:
        args.append('--tar-path=' + spec.tarball.tar_path)
    if spec.cache:
        args.append('--cache=true')
        if spec.cache_repo:
            args.append('--cache-repo=' + spec.cache_repo)
        if spec.cache_ttl:
            args.append('--cache-ttl=' + spec.cache_ttl)
    args.extend(spec.extra_args)
    return args


def registry_ca_path(index: int) -> str:
    """Where the CA of registry_ca[index] is in the kaniko container."""
    return '{0}/{1}/{2}'.format(REGISTRY_CA_DIR, index, REGISTRY_CA_FILE)


def _registry_ca_volume(index: int, ca: RegistryCA) -> dict[str, Any]:
    # A CA certificate is public: readable by all (0444), like the system's CAs; read-only all the same.
    source: dict[str, Any] = {'items': [{'key': ca.key, 'path': REGISTRY_CA_FILE}], 'defaultMode': 0o444}
    if ca.kind == 'Secret':
        source['secretName'] = ca.name
        return {'name': 'registry-ca-{0}'.format(index), 'secret': source}
    source['name'] = ca.name
    return {'name': 'registry-ca-{0}'.format(index), 'configMap': source}


def _resources(spec: BuildSpec) -> dict[str, dict[str, str]]:
    resources = {}
    if spec.pod.requests:
        resources['requests'] = dict(spec.pod.requests)
    if spec.pod.limits:
        resources['limits'] = dict(spec.pod.limits)
    return resources


def _clone_container(spec: BuildSpec) -> dict[str, Any]:
    git = cast(GitSource, spec.git)  # the source when local_context is not
    remote = git.repo
    env = [
        {'name': 'HOME', 'value': GIT_HOME},
        {'name': 'GIT_TERMINAL_PROMPT', 'value': '0'},
        {'name': 'KILN_SRC', 'value': SOURCE_DIR},
        {'name': 'KILN_GIT_REPO', 'value': remote.url},
        {'name': 'KILN_GIT_VERSION', 'value': git.version},
        {'name': 'KILN_GIT_DEPTH', 'value': str(git.depth)},
        {'name': 'KILN_GIT_SUBMODULES', 'value': 'true' if git.submodules else 'false'},
        # The script knows SSH and the rest (https, http, git), which it calls http.
        {'name': 'KILN_GIT_TRANSPORT', 'value': 'ssh' if remote.transport == 'ssh' else 'http'},
        {'name': 'KILN_GIT_SECRET', 'value': git.secret or ''},
    ]
    if git.commit:
        env.append({'name': 'KILN_GIT_COMMIT', 'value': git.commit})
    mounts: list[dict[str, Any]] = [
        {'name': 'workspace', 'mountPath': WORKSPACE},
        {'name': 'git-home', 'mountPath': GIT_HOME},
    ]
    if git.secret:
        mounts.append({'name': 'git-secret', 'mountPath': GIT_SECRET_DIR, 'readOnly': True})
    container = _init_container(spec, CLONE, CLONE_SCRIPT, mounts)
    container['env'] = env
    return container


def _receive_container(spec: BuildSpec) -> dict[str, Any]:
    return _init_container(spec, RECEIVE, RECEIVE_SCRIPT, [{'name': 'workspace', 'mountPath': WORKSPACE}])


def _init_container(spec: BuildSpec, name: str, script: str, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """An init container of git_image running ``script`` as a user without privileges, in the workspace."""
    container: dict[str, Any] = {
        'name': name,
        'image': spec.git_image,
        'imagePullPolicy': spec.image_pull_policy,
        'command': ['/bin/sh', '-c', script],
        'volumeMounts': mounts,
        'workingDir': WORKSPACE,
        'securityContext': {
            'runAsNonRoot': True,
            'runAsUser': CLONE_UID,
            'runAsGroup': CLONE_UID,
            'allowPrivilegeEscalation': False,
            'readOnlyRootFilesystem': True,
            'capabilities': {'drop': ['ALL']},
        },
        'terminationMessagePolicy': 'FallbackToLogsOnError',
    }
    resources = _resources(spec)
    if resources:
        container['resources'] = resources
    return container


def _out_mount(spec: BuildSpec) -> dict[str, str]:
    tarball = cast(Tarball, spec.tarball)
    mount = {'name': 'out', 'mountPath': OUT_DIR}
    folder = posixpath.dirname(cast(str, tarball.path)) if tarball.pvc else ''
    if folder:
        mount['subPath'] = folder  # the kubelet makes the folder on the claim when it is missing
    return mount


def _export_container(spec: BuildSpec) -> dict[str, Any]:
    # Root without any capability: it owns what Kaniko (root) wrote, so it can read and rename the
    # tarball on a claim whatever its volume plugin does with fsGroup, and nothing more.
    return {
        'name': EXPORT,
        'image': spec.git_image,
        'imagePullPolicy': spec.image_pull_policy,
        'command': ['/bin/sh', '-c', EXPORT_SCRIPT],
        'volumeMounts': [_out_mount(spec), {'name': 'export-state', 'mountPath': EXPORT_STATE_DIR}],
        'securityContext': {
            'runAsUser': 0,
            'allowPrivilegeEscalation': False,
            'readOnlyRootFilesystem': True,
            'capabilities': {'drop': ['ALL']},
        },
        'resources': {'requests': {'cpu': '10m', 'memory': '16Mi'}, 'limits': {'memory': '64Mi'}},
        'terminationMessagePolicy': 'FallbackToLogsOnError',
    }


def _kaniko_container(spec: BuildSpec, registry_secret: str | None) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [{'name': 'workspace', 'mountPath': WORKSPACE}]
    if spec.tarball:
        mounts.append(_out_mount(spec))
    if registry_secret:
        mounts.append({'name': 'docker-config', 'mountPath': DOCKER_CONFIG_DIR, 'readOnly': True})
    mounts.extend({'name': 'registry-ca-{0}'.format(index), 'mountPath': posixpath.dirname(registry_ca_path(index)),
                   'readOnly': True} for index in range(len(spec.registry_ca)))
    mounts.extend(build_secrets.mounts(spec))  # the kaniko container only: the init containers never see them
    container: dict[str, Any] = {
        'name': KANIKO,
        'image': spec.executor_image,
        'imagePullPolicy': spec.image_pull_policy,
        'args': kaniko_args(spec),
        'volumeMounts': mounts,
        'terminationMessagePolicy': 'FallbackToLogsOnError',
        'securityContext': {
            'capabilities': {'drop': ['ALL'], 'add': list(KANIKO_CAPABILITIES)},
        },
    }
    if spec.build_secrets:
        container['env'] = build_secrets.env(spec)
    resources = _resources(spec)
    if resources:
        container['resources'] = resources
    return container


def _source_volumes(spec: BuildSpec, annotations: dict[str, str]) -> list[dict[str, Any]]:
    """The volumes of the source (and its annotations, into ``annotations``)."""
    volumes: list[dict[str, Any]] = [{'name': 'workspace', 'emptyDir': {}}]
    local = cast(LocalContext, spec.local)  # the source when git is not
    if spec.git:
        annotations[ANNOTATION_GIT_REPO] = spec.git.repo.url
        annotations[ANNOTATION_GIT_VERSION] = spec.git.version
        # The clone's HOME holds the copy of the SSH key (ssh wants it 0600, which a Secret volume
        # readable by fsGroup is not): in memory, so that it is never written to the node's disk.
        volumes.append({'name': 'git-home', 'emptyDir': {'medium': 'Memory', 'sizeLimit': GIT_HOME_SIZE}})
    elif local.sha256:
        annotations[ANNOTATION_CONTEXT] = local.sha256
    if spec.git and spec.git.secret:
        volumes.append({'name': 'git-secret', 'secret': {'secretName': spec.git.secret, 'defaultMode': 0o440}})
    return volumes


def _placement(spec: BuildSpec, pod_spec: dict[str, Any]) -> None:
    """The pod options that say where and as whom the pod runs, into ``pod_spec``."""
    if spec.pod.service_account:
        pod_spec['serviceAccountName'] = spec.pod.service_account
    if spec.pod.image_pull_secrets:
        pod_spec['imagePullSecrets'] = [{'name': name} for name in spec.pod.image_pull_secrets]
    if spec.pod.node_selector:
        pod_spec['nodeSelector'] = dict(spec.pod.node_selector)
    if spec.pod.tolerations:
        pod_spec['tolerations'] = [dict(toleration) for toleration in spec.pod.tolerations]
    placed = affinity.keep_off(spec.pod.affinity, spec.avoid_nodes)  # a pod of a build that runs again
    if placed:
        pod_spec['affinity'] = placed
    if spec.pod.priority_class:
        pod_spec['priorityClassName'] = spec.pod.priority_class


def render_pod(spec: BuildSpec, auth_secret_name: str | None = None, registry_secret_key: str = DOCKERCONFIGJSON,
               run_id: str | None = None) -> dict[str, Any]:
    """Return the build pod manifest (v1 Pod) for ``spec``.

    ``auth_secret_name`` is the Secret created from registry_auth; otherwise
    spec.registry_secret is mounted, reading its key ``registry_secret_key``
    (``.dockerconfigjson``, or ``config.json`` for an Opaque Secret).
    ``run_id`` labels the pod as one of a run's (RUN_LABEL).
    """
    registry_secret = auth_secret_name or spec.registry_secret
    secret_key = DOCKERCONFIGJSON if auth_secret_name else registry_secret_key

    annotations = dict(spec.pod.annotations)
    volumes = _source_volumes(spec, annotations)
    containers = [_kaniko_container(spec, registry_secret)]
    if spec.tarball:
        containers.append(_export_container(spec))
        if spec.tarball.pvc:
            volumes.append({'name': 'out', 'persistentVolumeClaim': {'claimName': spec.tarball.pvc}})
        else:
            volumes.append({'name': 'out', 'emptyDir': {}})
        volumes.append({'name': 'export-state', 'emptyDir': {'medium': 'Memory', 'sizeLimit': GIT_HOME_SIZE}})
    if registry_secret:
        volumes.append({'name': 'docker-config', 'secret': {
            'secretName': registry_secret,
            'items': [{'key': secret_key, 'path': CONFIG_JSON}],
            'defaultMode': 0o440,
        }})
    volumes.extend(_registry_ca_volume(index, ca) for index, ca in enumerate(spec.registry_ca))
    volumes.extend(build_secrets.volumes(spec))

    pod_spec: dict[str, Any] = {
        'restartPolicy': 'Never',
        'automountServiceAccountToken': False,
        'enableServiceLinks': False,
        'activeDeadlineSeconds': spec.timeout + DEADLINE_GRACE,
        'securityContext': {
            'seccompProfile': {'type': 'RuntimeDefault'},
            'fsGroup': CLONE_UID,
        },
        'initContainers': [_receive_container(spec) if spec.local else _clone_container(spec)],
        'containers': containers,
        'volumes': volumes,
    }
    steps.place(spec, pod_spec, registry_secret)  # sign, sbom: the steps after Kaniko
    _placement(spec, pod_spec)
    return {
        'apiVersion': 'v1',
        'kind': 'Pod',
        'metadata': {
            'generateName': pod_prefix(spec),
            'namespace': spec.namespace,
            'labels': pod_labels(spec, run_id),
            'annotations': annotations,
        },
        'spec': pod_spec,
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def render_auth_secret(spec: BuildSpec, run_id: str | None = None) -> dict[str, Any]:
    """Return the kubernetes.io/dockerconfigjson Secret holding spec.registry_auth."""
    labels = {
        'app.kubernetes.io/managed-by': MANAGED_BY,
        'app.kubernetes.io/name': APP_NAME,
    }
    if run_id:
        labels[RUN_LABEL] = run_id
    return {
        'apiVersion': 'v1',
        'kind': 'Secret',
        'type': 'kubernetes.io/dockerconfigjson',
        'metadata': {
            'generateName': spec.name + '-auth-',
            'namespace': spec.namespace,
            'labels': labels,
        },
        'data': {DOCKERCONFIGJSON: _b64(docker_config(spec))},
    }


def owner_reference(pod: dict[str, Any]) -> dict[str, str]:
    """An ownerReference to the created pod, so garbage collection removes what it owns."""
    metadata = pod['metadata']
    return {'apiVersion': 'v1', 'kind': 'Pod', 'name': metadata['name'], 'uid': metadata['uid']}
