# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turn the module's parameters into a validated, normalised, frozen BuildSpec.

Pure: no I/O. Every problem raises ValidationError naming the option (with its
path, e.g. ``pod.resources.limits.memory`` or ``destinations[1]``) and the fix.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import references as ref
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.git_url import SCHEME_RE, GitRemote, parse_git_remote
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import (
    DOCKER_HUB,
    REFERENCE_EXAMPLE,
    ImageReference,
    registry_host_problem,
)

WORKSPACE = '/workspace'
SOURCE_DIR = WORKSPACE + '/src'
# Where the export container finds the tarball Kaniko wrote (tarball.dest), or the claim's folder (tarball.pvc).
OUT_DIR = '/kiln/out'
IMAGE_TAR = 'image.tar'
# A local context larger than this (packed) is refused, unless local_context.max_size says otherwise.
DEFAULT_CONTEXT_MAX_SIZE = '200Mi'

# Longest name prefix: generateName '<name>-auth-' plus the 5 characters the API
# server appends must still fit in a 63 character label.
NAME_LENGTH_MAX = 52

RESERVED_POD_LABELS = ('app.kubernetes.io/managed-by', 'app.kubernetes.io/name')

# Image label that carries the build key (see build_key.py); only the module sets it.
BUILD_KEY_LABEL = 'io.kiln.build-key'
REVISION_LABEL = 'org.opencontainers.image.revision'

CACHE_AUTO = 'auto'
# Host names that only resolve inside a cluster or on the host itself.
_LOCAL_SUFFIXES = ('.svc', '.svc.cluster.local', '.cluster.local', '.localhost')

_PLATFORM_RE = re.compile(r'^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$')
_BUILD_ARG_NAME_RE = re.compile(r'^[^\s=]+$')

# Kaniko flags that real options set; extra_args may not set them again.
# Short flags are pflag shorthands (-dVALUE, -d VALUE).
_OWNED_FLAGS = {
    '--destination': 'destinations',
    '-d': 'destinations',
    '--context': 'git or local_context, and context_sub_path',
    '-c': 'git or local_context, and context_sub_path',
    '--dockerfile': 'dockerfile',
    '-f': 'dockerfile',
    '--digest-file': 'the module itself (the digest is read from the pod status)',
    '--image-name-with-digest-file': 'the module itself (the digest is read from the pod status)',
    '--image-name-tag-with-digest-file': 'the module itself (the digest is read from the pod status)',
    '--build-arg': 'build_args',
    '--target': 'target',
    '--label': 'labels',
    '--custom-platform': 'platform',
    '--no-push': 'push',
    '--tar-path': 'tarball',
    '--cache': 'cache',
    '--cache-repo': 'cache_repo',
    '--cache-ttl': 'cache_ttl',
    '--insecure': 'insecure',
    '--skip-tls-verify': 'skip_tls_verify',
    '--insecure-registry': 'insecure_registries',
    '--registry-mirror': 'registry_mirrors',
    '--registry-certificate': 'registry_ca',
}

# The key of a registry_ca Secret or ConfigMap that holds the CA, when registry_ca[].key is not given.
REGISTRY_CA_KEY = 'ca.crt'
_REGISTRY_CA_EXAMPLE = 'e.g. registry.example.com or registry.example.com:5000'


@dataclass(frozen=True)
class GitSource:
    repo: GitRemote  # option git.repo, parsed (git_url.py)
    version: str = 'HEAD'
    depth: int = 1
    submodules: bool = False
    secret: Optional[str] = None
    # The commit git.version resolved to before the build, when it could be resolved;
    # the clone checks that it builds this very commit.
    commit: Optional[str] = None


@dataclass(frozen=True)
class LocalContext:
    """A build context packed on the module's host and sent into the pod (option local_context)."""

    path: str
    max_size: int
    # The packed tar, once the runner made it: its size in bytes and sha256 (hex).
    size: Optional[int] = None
    sha256: Optional[str] = None


@dataclass(frozen=True)
class Tarball:
    """Where the image goes as a tarball instead of a registry (option tarball): dest, or pvc and path."""

    dest: Optional[str] = None
    pvc: Optional[str] = None
    path: Optional[str] = None

    @property
    def tar_path(self):
        """Where Kaniko writes the tarball in its container: on the claim under a temporary name until it is whole."""
        if self.pvc:
            return posixpath.join(OUT_DIR, partial_name(self.path))
        return posixpath.join(OUT_DIR, IMAGE_TAR)


