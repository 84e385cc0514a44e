# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The items of ``builds``: each merged over the top-level options and validated, all before any pod.

How an item and the top-level options combine:

- an option the item leaves out (or sets to null) comes from the top level, or its default;
- dictionaries (git, build_args, labels, pod and what is inside pod) merge key by key, the item's
  keys winning; anything else (strings, numbers, lists such as destinations or extra_args) the
  item gives replaces the top-level value;
- registry_secret in an item replaces the top-level registry_auth too (they are one choice), and so
  do git and local_context (the source), and platform and platforms;
  cache false in an item drops the top-level cache_repo and cache_ttl;
- registry_auth is top-level only (it lists every registry's credentials, and its passwords are
  masked only as an option of the module); log_path at the top level is the log of the whole
  run, so items do not inherit it.

Every problem raises ValidationError naming the option with its item, e.g. ``builds[2].destinations[0]``.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any, Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference

TOP_LEVEL_ONLY = {
    'registry_auth': 'set registry_auth at the top level; it lists the credentials of every registry the builds '
                     'push to',
    'builds': 'builds do not nest',
    'max_concurrent': 'set max_concurrent at the top level',
    'owned_by_job_pod': 'set owned_by_job_pod at the top level; it is about the job, not one build',
}
NOT_INHERITED = ('log_path',)


def _optional(options: Mapping[str, Any], keep_defaults: bool = False) -> dict[str, Any]:
    """``options`` (an argument spec) with none of them required, recursively; without defaults unless
    ``keep_defaults``."""
    spec = {}
    for name, option in options.items():
        option = dict(option)
        option.pop('required', None)
        if not keep_defaults:
            option.pop('default', None)
        if 'options' in option:
            option['options'] = _optional(option['options'], keep_defaults)
        spec[name] = option
    return spec


