# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The edge of kiln.kaniko.build: options in, result out.

The options become build specs (one build is a list of one; the items of ``builds`` otherwise),
the tools the preparation needs are made once, run.BuildRun does the work, and the result is shaped:
a single build reports its own result, a list reports each item and a summary. Errors are raised as
KilnError inside and turned into fail_json here, once.
"""

from __future__ import annotations

import time

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, ValidationError, fail_from_exception
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import own_pod
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import api_client, connection_source, require_kubernetes
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import heartbeat
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.secrets import SecretReader
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import RemoteResolver
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.build_run import BuildRun
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.items import item_specs


def specs_from(params, option_spec):
    """(specs, the shared log_path, whether they are items of ``builds``) from the module's parameters."""
    # Checked for one build too: a value that cannot work is refused whether or not it matters yet.
    if params.get('max_concurrent') is not None and params['max_concurrent'] < 1:
        raise ValidationError('max_concurrent', 'must be 1 or more')
    if params.get('builds') is not None:
        specs, log_path = item_specs(params, option_spec)
        return specs, log_path, True
    return [build_spec(params)], None, False


def resolver_for(module, secrets):
    return RemoteResolver(
        lambda args, env: module.run_command(args, environ_update=env, expand_user_and_vars=False),
        module.get_bin_path('git'), secrets.data, timeout_command=module.get_bin_path('timeout'))


def job_pod_owner(params, core, specs, warn, where=own_pod.where, source=connection_source):
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


def run_builds(build_run, items):
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


def run(module, option_spec=None, clock=time.monotonic):
    """The module's one call: build (or skip), then exit_json, or fail_json with the reason.

    ``option_spec`` is the module's argument spec of one build, which items of ``builds`` follow.
    """
    require_kubernetes(module)
    # Run as the action plugin's async job, the build stops once nobody polls it (Ctrl-C on the controller).
    watchdog = heartbeat.from_environment()
    lookup = build_run = None
    try:
        specs, log_path, items = specs_from(module.params, option_spec)
        core = CoreApi(api_client(module.params))
        secrets = SecretReader(core, module.warn)
        lookup = RegistryLookup(secrets.data, secrets.registry_ca)
        engine = KubernetesEngine(core, owner=job_pod_owner(module.params, core, specs, module.warn))
        build_run = BuildRun(engine, specs, module.params.get('max_concurrent') or 1, secrets,
                             check_mode=module.check_mode, warn=module.warn, clock=clock,
                             resolver=resolver_for(module, secrets), lookup=lookup, log_path=log_path, items=items)
        module.exit_json(**run_builds(build_run, items))
    except KilnError as exc:
        if watchdog is not None and watchdog.fired and isinstance(exc, BuildInterrupted):
            exc.message = watchdog.message
        fail_from_exception(module, exc)
    finally:
        if build_run is not None:
            build_run.release()
        if lookup is not None:
            lookup.close()
        if watchdog is not None:
            watchdog.stop()