def partial_name(path):
    """The name the tarball has on the claim until the module checked it: '.<name>.kiln-partial'."""
    return '.{0}.kiln-partial'.format(posixpath.basename(path))


@dataclass(frozen=True)
class RegistryCredential:
    server: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RegistryCA:
    """The CA a registry's certificate is checked against: key ``key`` of a Secret or a ConfigMap."""
    registry: str
    kind: str  # 'Secret' or 'ConfigMap'
    name: str
    key: str = REGISTRY_CA_KEY

    @property
    def source(self):
        """The option that names the object, as messages name it: 'secret' or 'config_map'."""
        return 'secret' if self.kind == 'Secret' else 'config_map'


@dataclass(frozen=True)
class PodOptions:
    labels: Tuple[Tuple[str, str], ...] = ()
    annotations: Tuple[Tuple[str, str], ...] = ()
    requests: Tuple[Tuple[str, str], ...] = ()
    limits: Tuple[Tuple[str, str], ...] = ()
    node_selector: Tuple[Tuple[str, str], ...] = ()
    tolerations: Tuple[Dict[str, Any], ...] = ()
    affinity: Optional[Dict[str, Any]] = None
    service_account: Optional[str] = None
    image_pull_secrets: Tuple[str, ...] = ()
    priority_class: Optional[str] = None


@dataclass(frozen=True)
class BuildSpec:
    namespace: str
    git: Optional[GitSource] = None
    local: Optional[LocalContext] = None
    tarball: Optional[Tarball] = None
    name: str = 'kiln-build'
    context_sub_path: str = ''
    dockerfile: str = 'Dockerfile'
    destinations: Tuple[str, ...] = ()
    # The destinations parsed, in the same order: what the registry lookup and the cache repository use.
    destination_refs: Tuple[ImageReference, ...] = ()
    build_args: Tuple[Tuple[str, str], ...] = ()
    target: Optional[str] = None
    labels: Tuple[Tuple[str, str], ...] = ()
    platform: Optional[str] = None
    insecure: bool = False
    skip_tls_verify: bool = False
    insecure_registries: Tuple[str, ...] = ()
    registry_mirrors: Tuple[str, ...] = ()
    push: bool = True
    extra_args: Tuple[str, ...] = ()
    cache: bool = False
    cache_repo: Optional[str] = None
    cache_ttl: Optional[str] = None
    registry_secret: Optional[str] = None
    registry_auth: Tuple[RegistryCredential, ...] = ()
    registry_ca: Tuple[RegistryCA, ...] = ()
    executor_image: str = 'ghcr.io/osscontainertools/kaniko:v1.26.3'
    git_image: str = 'docker.io/alpine/git:2.49.1'
    image_pull_policy: str = 'IfNotPresent'
    pod: PodOptions = PodOptions()
    timeout: int = 1800
    keep_pod: str = 'on_failure'
    unschedulable_timeout: int = 60
    log_lines: int = 50
    log_path: Optional[str] = None
    force: bool = False

    @property
    def context_dir(self):
        """The build context inside the pod."""
        return posixpath.join(SOURCE_DIR, self.context_sub_path) if self.context_sub_path else SOURCE_DIR

    @property
    def dockerfile_path(self):
        """The Dockerfile inside the pod (absolute)."""
        return posixpath.join(self.context_dir, self.dockerfile)


def _relative_inside(option, value, what):
    """Normalise a relative POSIX path; refuse one that is absolute or climbs out with '..'."""
    if value.startswith('/'):
        raise ValidationError(option, "'{0}' is absolute; give a path relative to {1}".format(value, what))
    normal = posixpath.normpath(value) if value else '.'
    if normal == '..' or normal.startswith('../'):
        raise ValidationError(option, "'{0}' leaves {1}; give a path inside it".format(value, what))
    return '' if normal == '.' else normal


