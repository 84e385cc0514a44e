# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the list of builds of the option ``builds``: the orchestration around scheduler.Scheduler.

Every item is validated (items.py), checked against the cluster and identified (commit, build
key, skip) before any pod is created. The builds that must run then run as pods, at most
max_concurrent at a time, followed by one watch per namespace on the run's label. Each item
gets the result a single build would return, in the order of ``builds``; the task fails when
one of them failed, naming each by index and destination, and reports the others as well.
A signal or an error of the cluster deletes every pod and Secret of the run that is not a
finished build's pod kept on purpose (keep_pod).
"""

from __future__ import annotations

import binascii
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.exceptions import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import pod as pod_render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.runner import (
    REQUEST_TIMEOUT,
    BuildRunner,
    _api_message,
    _cluster_error,
    check_log_path,
    log_path_error,
    raise_on_signals,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.logs import writer_for
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.scheduler import RunWatch, Scheduler

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:
    ApiException = None  # require_kubernetes() reports the missing library before anything here runs

DEFAULT_MAX_CONCURRENT = 4
# Builds prepared side by side: their checks and registry lookups are short requests, mostly waiting.
PREPARE_THREADS = 8


def new_run_id():
    return binascii.hexlify(os.urandom(5)).decode('ascii')


def describe_item(index, spec):
    """``builds[2] (registry:5000/app:1)``: the item's index and its first destination, or its source."""
    if spec.destinations:
        what = spec.destinations[0]
    else:
        what = '{0} {1}'.format(spec.git.repo if spec.git else spec.local.path, spec.context_sub_path or '.')
    return 'builds[{0}] ({1})'.format(index, what)


def for_item(exc, index):
    """A KilnError of the whole task from one item's error: the option or the message names the item."""
    details = dict(exc.details)
    option = details.get('option')
    message = exc.message
    if option:
        details['option'] = 'builds[{0}].{1}'.format(index, option)
        if message.startswith(option + ': '):
            return KilnError('builds[{0}].{1}'.format(index, message), details)
    return KilnError('builds[{0}]: {1}'.format(index, message), details)


class BuildJob(object):
    """One item that must build, as the Scheduler sees it."""

    def __init__(self, index, runner, run_log=None):
        self.index = index
        self.runner = runner
        self.run_log = run_log
        self.namespace = runner.spec.namespace
        self.on_running = runner.on_running
        self.timeout = runner.spec.timeout
        self.unschedulable_timeout = runner.spec.unschedulable_timeout
        self.log_file = None
        self.started = False
        self.finished = False
        self.result = None

    def _failed(self, exc):
        result = self.runner._details(self.runner.started)
        result.update(exc.details)
        result.update(failed=True, msg=exc.message)
        self.result = result

    def _close_log(self):
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def start(self):
        try:
            self.log_file = self.runner._open_log()
            if self.log_file:
                pod = self.runner.start(self.log_file)
            else:
                pod = self.runner.start(self.run_log, 'builds[{0}] '.format(self.index) if self.run_log else '')
        except KilnError as exc:
            self._close_log()
            self._failed(exc)
            self.finished = True
            return None
        self.started = True
        return pod

    def events(self):
        return self.runner.pod_events.events(REQUEST_TIMEOUT)

    def finish(self, waited):
        self.finished = True
        try:
            self.result = self.runner.finish(waited)  # its logs went where start() said
            self.result['failed'] = False
        except BuildInterrupted:
            raise  # the whole run stops, and cleans up
        except KilnError as exc:
            self._failed(exc)
        finally:
            self._close_log()

    def abort(self):
        if self.started and not self.finished:
            self.runner.abort()
            self.finished = True
        self._close_log()


