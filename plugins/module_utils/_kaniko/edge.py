# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The edge of kiln.kaniko.build and kiln.kaniko.container_build: options in, result out.

Both modules end in run(module, backend); the backend (engines/kubernetes/backend.py,
engines/podman/backend.py, both an engines/base.py Backend) turns the options into build specs (one
build is a list of one; the items of ``builds`` otherwise) and gives the credentials and the engine.
The tools the preparation needs are made once, run/build_run.py's BuildRun does the work, and the result
is shaped: a single build reports its own result, a list reports each item and a summary, each in the
backend's shape. Errors are raised as KilnError inside and turned into fail_json here, once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, fail_from_exception
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import heartbeat
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Backend, Credentials, Engine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import RemoteResolver
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.build_run import BuildRun

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule


def resolver_for(module: AnsibleModule, secrets: Credentials) -> RemoteResolver:
    return RemoteResolver(
        lambda args, env: module.run_command(args, environ_update=env, expand_user_and_vars=False),
        module.get_bin_path('git'), secrets.data, timeout_command=module.get_bin_path('timeout'))


def run_builds(build_run: BuildRun, items: bool) -> dict[str, Any]:
    """Prepare and run ``build_run``; the task's result (raises KilnError)."""
    errors = build_run.prepare()
    if errors:
        first = min(errors)
        raise results.for_item(errors[first], first) if items else errors[first]
    try:
        outcomes = build_run.run()
    except KilnError as exc:
        if not items:  # one build reports its own keys, as far as it came
            partial = dict((exc.details.pop('results', None) or [{}])[0] or {})
            partial.pop('failed', None)
            partial.pop('msg', None)
            exc.details.update(partial)
        raise
    if items:
        return results.summary(build_run.specs, outcomes, build_run.check_mode)
    result = dict(outcomes[0])
    if result.pop('failed', False):  # one build fails the task with its own error and its own keys
        error = build_run.failures.get(0) or KilnError(result['msg'])
        result.pop('msg', None)
        error.details = result
        raise error
    return result


def run(module: AnsibleModule, backend: Backend, clock: Callable[[], float] = time.monotonic) -> None:
    """The module's one call: build (or skip), then exit_json, or fail_json with the reason."""
    backend.require(module)
    # Run as the action plugin's async job, the build stops once nobody polls it (Ctrl-C on the controller).
    watchdog = heartbeat.from_environment()
    lookup: RegistryLookup | None = None
    build_run: BuildRun | None = None
    engine: Engine | None = None
    try:
        specs, log_path, items = backend.specs(module.params)
        secrets = backend.credentials(module)
        lookup = RegistryLookup(secrets.data, secrets.registry_ca)
        engine = backend.engine(module, specs, secrets)
        build_run = BuildRun(engine, specs, module.params.get('max_concurrent') or 1, secrets,
                             check_mode=module.check_mode, warn=module.warn, clock=clock,
                             resolver=resolver_for(module, secrets), lookup=lookup, log_path=log_path, items=items)
        try:
            result = run_builds(build_run, items)
        except KilnError as exc:
            exc.details = backend.reported(exc.details)
            raise
        module.exit_json(**backend.reported(result))
    except KilnError as exc:
        if watchdog is not None and watchdog.fired and isinstance(exc, BuildInterrupted):
            exc.message = watchdog.message
        fail_from_exception(module, exc)
    finally:
        if build_run is not None:
            build_run.release()
        if engine is not None:
            engine.close(module.warn)
        if lookup is not None:
            lookup.close()
        if watchdog is not None:
            watchdog.stop()