def _image(option, value, allow_digest=True):
    """The ImageReference of ``value``, given as the image option ``option``; it must name a registry host."""
    try:
        parsed = ImageReference.parse(value, need_registry=True)
    except InvalidReference as exc:
        raise ValidationError(option, '{0}; {1}'.format(exc.message, REFERENCE_EXAMPLE))
    if parsed.digest and not allow_digest:
        raise ValidationError(option, "'{0}' carries a digest; a destination is a name[:tag], "
                                      "the registry gives the digest".format(value))
    return parsed


def _string_map(option, value, check_key=None, check_value=None):
    """Return a dict as sorted (key, str value) pairs; scalars become strings, booleans are refused."""
    pairs = []
    for key, item in sorted((value or {}).items()):
        where = '{0}.{1}'.format(option, key)
        if isinstance(item, bool) or item is None or isinstance(item, (dict, list)):
            raise ValidationError(where, 'must be a string; quote it in YAML (e.g. "true", "1")')
        item = str(item)
        problem = check_key(key) if check_key else None
        if problem:
            raise ValidationError(option, problem)
        problem = check_value(item) if check_value else None
        if problem:
            raise ValidationError(where, problem)
        pairs.append((key, item))
    return tuple(pairs)


def _git(params):
    git = params.get('git')
    if not git:
        raise ValidationError('git', 'give the source: git (a repository the cluster clones) or local_context '
                                     '(a directory on the host that runs the module)')
    repo = parse_git_remote(git['repo'])

    version = git['version']
    if (not version or version.startswith('-') or any(c.isspace() or ord(c) < 32 for c in version)
            or '..' in version or '@{' in version or any(c in version for c in '~^:?*[\\')
            or version.endswith(('/', '.lock', '.'))):
        raise ValidationError('git.version', "'{0}' is not a branch, tag or commit".format(version))

    if git['depth'] < 0:
        raise ValidationError('git.depth', 'must be 0 (full history) or more')
    secret = git.get('secret')
    if secret is not None:
        _object_name('git.secret', secret)
    return GitSource(repo=repo, version=version, depth=git['depth'],
                     submodules=bool(git['submodules']), secret=secret)


