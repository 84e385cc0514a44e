# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The checks of each build option: pure functions from a parameter to its validated value.

Every problem raises ValidationError naming the option (with its path, e.g. ``pod.resources.limits.memory``
or ``destinations[1]``) and the fix. spec_build.build_spec calls them.
"""

from __future__ import annotations

import ipaddress
import posixpath
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import build
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import grammar
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.git_url import SCHEME_RE, parse_git_remote
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import (
    CACHE_AUTO,
    RESERVED_POD_LABELS,
    GitSource,
    LocalContext,
    PodOptions,
    RegistryCA,
    RegistryCredential,
    Tarball,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import (
    DOCKER_HUB,
    REFERENCE_EXAMPLE,
    ImageReference,
    registry_host_problem,
)

# Host names that only resolve inside a cluster or on the host itself.
_LOCAL_SUFFIXES = ('.svc', '.svc.cluster.local', '.cluster.local', '.localhost')


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
    '--secret': 'build_secrets',
}

_REGISTRY_CA_EXAMPLE = 'e.g. registry.example.com or registry.example.com:5000'


def relative_inside(option: str, value: str, what: str) -> str:
    """Normalise a relative POSIX path; refuse one that is absolute or climbs out with '..'."""
    if value.startswith('/'):
        raise ValidationError(option, "'{0}' is absolute; give a path relative to {1}".format(value, what))
    normal = posixpath.normpath(value) if value else '.'
    if normal == '..' or normal.startswith('../'):
        raise ValidationError(option, "'{0}' leaves {1}; give a path inside it".format(value, what))
    return '' if normal == '.' else normal


def image_reference(option: str, value: object, allow_digest: bool = True) -> ImageReference:
    """The ImageReference of ``value``, given as the image option ``option``; it must name a registry host."""
    try:
        parsed = ImageReference.parse(value, need_registry=True)
    except InvalidReference as exc:
        raise ValidationError(option, '{0}; {1}'.format(exc.message, REFERENCE_EXAMPLE)) from exc
    if parsed.digest and not allow_digest:
        raise ValidationError(option, "'{0}' carries a digest; a destination is a name[:tag], "
                                      "the registry gives the digest".format(value))
    return parsed


def string_map(option: str, value: Mapping[str, Any] | None, check_key: grammar.Check | None = None,
               check_value: grammar.Check | None = None) -> tuple[tuple[str, str], ...]:
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


def git_source(params: Mapping[str, Any]) -> GitSource:
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
        object_name('git.secret', secret)
    return GitSource(repo=repo, version=version, depth=git['depth'],
                     submodules=bool(git['submodules']), secret=secret)


def parse_size(option: str, value: object) -> int:
    """Bytes of a size given as a number of bytes or a Kubernetes quantity (200Mi, 1Gi, 500M)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(option, "must be a size such as 200Mi, 1Gi or 500M")
    amount = grammar.parse_quantity(str(value).strip())
    if amount is None or amount != int(amount) or amount <= 0:
        raise ValidationError(option, "'{0}' is not a size; use e.g. 200Mi, 1Gi or 500M".format(value))
    return int(amount)


def local_context(params: Mapping[str, Any]) -> LocalContext | None:
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
    if max_size is None:  # written as null: the option's default
        max_size = build.default('local_context', 'max_size')
    return LocalContext(path=posixpath.normpath(path), max_size=parse_size('local_context.max_size', max_size))


def tarball(params: Mapping[str, Any], destinations: Sequence[str]) -> Tarball | None:
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
    object_name('tarball.pvc', pvc)
    if not path:
        raise ValidationError('tarball.path', 'is needed with tarball.pvc: the file in the claim, such as '
                                              'images/app.tar')
    path = relative_inside('tarball.path', path, 'the claim (tarball.pvc)')
    if not path:
        raise ValidationError('tarball.path', 'must name a file in the claim, such as images/app.tar')
    return Tarball(pvc=pvc, path=path)


def object_name(option: str, value: str) -> str:
    problem = grammar.dns_subdomain_problem(value)
    if problem:
        raise ValidationError(option, "'{0}': {1}".format(value, problem))
    return value


def extra_args(values: Sequence[Any] | None) -> tuple[str, ...]:
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


def _resources(resources: Mapping[str, Any] | None) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    resources = resources or {}
    parsed = {}
    for kind in ('requests', 'limits'):
        pairs = []
        for key, value in sorted((resources.get(kind) or {}).items()):
            where = 'pod.resources.{0}.{1}'.format(kind, key)
            problem = grammar.label_key_problem(key)
            if problem:
                raise ValidationError(where, 'not a resource name: ' + problem)
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValidationError(where, "must be a quantity such as 500m, 2, 1Gi or 512Mi")
            text = str(value)
            amount = grammar.parse_quantity(text)
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


