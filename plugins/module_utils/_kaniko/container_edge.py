# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The edge of kiln.kaniko.container_build: options in, result out, along kiln.kaniko.build's path.

The options become the BuildSpec kiln.kaniko.build would make (spec/container_build.py); podman is asked whether it
can run a build container here at all (engines/podman/host.py), before anything is made; the same preparation
(checks, commit, build key, skip by the registry's labels), the same BuildRun, Scheduler, lifecycle and
result policy run it, through a ContainerEngine instead of the cluster. The result has build's keys, the
container's name in place of the pod's.
"""

from __future__ import annotations

import time

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, fail_from_exception
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import heartbeat
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.edge import resolver_for, run_builds
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.engine import ContainerEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.host_files import HostSecrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.build_run import BuildRun
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import container_spec

# Keys of a pod's result that a container has otherwise, or not at all.
_DROPPED = ('pod_kept', 'events')


def shaped(result):
    """``result`` with the container's name (container_name) for the pod's, without what only a pod has."""
    result = dict(result)
    if 'pod_name' in result:
        result['container_name'] = result.pop('pod_name')
    for key in _DROPPED:
        result.pop(key, None)
    return result


def run(module, clock=time.monotonic):
    """The module's one call: build (or skip), then exit_json, or fail_json with the reason."""
    watchdog = heartbeat.from_environment()
    lookup = build_run = engine = None
    try:
        spec, credentials = container_spec(module.params)
        secrets = HostSecrets(credentials)
        lookup = RegistryLookup(secrets.data, secrets.registry_ca)
        engine = ContainerEngine(module.get_bin_path('podman'), secrets, module.params['network'], clock=clock)
        engine.check_host()  # also in check mode: it only asks podman
        build_run = BuildRun(engine, [spec], 1, secrets, check_mode=module.check_mode, warn=module.warn,
                             clock=clock, resolver=resolver_for(module, secrets), lookup=lookup, items=False)
        try:
            result = run_builds(build_run, False)
        except KilnError as exc:
            exc.details = shaped(exc.details)
            raise
        module.exit_json(**shaped(result))
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