def parse_size(option, value):
    """Bytes of a size given as a number of bytes or a Kubernetes quantity (200Mi, 1Gi, 500M)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(option, "must be a size such as 200Mi, 1Gi or 500M")
    amount = ref.parse_quantity(str(value).strip())
    if amount is None or amount != int(amount) or amount <= 0:
        raise ValidationError(option, "'{0}' is not a size; use e.g. 200Mi, 1Gi or 500M".format(value))
    return int(amount)


def _local(params):
    context = params.get('local_context')
    if not context:
        return None
    if params.get('git'):
        raise ValidationError('local_context', 'give git or local_context as the source, not both')
    path = context.get('path') or ''
    if not path.startswith('/'):
        raise ValidationError('local_context.path', "'{0}' is relative; give an absolute path on the host that "
                                                    "runs the module, such as '{{{{ playbook_dir }}}}/app'".format(path))
    max_size = context.get('max_size')
    return LocalContext(path=posixpath.normpath(path), max_size=parse_size(
        'local_context.max_size', DEFAULT_CONTEXT_MAX_SIZE if max_size is None else max_size))


def _tarball(params, destinations):
    tarball = params.get('tarball')
    if not tarball:
        return None
    dest, pvc, path = tarball.get('dest'), tarball.get('pvc'), tarball.get('path')
    if bool(dest) == bool(pvc):
        raise ValidationError('tarball', 'give either dest (a file on the host that runs the module) or pvc '
                                         '(a PersistentVolumeClaim) with path')
    if params.get('push'):
        raise ValidationError('push', 'the image goes to tarball, not to a registry; leave push out (or set it '
                                      'to false) with tarball')
    if not destinations:
        raise ValidationError('destinations', 'at least one is needed with tarball, to name the image in the '
                                              'tarball; give one such as registry:5000/team/app:1.0')
    if dest is not None:
        if path is not None:
            raise ValidationError('tarball.path', 'goes with tarball.pvc; with tarball.dest, dest is the file')
        if not dest.startswith('/') or dest.endswith('/'):
            raise ValidationError('tarball.dest', "'{0}' is not an absolute file path on the host that runs the "
                                                  "module; give one such as /tmp/app.tar".format(dest))
        return Tarball(dest=posixpath.normpath(dest))
    _object_name('tarball.pvc', pvc)
    if not path:
        raise ValidationError('tarball.path', 'is needed with tarball.pvc: the file in the claim, such as '
                                              'images/app.tar')
    path = _relative_inside('tarball.path', path, 'the claim (tarball.pvc)')
    if not path:
        raise ValidationError('tarball.path', 'must name a file in the claim, such as images/app.tar')
    return Tarball(pvc=pvc, path=path)


def _object_name(option, value):
    problem = ref.dns_subdomain_problem(value)
    if problem:
        raise ValidationError(option, "'{0}': {1}".format(value, problem))
    return value


def _extra_args(values):
    for index, arg in enumerate(values or ()):
        if not isinstance(arg, str):
            raise ValidationError('extra_args[{0}]'.format(index), 'must be a string')
        if arg.startswith('--'):
            flag = arg.split('=', 1)[0]
        elif arg.startswith('-') and len(arg) > 1:
            flag = arg[:2]
        else:
            continue
        if flag in _OWNED_FLAGS:
            raise ValidationError('extra_args[{0}]'.format(index), '{0} is set through {1}, not extra_args'.format(
                flag, _OWNED_FLAGS[flag]))
    return tuple(values or ())


def _resources(resources):
    resources = resources or {}
    parsed = {}
    for kind in ('requests', 'limits'):
        pairs = []
        for key, value in sorted((resources.get(kind) or {}).items()):
            where = 'pod.resources.{0}.{1}'.format(kind, key)
            problem = ref.label_key_problem(key)
            if problem:
                raise ValidationError(where, 'not a resource name: ' + problem)
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValidationError(where, "must be a quantity such as 500m, 2, 1Gi or 512Mi")
            text = str(value)
            amount = ref.parse_quantity(text)
            if amount is None:
                raise ValidationError(where, "'{0}' is not a Kubernetes quantity; use e.g. 500m, 2, 1Gi or 512Mi".format(text))
            if amount < 0:
                raise ValidationError(where, "'{0}' is negative".format(text))
            pairs.append((key, text, amount))
        parsed[kind] = pairs
    limits = {key: (text, amount) for key, text, amount in parsed['limits']}
    for key, text, amount in parsed['requests']:
        if key in limits and amount > limits[key][1]:
            raise ValidationError('pod.resources.requests.{0}'.format(key),
                                  "'{0}' is more than the limit '{1}'".format(text, limits[key][0]))
    return (tuple((k, t) for k, t, _a in parsed['requests']),
            tuple((k, t) for k, t, _a in parsed['limits']))


def _tolerations(values):
    tolerations = []
    for index, item in enumerate(values or ()):
        rendered = {}
        for option, key in (('key', 'key'), ('operator', 'operator'), ('value', 'value'),
                            ('effect', 'effect'), ('toleration_seconds', 'tolerationSeconds')):
            if item.get(option) is not None:
                rendered[key] = item[option]
        if rendered.get('operator') == 'Exists' and 'value' in rendered:
            raise ValidationError('pod.tolerations[{0}].value'.format(index), "must be empty when operator is 'Exists'")
        if not rendered.get('key') and rendered.get('operator', 'Equal') != 'Exists':
            raise ValidationError('pod.tolerations[{0}].operator'.format(index), "must be 'Exists' when key is empty")
        tolerations.append(rendered)
    return tuple(tolerations)


def _affinity(value):
    if not value:
        return None
    rendered = {}
    for option, key in (('node_affinity', 'nodeAffinity'), ('pod_affinity', 'podAffinity'),
                        ('pod_anti_affinity', 'podAntiAffinity')):
        if value.get(option):
            rendered[key] = value[option]
    return rendered or None


def _pod_options(pod):
    pod = pod or {}
    labels = _string_map('pod.labels', pod.get('labels'), ref.label_key_problem, ref.label_value_problem)
    for key, _value in labels:
        if key in RESERVED_POD_LABELS:
            raise ValidationError('pod.labels.' + key, 'is set by the module; choose another label')
    annotations = _string_map('pod.annotations', pod.get('annotations'), ref.label_key_problem)
    node_selector = _string_map('pod.node_selector', pod.get('node_selector'),
                                ref.label_key_problem, ref.label_value_problem)
    requests, limits = _resources(pod.get('resources'))
    pull_secrets = tuple(_object_name('pod.image_pull_secrets[{0}]'.format(i), name)
                         for i, name in enumerate(pod.get('image_pull_secrets') or ()))
    service_account = pod.get('service_account')
    if service_account is not None:
        _object_name('pod.service_account', service_account)
    priority_class = pod.get('priority_class')
    if priority_class is not None:
        _object_name('pod.priority_class', priority_class)
    return PodOptions(
        labels=labels, annotations=annotations, requests=requests, limits=limits,
        node_selector=node_selector, tolerations=_tolerations(pod.get('tolerations')),
        affinity=_affinity(pod.get('affinity')), service_account=service_account,
        image_pull_secrets=pull_secrets, priority_class=priority_class)


def _registry_auth(values):
    credentials = []
    seen = set()
    for index, item in enumerate(values or ()):
        where = 'registry_auth[{0}]'.format(index)
        server = item.get('server') or ''
        if not server or any(c.isspace() for c in server):
            raise ValidationError(where + '.server', 'must be a registry such as registry:5000 or ghcr.io')
        if server in seen:
            raise ValidationError(where + '.server', "'{0}' is listed twice".format(server))
        seen.add(server)
        if not item.get('username'):
            raise ValidationError(where + '.username', 'must not be empty')
        if not item.get('password'):
            raise ValidationError(where + '.password', 'must not be empty')
        credentials.append(RegistryCredential(server=server, username=item['username'], password=item['password']))
    return tuple(credentials)


def _registry_ca(values, skip_tls_verify, insecure_registries):
    """The registry_ca entries: each a host[:port] with exactly one Secret or ConfigMap, registries listed once."""
    if values and skip_tls_verify:
        raise ValidationError('registry_ca', 'has no effect with skip_tls_verify true, which checks no certificate; '
                                             'leave skip_tls_verify out to check the registries against their CA')
    entries = []
    seen = set()
    for index, item in enumerate(values or ()):
        where = 'registry_ca[{0}]'.format(index)
        registry = item.get('registry') or ''
        option = where + '.registry'
        scheme = SCHEME_RE.match(registry)
        if not registry:
            problem = 'is required: the registry whose CA this is, as host[:port], {0}'.format(_REGISTRY_CA_EXAMPLE)
        elif scheme:
            problem = "'{0}' is a URL; give the registry as host[:port] without {1}://, {2}".format(
                registry, scheme.group(1), _REGISTRY_CA_EXAMPLE)
        elif '/' in registry:
            problem = "'{0}' has a path; give the registry as host[:port] only, {1}".format(registry, _REGISTRY_CA_EXAMPLE)
        elif registry_host_problem(registry):
            problem = "'{0}' is not a registry host[:port]; {1}".format(registry, _REGISTRY_CA_EXAMPLE)
        else:
            problem = None
        if problem:
            raise ValidationError(option, problem)
        if registry in seen:
            raise ValidationError(option, "'{0}' is listed twice; give one CA per registry (a PEM file may hold "
                                          "several certificates)".format(registry))
        seen.add(registry)
        if registry in insecure_registries:
            raise ValidationError(option, "'{0}' is also in insecure_registries, which reaches it over plain HTTP "
                                          "without a certificate; leave it out of one of them".format(registry))
        secret, config_map = item.get('secret'), item.get('config_map')
        if secret is not None and config_map is not None:
            raise ValidationError(where, 'give secret or config_map, not both: the CA is read from one object')
        if secret is None and config_map is None:
            raise ValidationError(where, 'give secret or config_map: the name of the Secret or ConfigMap in '
                                         'namespace that holds the CA, e.g. config_map: registry-ca')
        source, name = ('secret', secret) if secret is not None else ('config_map', config_map)
        _object_name('{0}.{1}'.format(where, source), name)
        key = item.get('key') or REGISTRY_CA_KEY
        if not re.match(r'^[-._a-zA-Z0-9]+$', key) or len(key) > 253 or key in ('.', '..'):
            raise ValidationError(where + '.key', "'{0}' is not a key of a Secret or ConfigMap (letters, digits, "
                                                  "-, _ and .), e.g. ca.crt".format(key))
        entries.append(RegistryCA(registry=registry, kind='Secret' if secret is not None else 'ConfigMap',
                                  name=name, key=key))
    return tuple(entries)


def _cache_mode(value):
    """True, False or CACHE_AUTO from the raw cache option."""
    if value is None or value == CACHE_AUTO:
        return CACHE_AUTO
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ('yes', 'on', 'true', '1', 'y', 't'):
            return True
        if lowered in ('no', 'off', 'false', '0', 'n', 'f'):
            return False
    raise ValidationError('cache', "'{0}' is not one of auto, true or false".format(value))


def _split_host(registry):
    """(host, port or None) of a host[:port] or [ipv6][:port]."""
    if registry.startswith('['):
        host, _sep, rest = registry[1:].partition(']')
        return host, (rest[1:] or None) if rest.startswith(':') else None
    host, _sep, port = registry.partition(':')
    return host, port or None


def self_hosted_reason(registry, insecure=False, insecure_registries=()):
    """Why ``registry`` (host[:port]; docker.io or None for Docker Hub) counts as self-hosted, or None.

    Self-hosted: reached over plain HTTP (insecure, or listed in insecure_registries), or a
    name or address that only makes sense inside a cluster or a private network. Docker Hub never is.
    """
    if not registry or registry == DOCKER_HUB:
        return None
    if registry in insecure_registries:
        return '{0} is in insecure_registries'.format(registry)
    if insecure:
        return 'insecure is true (plain HTTP), which only a self-hosted registry serves'
    host, _port = _split_host(registry)
    lowered = host.lower()
    try:
        address = ipaddress.ip_address(lowered)
    except ValueError:
        address = None
    if address is not None:
        if address.is_private or address.is_loopback or address.is_link_local:
            return '{0} is a private address'.format(host)
        return None
    if lowered == 'localhost' or '.' not in lowered or lowered.endswith(_LOCAL_SUFFIXES):
        return '{0} is a cluster-internal or local name'.format(host)
    return None


def default_cache_repo(destination):
    """Kaniko's own choice of cache repository for a destination (an ImageReference): its name plus /cache."""
    return destination.name + '/cache'


