# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the builds of one task, one or many, along one path.

Every build is prepared (prepare.py: checked against the cluster and identified: commit, build key,
skip) before any pod is created. The builds that must run then run as pods (lifecycle.Build), at most
max_concurrent at a time, through scheduler.Scheduler and one watch per namespace on the run's
label. Each build gets its result, in order. A signal or an error of the cluster deletes every pod
and Secret of the run that is not a finished build's pod kept on purpose (keep_pod).
"""

from __future__ import annotations

import binascii
import os
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.exceptions import ClusterError, cluster_error
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import pod as pod_render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.lifecycle import Build
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.logs import writer_for
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.prepare import check_log_path, open_log, prepare
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.scheduler import Scheduler
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.signals import raise_on_signals

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:
    ApiException = None  # _k8s.client.require_kubernetes() reports the missing library before anything here runs

# Builds prepared side by side: their checks and registry lookups are short requests, mostly waiting.
PREPARE_THREADS = 8


def new_run_id():
    return binascii.hexlify(os.urandom(5)).decode('ascii')


class BuildRun(object):
    """The builds of ``specs`` through ``engine`` (engine.KubernetesEngine).

    ``secrets`` (secrets.SecretReader), ``resolver`` (git_remote.RemoteResolver) and ``lookup``
    (registry_lookup.RegistryLookup) serve the preparation. ``items`` says that the builds are the items of
    the option builds: their warnings then name them (``builds[2]: ...``). ``log_path`` is the file the builds
    without a log_path of their own share (headers name each build).
    """

    def __init__(self, engine, specs, max_concurrent, secrets, check_mode=False, warn=None, clock=time.monotonic,
                 resolver=None, lookup=None, log_path=None, watch_factory=None, items=True):
        self.engine = engine
        self.specs = list(specs)
        self.max_concurrent = max_concurrent
        self.secrets = secrets
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)
        self.items = items
        self.clock = clock
        self.resolver = resolver
        self.lookup = lookup
        self.log_path = log_path
        self.run_id = new_run_id()
        self.watch_factory = watch_factory or engine.watch
        self.prepared = [None] * len(self.specs)
        # The error of each build that failed, by index (its result says the same, with failed and msg).
        self.failures = {}
        self.peak = 0

    def warn_for(self, index):
        """The warn function of build ``index``."""
        if not self.items:
            return self.warn
        return lambda message: self.warn('builds[{0}]: {1}'.format(index, message))

    def prepare(self):
        """Prepare every build; return {index: KilnError} of those that could not be (empty when all could)."""
        check_log_path(self.log_path)
        errors = {}

        def one(index):
            try:
                self.prepared[index] = prepare(self.specs[index], self.engine, self.secrets, self.resolver,
                                               self.lookup, self.warn_for(index))
            except KilnError as exc:
                errors[index] = exc

        with ThreadPoolExecutor(max_workers=min(PREPARE_THREADS, len(self.specs))) as pool:
            list(pool.map(one, range(len(self.specs))))
        return errors

    def release(self):
        for prepared in self.prepared:
            if prepared is not None:
                prepared.release()

    def run(self):
        """The result of each build, in order (each with ``failed``); raises KilnError when the run was stopped
        (a signal, the cluster lost), with the results so far in ``details['results']``."""
        outcomes = [None] * len(self.specs)
        labelled = self.log_path is not None
        builds = []
        for index, prepared in enumerate(self.prepared):
            decision = prepared.decision
            if decision.skip:
                outcomes[index] = dict(results.skipped(decision, prepared.identity()), failed=False)
            elif self.check_mode:
                manifest = pod_render.render_pod(
                    prepared.spec, auth_secret_name=results.check_mode_secret_name(prepared.spec),
                    registry_secret_key=prepared.registry_key, run_id=self.run_id)
                outcomes[index] = dict(results.check_mode(manifest, decision, prepared.identity()), failed=False)
            else:
                builds.append((index, Build(prepared, self.engine, self.run_id, self.clock, self.warn_for(index),
                                            label=log_sections.item_prefix(index) if labelled else '')))
        if builds:
            self._run(builds, outcomes)
        return outcomes

    def _run(self, indexed, outcomes):
        builds = [build for _index, build in indexed]
        run_log = writer_for(open_log(self.log_path))  # the builds without a log_path write to it side by side
        for build in builds:
            build.run_log = run_log
        watch = self.watch_factory(sorted(set(build.namespace for build in builds)), self.run_id)
        scheduler = Scheduler(builds, self.max_concurrent, watch, self.clock, exists=self.engine.exists)
        try:
            watch.start()
            with raise_on_signals():
                scheduler.run()
        except Exception as exc:  # interrupted, or the API server failed or became unreachable: leave no pod behind
            self._abort(builds)
            error = exc if isinstance(exc, KilnError) else self._lost(exc, len(builds))
            error.details.update(changed=self._started(builds),
                                 results=self._partial(indexed, outcomes, error.message))
            raise error
        finally:
            watch.stop()
            if run_log:
                run_log.close()
        self.peak = scheduler.peak
        for index, build in indexed:
            outcomes[index] = build.result
            if build.error is not None:
                self.failures[index] = build.error

    @staticmethod
    def _lost(exc, count):
        """The ClusterError of a run whose watch or API server failed with ``exc``."""
        what = 'the build pod' if count == 1 else 'the build pods'
        if ApiException is not None and isinstance(exc, ApiException):
            return cluster_error(exc, ('run ' if count == 1 else 'follow ') + what)
        return ClusterError('Lost contact with {0}: {1}: {2}'.format(what, type(exc).__name__, exc))

    @staticmethod
    def _started(builds):
        return any(build.started for build in builds)

    @staticmethod
    def _partial(indexed, outcomes, why):
        partial = list(outcomes)
        for index, build in indexed:
            partial[index] = build.result or dict(build.details(), failed=True, msg='Not finished: ' + why)
        return partial

    def _abort(self, builds):
        """Delete every pod and Secret of the run but the finished builds' pods kept on purpose."""
        for build in builds:
            build.abort()
        kept = set((build.namespace, (build.result or {}).get('pod_name')) for build in builds
                   if (build.result or {}).get('pod_kept'))
        self.engine.delete_run([build.namespace for build in builds], self.run_id, kept, self.warn)