class BatchRunner(object):
    """The builds of ``specs`` against the cluster behind ``core`` (a kubernetes CoreV1Api)."""

    def __init__(self, core, specs, max_concurrent=DEFAULT_MAX_CONCURRENT, check_mode=False, warn=None,
                 clock=time.monotonic, secrets=None, resolver=None, lookup=None, log_path=None, watch_factory=None):
        self.core = core
        self.max_concurrent = max_concurrent
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)
        self.clock = clock
        self.log_path = log_path
        self.run_id = new_run_id()
        self.watch_factory = watch_factory or (lambda namespaces, selector: RunWatch(core, namespaces, selector))
        self.runners = []
        for index, spec in enumerate(specs):
            self.runners.append(BuildRunner(
                core, spec, check_mode=check_mode, warn=self._warn_for(index), clock=clock, secrets=secrets,
                resolver=resolver, lookup=lookup, run_id=self.run_id))
        self.peak = 0

    def _warn_for(self, index):
        return lambda message: self.warn('builds[{0}]: {1}'.format(index, message))

    def run(self):
        try:
            return self._run_all()
        finally:
            for runner in self.runners:
                runner.release()

    def _run_all(self):
        check_log_path(self.log_path)
        errors = {}

        def prepare(index):
            try:
                self.runners[index].prepare()
            except KilnError as exc:
                errors[index] = exc

        with ThreadPoolExecutor(max_workers=min(PREPARE_THREADS, len(self.runners))) as pool:
            list(pool.map(prepare, range(len(self.runners))))
        if errors:
            first = min(errors)
            raise for_item(errors[first], first)

        results = [None] * len(self.runners)
        jobs = []
        for index, runner in enumerate(self.runners):
            if runner.decision.skip:
                results[index] = dict(runner.skipped_result(), failed=False)
            elif self.check_mode:
                results[index] = dict(runner.check_mode_result(), failed=False)
            else:
                jobs.append(BuildJob(index, runner))
        if jobs:
            self._run(jobs, results)
        return self._summary(results)

    def _run(self, jobs, results):
        run_log = None
        if self.log_path:
            try:
                run_log = writer_for(open(self.log_path, 'wb'))  # the builds write to it side by side
            except (IOError, OSError) as exc:
                raise log_path_error(self.log_path, exc.strerror or exc)
        for job in jobs:
            job.run_log = run_log
        watch = self.watch_factory(sorted(set(job.namespace for job in jobs)), pod_render.run_selector(self.run_id))
        scheduler = Scheduler(jobs, self.max_concurrent, watch, self.clock, exists=self._exists)
        try:
            watch.start()
            with raise_on_signals():
                scheduler.run()
        except KilnError as exc:  # interrupted
            self._abort(jobs)
            raise KilnError(exc.message, dict(exc.details, changed=self._started(jobs),
                                              results=self._partial(jobs, results, exc.message)))
        except Exception as exc:  # the API server failed or became unreachable: leave no pod behind
            self._abort(jobs)
            if ApiException is not None and isinstance(exc, ApiException):
                error = _cluster_error(exc, 'follow the build pods')
            else:
                error = ClusterError('Lost contact with the build pods: {0}: {1}'.format(type(exc).__name__, exc))
            raise KilnError(error.message, dict(changed=self._started(jobs),
                                                results=self._partial(jobs, results, error.message)))
        finally:
            watch.stop()
            if run_log:
                run_log.close()
        self.peak = scheduler.peak
        for job in jobs:
            results[job.index] = job.result

    @staticmethod
    def _started(jobs):
        return any(job.started for job in jobs)

    @staticmethod
    def _partial(jobs, results, why):
        partial = list(results)
        for job in jobs:
            partial[job.index] = job.result or dict(changed=job.started, failed=True, msg='Not finished: ' + why,
                                                    **job.runner.identity())
        return partial

    def _exists(self, namespace, name):
        try:
            self.core.read_namespaced_pod(name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _abort(self, jobs):
        """Delete every pod and Secret of the run but the finished builds' pods kept on purpose."""
        for job in jobs:
            job.abort()
        kept = set((job.namespace, (job.result or {}).get('pod_name')) for job in jobs
                   if (job.result or {}).get('pod_kept'))
        selector = pod_render.run_selector(self.run_id)
        for namespace in sorted(set(job.namespace for job in jobs)):
            for kind, listing, delete in (
                    ('pod', self.core.list_namespaced_pod, self.core.delete_namespaced_pod),
                    ('secret', self.core.list_namespaced_secret, self.core.delete_namespaced_secret)):
                try:
                    found = listing(namespace, label_selector=selector, _preload_content=False,
                                    _request_timeout=REQUEST_TIMEOUT)
                    for item in json.loads(found.data).get('items') or []:
                        name = item['metadata']['name']
                        if (namespace, name) in kept:
                            continue
                        delete(name, namespace, grace_period_seconds=0, propagation_policy='Background',
                               _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
                except ApiException as exc:
                    if exc.status != 404:
                        self.warn('Could not delete the {0}s of this run in {1}: {2}'.format(
                            kind, namespace, _api_message(exc)))
                except Exception as exc:  # the cluster is gone too: say what may be left
                    self.warn('Could not delete the {0}s of this run in {1} (label {2}): {3}'.format(
                        kind, namespace, selector, exc))

    def _summary(self, results):
        specs = [runner.spec for runner in self.runners]
        changed = any(result.get('changed') for result in results)
        failed = [index for index, result in enumerate(results) if result.get('failed')]
        skipped = sum(1 for result in results if result.get('skipped_reason'))
        built = len(results) - skipped - len(failed)
        counts = '{0} built, {1} skipped, {2} failed'.format(built, skipped, len(failed))
        if self.check_mode:
            counts = '{0} would build, {1} would be skipped'.format(len(results) - skipped, skipped)
        if failed:
            reasons = '; '.join('{0}: {1}'.format(describe_item(index, specs[index]), results[index].get('msg'))
                                for index in failed)
            raise KilnError('{0} of {1} builds failed ({2}): {3}'.format(len(failed), len(results), counts, reasons),
                            dict(changed=changed, results=results))
        return dict(changed=changed, results=results, msg='{0} builds: {1}'.format(len(results), counts))