def decide_cache(mode, cache_repo, destinations, push, insecure=False, insecure_registries=()):
    """(cache on, cache repository) for the cache option's value ``mode`` (True, False or 'auto').

    ``destinations`` are ImageReferences.

    auto is on when cache_repo is given, or when the build pushes and its first destination's
    registry is self-hosted (self_hosted_reason); the layers then go to <destination repository>/cache.
    """
    if mode is False:
        return False, None
    if mode is True:
        if cache_repo is None and not destinations:
            raise ValidationError('cache_repo', 'is needed with cache true and no destinations')
        return True, cache_repo or default_cache_repo(destinations[0])
    if cache_repo is not None:
        return True, cache_repo
    if not push or not destinations:
        return False, None
    if self_hosted_reason(destinations[0].domain, insecure, insecure_registries):
        return True, default_cache_repo(destinations[0])
    return False, None


def build_spec(params):
    """Validate the module parameters (after AnsibleModule's checks) and return a BuildSpec."""
    namespace = params['namespace']
    problem = ref.dns_label_problem(namespace)
    if problem:
        raise ValidationError('namespace', "'{0}': {1}".format(namespace, problem))
    name = params['name']
    problem = ref.dns_label_problem(name, NAME_LENGTH_MAX)
    if problem:
        raise ValidationError('name', "'{0}': {1}".format(name, problem))

    local = _local(params)
    git = None if local else _git(params)
    context_sub_path = _relative_inside('context_sub_path', params['context_sub_path'] or '',
                                        'the context directory (local_context.path)' if local else 'the repository (git.repo)')
    if not params['dockerfile']:
        raise ValidationError('dockerfile', 'must not be empty')
    dockerfile = _relative_inside('dockerfile', params['dockerfile'], 'the build context (context_sub_path)')

    destinations = tuple(params['destinations'] or ())
    destination_refs = tuple(_image('destinations[{0}]'.format(index), destination, allow_digest=False)
                             for index, destination in enumerate(destinations))
    tarball = _tarball(params, destinations)
    push = not tarball if params['push'] is None else bool(params['push'])
    if push and not destinations:
        raise ValidationError('destinations', 'at least one is needed to push; give one, or set push: false')

    build_args = _string_map('build_args', params['build_args'],
                             lambda k: None if _BUILD_ARG_NAME_RE.match(k) else "'{0}' is not an argument name".format(k))
    labels = _string_map('labels', params['labels'],
                         lambda k: None if _BUILD_ARG_NAME_RE.match(k) else "'{0}' is not a label key".format(k))

    platform = params['platform']
    if platform is not None and not _PLATFORM_RE.match(platform):
        raise ValidationError('platform', "'{0}' is not os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8".format(platform))

    insecure_registries = tuple(params['insecure_registries'] or ())
    for index, registry in enumerate(insecure_registries):
        problem = registry_host_problem(registry)
        if problem:
            raise ValidationError('insecure_registries[{0}]'.format(index), "'{0}': {1}".format(registry, problem))
    registry_mirrors = tuple(params['registry_mirrors'] or ())
    for index, mirror in enumerate(registry_mirrors):
        if not mirror or any(c.isspace() for c in mirror) or mirror.startswith('-'):
            raise ValidationError('registry_mirrors[{0}]'.format(index), "'{0}' is not a registry such as mirror.gcr.io".format(mirror))

    cache_repo = params['cache_repo']
    cache_ttl = params['cache_ttl']
    cache_mode = _cache_mode(params['cache'])
    if cache_mode is False:
        for option, value in (('cache_repo', cache_repo), ('cache_ttl', cache_ttl)):
            if value is not None:
                raise ValidationError(option, 'has no effect when cache is false; set cache to true or auto, '
                                              'or leave {0} out'.format(option))
    if cache_repo is not None:
        parsed = _image('cache_repo', cache_repo)
        if parsed.tag or parsed.digest:
            raise ValidationError('cache_repo', "'{0}' must be a repository without tag or digest, e.g. registry:5000/team/cache".format(cache_repo))
    if cache_ttl is not None:
        problem = ref.go_duration_problem(cache_ttl)
        if problem:
            raise ValidationError('cache_ttl', "'{0}': {1}".format(cache_ttl, problem))

    cache, cache_repo = decide_cache(cache_mode, cache_repo, destination_refs, push,
                                     bool(params['insecure']), insecure_registries)
    if not cache:
        cache_ttl = None

    for key, _value in labels:
        if key == BUILD_KEY_LABEL:
            raise ValidationError('labels.' + key, 'is set by the module (the build key); choose another label')

    registry_secret = params['registry_secret']
    registry_auth = _registry_auth(params['registry_auth'])
    if registry_secret is not None and registry_auth:
        raise ValidationError('registry_auth', 'give registry_secret or registry_auth, not both')
    if registry_secret is not None:
        _object_name('registry_secret', registry_secret)
    registry_ca = _registry_ca(params.get('registry_ca'), bool(params['skip_tls_verify']), insecure_registries)

    _image('executor_image', params['executor_image'])
    _image('git_image', params['git_image'])

    for option in ('timeout', 'unschedulable_timeout'):
        if params[option] <= 0:
            raise ValidationError(option, 'must be a positive number of seconds')
    if params['log_lines'] < 0:
        raise ValidationError('log_lines', 'must be 0 or more')

    return BuildSpec(
        namespace=namespace, name=name, git=git, local=local, tarball=tarball,
        context_sub_path=context_sub_path, dockerfile=dockerfile,
        destinations=destinations, destination_refs=destination_refs,
        build_args=build_args, target=params['target'], labels=labels,
        platform=platform, insecure=bool(params['insecure']), skip_tls_verify=bool(params['skip_tls_verify']),
        insecure_registries=insecure_registries, registry_mirrors=registry_mirrors,
        push=push, extra_args=_extra_args(params['extra_args']),
        cache=cache, cache_repo=cache_repo, cache_ttl=cache_ttl,
        registry_secret=registry_secret, registry_auth=registry_auth, registry_ca=registry_ca,
        executor_image=params['executor_image'], git_image=params['git_image'],
        image_pull_policy=params['image_pull_policy'], pod=_pod_options(params['pod']),
        timeout=params['timeout'], keep_pod=params['keep_pod'],
        unschedulable_timeout=params['unschedulable_timeout'], log_lines=params['log_lines'],
        log_path=params['log_path'], force=bool(params.get('force')))