def item_option_spec(option_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The argument spec of one item: the build options without defaults and without required, recursively."""
    return _optional({name: option for name, option in option_spec.items() if name not in TOP_LEVEL_ONLY})


def _merged_option_spec(option_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The argument spec of a merged item: defaults filled in, but no suboption required, so that one the item left
    out stays None for build_spec to name (ansible-core before 2.19 refuses a None where an option is required)."""
    return {name: dict(option, options=_optional(option['options'], keep_defaults=True)) if 'options' in option
            else option for name, option in option_spec.items()}


def _set_only(value: Any) -> Any:
    """``value`` without what an item left unset (None) in dictionaries, within lists too, so that validating the
    merged item fills in their defaults (ansible-core before 2.19 refuses a None where a string has a default)."""
    if isinstance(value, dict):
        return {key: _set_only(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, list):
        return [_set_only(inner) for inner in value]
    return value


def merge(defaults: Any, item: Any) -> Any:
    """``item`` over ``defaults``: None inherits, dictionaries merge key by key, anything else replaces."""
    if not isinstance(item, dict):
        return copy.deepcopy(defaults if item is None else item)
    merged = copy.deepcopy(defaults) if isinstance(defaults, dict) else {}
    for key, value in item.items():
        if value is None:
            continue
        merged[key] = merge(merged.get(key), value) if isinstance(value, dict) else copy.deepcopy(value)
    return merged


def _problems(where: str, messages: list[str]) -> ValidationError:
    return ValidationError(where, '; '.join(messages))


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in ('no', 'off', 'false', '0', 'n', 'f'))


def item_params(params: Mapping[str, Any], index: int, item: object, option_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The full parameters of item ``index``: validated, merged over ``params``, defaults filled in."""
    where = 'builds[{0}]'.format(index)
    if not isinstance(item, dict):
        raise ValidationError(where, 'must be a dictionary of build options')
    for key in item:
        if key in TOP_LEVEL_ONLY:
            raise ValidationError('{0}.{1}'.format(where, key), TOP_LEVEL_ONLY[key])
        if key not in option_spec:
            close = difflib.get_close_matches(key, sorted(option_spec), n=1)
            raise ValidationError('{0}.{1}'.format(where, key), 'is not an option of a build{0} (connection options '
                                  'and max_concurrent are set at the top level only)'.format(
                                      ', did you mean {0}?'.format(close[0]) if close else ''))
    checked = ArgumentSpecValidator(item_option_spec(option_spec)).validate(item)
    if checked.error_messages:
        raise _problems(where, checked.error_messages)
    given = {key: _set_only(value) for key, value in checked.validated_parameters.items() if key in item}

    defaults = {key: copy.deepcopy(params.get(key)) for key in option_spec}
    for key in NOT_INHERITED:
        defaults[key] = None
    if given.get('registry_secret') is not None:
        defaults['registry_auth'] = None
    if given.get('local_context') is not None:
        defaults['git'] = None
    if given.get('git') is not None:
        defaults['local_context'] = None
    if given.get('platform') is not None:  # one platform or several: one choice, as the source is
        defaults['platforms'] = None
    if given.get('platforms') is not None:
        defaults['platform'] = None
    if _is_false(given.get('cache')):
        defaults['cache_repo'] = defaults['cache_ttl'] = None
    merged = merge(defaults, given)
    if not merged.get('git') and not merged.get('local_context'):
        raise ValidationError(where + '.git', 'is required: give git (or local_context) in the item or at the top level')

    filled = ArgumentSpecValidator(_merged_option_spec(option_spec)).validate(merged)
    if filled.error_messages:
        raise _problems(where, filled.error_messages)
    return filled.validated_parameters


def item_specs(params: Mapping[str, Any], option_spec: Mapping[str, Any]) -> tuple[list[BuildSpec], str | None]:
    """(BuildSpecs of every item, in order; the run's own log_path) for the module's ``params``."""
    items = params.get('builds')
    if not items:
        raise ValidationError('builds', 'give at least one build')
    if params.get('max_concurrent') is not None and params['max_concurrent'] < 1:
        raise ValidationError('max_concurrent', 'must be 1 or more')
    specs = []
    destinations: dict[ImageReference, str] = {}
    logs: dict[str, str] = {}
    tarballs: dict[object, str] = {}
    for index, item in enumerate(items):
        where = 'builds[{0}]'.format(index)
        merged = item_params(params, index, item, option_spec)
        try:
            spec = build_spec(merged)
        except ValidationError as exc:
            raise ValidationError('{0}.{1}'.format(where, exc.option), exc.reason) from exc
        for position, (destination, ref) in enumerate(zip(spec.destinations, spec.destination_refs)):
            pushed = ref.with_default_tag()  # 'app' and 'docker.io/library/app:latest' are one tag
            if pushed in destinations:
                raise ValidationError('{0}.destinations[{1}]'.format(where, position),
                                      "'{0}' is also a destination of {1}; two builds cannot push the same tag".format(
                                          destination, destinations[pushed]))
            destinations[pushed] = where
        if spec.log_path:
            if spec.log_path in logs or spec.log_path == params.get('log_path'):
                raise ValidationError(where + '.log_path', "'{0}' is also the log_path of {1}".format(
                    spec.log_path, logs.get(spec.log_path, 'the whole run')))
            logs[spec.log_path] = where
        if spec.tarball:
            target = spec.tarball.dest or (spec.tarball.pvc, spec.tarball.path)
            if target in tarballs:
                raise ValidationError(where + '.tarball', 'writes the same file as {0}; give each build a tarball '
                                                          'of its own'.format(tarballs[target]))
            tarballs[target] = where
        specs.append(spec)
    return specs, params.get('log_path')


def specs_from(params: Mapping[str, Any], option_spec: Mapping[str, Any]) -> tuple[list[BuildSpec], str | None, bool]:
    """(specs, the shared log_path, whether they are items of ``builds``) from the module's parameters."""
    # Checked for one build too: a value that cannot work is refused whether or not it matters yet.
    if params.get('max_concurrent') is not None and params['max_concurrent'] < 1:
        raise ValidationError('max_concurrent', 'must be 1 or more')
    if params.get('builds') is not None:
        specs, log_path = item_specs(params, option_spec)
        return specs, log_path, True
    return [build_spec(params)], None, False