def _tolerations(values: Iterable[Mapping[str, Any]] | None) -> tuple[dict[str, Any], ...]:
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


def _affinity(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    rendered = {}
    for option, key in (('node_affinity', 'nodeAffinity'), ('pod_affinity', 'podAffinity'),
                        ('pod_anti_affinity', 'podAntiAffinity')):
        if value.get(option):
            rendered[key] = value[option]
    return rendered or None


def pod_options(pod: Mapping[str, Any] | None) -> PodOptions:
    pod = pod or {}
    labels = string_map('pod.labels', pod.get('labels'), grammar.label_key_problem, grammar.label_value_problem)
    for key, _value in labels:
        if key in RESERVED_POD_LABELS:
            raise ValidationError('pod.labels.' + key, 'is set by the module; choose another label')
    annotations = string_map('pod.annotations', pod.get('annotations'), grammar.label_key_problem)
    node_selector = string_map('pod.node_selector', pod.get('node_selector'),
                               grammar.label_key_problem, grammar.label_value_problem)
    requests, limits = _resources(pod.get('resources'))
    pull_secrets = tuple(object_name('pod.image_pull_secrets[{0}]'.format(i), name)
                         for i, name in enumerate(pod.get('image_pull_secrets') or ()))
    service_account = pod.get('service_account')
    if service_account is not None:
        object_name('pod.service_account', service_account)
    priority_class = pod.get('priority_class')
    if priority_class is not None:
        object_name('pod.priority_class', priority_class)
    return PodOptions(
        labels=labels, annotations=annotations, requests=requests, limits=limits,
        node_selector=node_selector, tolerations=_tolerations(pod.get('tolerations')),
        affinity=_affinity(pod.get('affinity')), service_account=service_account,
        image_pull_secrets=pull_secrets, priority_class=priority_class)


def registry_auth(values: Iterable[Mapping[str, Any]] | None) -> tuple[RegistryCredential, ...]:
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


def registry_ca(values: Iterable[Any] | None, skip_tls_verify: bool, insecure_registries: Collection[str],
                entry: Callable[[str, str, Mapping[str, Any]], RegistryCA] | None = None) -> tuple[RegistryCA, ...]:
    """The registry_ca entries: each a host[:port] with exactly one Secret or ConfigMap, registries listed once.

    ``entry(where, registry, item)``, when given, checks where an entry's CA comes from instead and returns its
    RegistryCA (kiln.kaniko.container_build reads a file of its host)."""
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
        if entry is not None:
            entries.append(entry(where, registry, item))
            continue
        secret, config_map = item.get('secret'), item.get('config_map')
        if secret is not None and config_map is not None:
            raise ValidationError(where, 'give secret or config_map, not both: the CA is read from one object')
        if secret is None and config_map is None:
            raise ValidationError(where, 'give secret or config_map: the name of the Secret or ConfigMap in '
                                         'namespace that holds the CA, e.g. config_map: registry-ca')
        source, name = ('secret', secret) if secret is not None else ('config_map', config_map)
        object_name('{0}.{1}'.format(where, source), name)
        key = item.get('key') or build.default('registry_ca', 'key')
        if not grammar.is_config_key(key):
            raise ValidationError(where + '.key', "'{0}' is not a key of a Secret or ConfigMap (letters, digits, "
                                                  "-, _ and .), e.g. ca.crt".format(key))
        entries.append(RegistryCA(registry=registry, kind='Secret' if secret is not None else 'ConfigMap',
                                  name=name, key=key))
    return tuple(entries)


def cache_mode(value: object) -> bool | str:
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


def _split_host(registry: str) -> tuple[str, str | None]:
    """(host, port or None) of a host[:port] or [ipv6][:port]."""
    if registry.startswith('['):
        host, _sep, rest = registry[1:].partition(']')
        return host, (rest[1:] or None) if rest.startswith(':') else None
    host, _sep, port = registry.partition(':')
    return host, port or None


def self_hosted_reason(registry: str | None, insecure: bool = False, insecure_registries: Collection[str] = ()) -> str | None:
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


def default_cache_repo(destination: ImageReference) -> str:
    """Kaniko's own choice of cache repository for a destination (an ImageReference): its name plus /cache."""
    return destination.name + '/cache'


def decide_cache(mode: bool | str, cache_repo: str | None, destinations: Sequence[ImageReference], push: bool,
                 insecure: bool = False, insecure_registries: Collection[str] = ()) -> tuple[bool, str | None]:
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
