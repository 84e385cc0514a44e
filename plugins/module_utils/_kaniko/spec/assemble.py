# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turn the module's parameters into a validated, normalised, frozen BuildSpec.

Pure: no I/O. The options are checked in a fixed order (what is built, from where, to where, how, with
which credentials, and the limits), so that of several problems the same one is named first. Every
problem raises ValidationError naming the option and the fix.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import build_secrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import checks
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import grammar
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import platforms
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import (
    BUILD_KEY_LABEL,
    NAME_LENGTH_MAX,
    BuildSpec,
    RegistryCA,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import registry_host_problem

_BUILD_ARG_NAME_RE = re.compile(r'^[^\s=]+$')
# ca_source(where, registry, item): the RegistryCA of a registry_ca entry that names a file (spec/checks.py).
CASource = Callable[[str, str, Mapping[str, Any]], RegistryCA]


def _label(option: str, value: str, max_length: int = 63) -> str:
    problem = grammar.dns_label_problem(value, max_length)
    if problem:
        raise ValidationError(option, "'{0}': {1}".format(value, problem))
    return value


def _source(params: Mapping[str, Any]) -> dict[str, Any]:
    """local, git, context_sub_path and dockerfile."""
    local = checks.local_context(params)
    git = None if local else checks.git_source(params)
    context_sub_path = checks.relative_inside(
        'context_sub_path', params['context_sub_path'] or '',
        'the context directory (local_context.path)' if local else 'the repository (git.repo)')
    if not params['dockerfile']:
        raise ValidationError('dockerfile', 'must not be empty')
    dockerfile = checks.relative_inside('dockerfile', params['dockerfile'], 'the build context (context_sub_path)')
    return dict(local=local, git=git, context_sub_path=context_sub_path, dockerfile=dockerfile)


def _outputs(params: Mapping[str, Any]) -> dict[str, Any]:
    """destinations (as written and parsed), tarball and push."""
    destinations = tuple(params['destinations'] or ())
    destination_refs = tuple(checks.image_reference('destinations[{0}]'.format(index), destination, allow_digest=False)
                             for index, destination in enumerate(destinations))
    tarball = checks.tarball(params, destinations)
    push = not tarball if params['push'] is None else bool(params['push'])
    if push and not destinations:
        raise ValidationError('destinations', 'at least one is needed to push; give one, or set push: false')
    return dict(destinations=destinations, destination_refs=destination_refs, tarball=tarball, push=push)


def _names(kind: str) -> Callable[[str], str | None]:
    return lambda key: None if _BUILD_ARG_NAME_RE.match(key) else "'{0}' is not {1}".format(key, kind)


def _build_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """build_args, labels, platform and target."""
    build_args = checks.string_map('build_args', params['build_args'], _names('an argument name'))
    labels = checks.string_map('labels', params['labels'], _names('a label key'))
    platform = params['platform']
    if platform is not None and not platforms.PLATFORM_RE.match(platform):
        raise ValidationError('platform', "'{0}' is not {1}".format(platform, platforms.PLATFORM_FORMAT))
    return dict(build_args=build_args, labels=labels, platform=platform, target=params['target'])


def _registries(params: Mapping[str, Any]) -> dict[str, Any]:
    """insecure_registries and registry_mirrors."""
    insecure_registries = tuple(params['insecure_registries'] or ())
    for index, registry in enumerate(insecure_registries):
        problem = registry_host_problem(registry)
        if problem:
            raise ValidationError('insecure_registries[{0}]'.format(index), "'{0}': {1}".format(registry, problem))
    registry_mirrors = tuple(params['registry_mirrors'] or ())
    for index, mirror in enumerate(registry_mirrors):
        if not mirror or any(c.isspace() for c in mirror) or mirror.startswith('-'):
            raise ValidationError('registry_mirrors[{0}]'.format(index),
                                  "'{0}' is not a registry such as mirror.gcr.io".format(mirror))
    return dict(insecure_registries=insecure_registries, registry_mirrors=registry_mirrors)


def _cache(params: Mapping[str, Any], outputs: Mapping[str, Any],
           insecure_registries: tuple[str, ...]) -> dict[str, Any]:
    """cache (on or off), cache_repo and cache_ttl."""
    cache_repo = params['cache_repo']
    cache_ttl = params['cache_ttl']
    cache_mode = checks.cache_mode(params['cache'])
    if cache_mode is False:
        for option, value in (('cache_repo', cache_repo), ('cache_ttl', cache_ttl)):
            if value is not None:
                raise ValidationError(option, 'has no effect when cache is false; set cache to true or auto, '
                                              'or leave {0} out'.format(option))
    if cache_repo is not None:
        parsed = checks.image_reference('cache_repo', cache_repo)
        if parsed.tag or parsed.digest:
            raise ValidationError('cache_repo', "'{0}' must be a repository without tag or digest, e.g. "
                                                "registry:5000/team/cache".format(cache_repo))
    if cache_ttl is not None:
        problem = grammar.go_duration_problem(cache_ttl)
        if problem:
            raise ValidationError('cache_ttl', "'{0}': {1}".format(cache_ttl, problem))
    cache, cache_repo = checks.decide_cache(cache_mode, cache_repo, outputs['destination_refs'], outputs['push'],
                                            bool(params['insecure']), insecure_registries)
    return dict(cache=cache, cache_repo=cache_repo, cache_ttl=cache_ttl if cache else None)


def _credentials(params: Mapping[str, Any], insecure_registries: tuple[str, ...],
                 ca_source: CASource | None = None) -> dict[str, Any]:
    """registry_secret, registry_auth, registry_ca and build_secrets."""
    registry_secret = params['registry_secret']
    registry_auth = checks.registry_auth(params['registry_auth'])
    if registry_secret is not None and registry_auth:
        raise ValidationError('registry_auth', 'give registry_secret or registry_auth, not both')
    if registry_secret is not None:
        checks.object_name('registry_secret', registry_secret)
    registry_ca = checks.registry_ca(params.get('registry_ca'), bool(params['skip_tls_verify']), insecure_registries,
                                     ca_source)
    return dict(registry_secret=registry_secret, registry_auth=registry_auth, registry_ca=registry_ca,
                build_secrets=build_secrets.check(params.get('build_secrets')))


def _limits(params: Mapping[str, Any]) -> dict[str, Any]:
    for option in ('timeout', 'unschedulable_timeout'):
        if params[option] <= 0:
            raise ValidationError(option, 'must be a positive number of seconds')
    if params['log_lines'] < 0:
        raise ValidationError('log_lines', 'must be 0 or more')
    if params['retries'] < 0:
        raise ValidationError('retries', 'must be 0 or more: the times a build whose pod was lost through no fault '
                                         'of its own runs again (0: never)')
    return dict(timeout=params['timeout'], unschedulable_timeout=params['unschedulable_timeout'],
                log_lines=params['log_lines'], retries=params['retries'])


def build_spec(params: Mapping[str, Any], ca_source: CASource | None = None) -> BuildSpec:
    """Validate the module parameters (after AnsibleModule's checks) and return a BuildSpec.

    kiln.kaniko.container_build gives no namespace nor git_image (None), and ``ca_source``, which checks its
    registry_ca entries (files of its host; see spec_checks.registry_ca)."""
    namespace = params['namespace']
    fields: dict[str, Any] = dict(namespace=None if namespace is None else _label('namespace', namespace),
                                  name=_label('name', params['name'], NAME_LENGTH_MAX))
    fields.update(_source(params))
    outputs = _outputs(params)
    fields.update(outputs)
    fields.update(_build_options(params))
    fields['platforms'] = platforms.check_platforms(params.get('platforms'), fields['platform'], outputs['tarball'],
                                                    outputs['push'])
    platforms.check_tags(outputs['destination_refs'], fields['platforms'])
    registries = _registries(params)
    fields.update(registries)
    fields.update(_cache(params, outputs, registries['insecure_registries']))
    for key, _value in fields['labels']:
        if key == BUILD_KEY_LABEL:
            raise ValidationError('labels.' + key, 'is set by the module (the build key); choose another label')
    fields.update(_credentials(params, registries['insecure_registries'], ca_source))
    fields['sign'], fields['sbom'] = steps.check(params, outputs['push'], outputs['tarball'], fields['platforms'])
    for option in ('executor_image', 'git_image', 'cosign_image', 'syft_image'):
        if params[option] is not None:  # container_build has no git_image (nor cosign and syft)
            checks.image_reference(option, params[option])
    fields.update(_limits(params))
    pod = checks.pod_options(params['pod'])
    cross_build = bool(params.get('cross_build'))
    platforms.check_placement(fields['platforms'], pod, cross_build)
    return BuildSpec(
        insecure=bool(params['insecure']), skip_tls_verify=bool(params['skip_tls_verify']),
        extra_args=checks.extra_args(params['extra_args']),
        executor_image=params['executor_image'], git_image=params['git_image'],
        cosign_image=params['cosign_image'], syft_image=params['syft_image'],
        image_pull_policy=params['image_pull_policy'], pod=pod, cross_build=cross_build,
        keep_pod=params['keep_pod'], log_path=params['log_path'], force=bool(params.get('force')), **fields)
