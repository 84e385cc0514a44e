# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the builds of one task, one or many, along one path.

Every build is prepared (run/prepare.py: checked against the engine and identified: commit, build key,
skip) before any pod is created. The builds that must run then run as pods (lifecycle.Build), at most
max_concurrent at a time, through scheduler.Scheduler and one watch per namespace on the run's
label. Each build gets its result, in order. A signal or an error of the cluster deletes every pod
and Secret of the run that is not a finished build's pod kept on purpose (keep_pod).
"""

from __future__ import annotations

import binascii
import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Sequence, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.signals import raise_on_signals
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.log_file import SectionWriter, writer_for
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import (
    Credentials,
    Engine,
    EventSource,
    Warn,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import Decision
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import RemoteResolver
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import multiarch
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.lifecycle import Build
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.prepare import (
    NamespaceChecks,
    Prepared,
    check_log_path,
    open_log,
    prepare,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.scheduler import Scheduler
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import attach, check, steps

# Builds prepared side by side: their checks and registry lookups are short requests, mostly waiting.
PREPARE_THREADS = 8


def new_run_id() -> str:
    return binascii.hexlify(os.urandom(5)).decode('ascii')


class BuildRun:
    """The builds of ``specs`` through ``engine`` (an engines/base.py Engine).

    ``secrets`` (the engine's Credentials), ``resolver`` (identity/commit.py's RemoteResolver) and ``lookup``
    (identity/lookup.py's RegistryLookup) serve the preparation. ``items`` says that the builds are the items of
    the option builds: their warnings then name them (``builds[2]: ...``). ``log_path`` is the file the builds
    without a log_path of their own share (headers name each build).
    """

    def __init__(self, engine: Engine, specs: Iterable[BuildSpec], max_concurrent: int, secrets: Credentials,
                 check_mode: bool = False, warn: Warn | None = None, clock: Callable[[], float] = time.monotonic,
                 resolver: RemoteResolver | None = None, lookup: RegistryLookup | None = None,
                 log_path: str | None = None, watch_factory: Callable[[list[str], str], EventSource] | None = None,
                 items: bool = True) -> None:
        self.engine = engine
        self.specs = list(specs)
        self.max_concurrent = max_concurrent
        self.secrets = secrets
        self.check_mode = check_mode
        self.warn: Warn = warn or (lambda message: None)
        self.items = items
        self.clock = clock
        self.resolver = resolver
        self.lookup = lookup
        self.log_path = log_path
        self.run_id = new_run_id()
        self.watch_factory = watch_factory or engine.watch
        # What runs: one unit per build, one per platform of a build of platforms (run/multiarch.py).
        self.units, self.groups = multiarch.expand(self.specs)
        self.group_of = dict((unit, group) for group in self.groups for unit in group.units)
        self.prepared: list[Prepared | None] = [None] * len(self.units)
        # {build index: (index digest, images)}: builds of platforms whose destinations hold their index already.
        self.indexed: dict[int, tuple[str, list[str]]] = {}
        # The error of each build that failed, by index (its result says the same, with failed and msg).
        self.failures: dict[int, KilnError] = {}
        self.peak = 0

    def warn_for(self, unit: int) -> Warn:
        """The warn function of unit ``unit``: it names the item of builds and the platform."""
        group = self.group_of[unit]
        where = []
        if self.items:
            where.append('builds[{0}]'.format(group.index))
        if group.multi:  # a unit of platforms has its platform
            where.append(cast(str, self.units[unit].platform))
        if not where:
            return self.warn
        return lambda message: self.warn('{0}: {1}'.format(' '.join(where), message))

    def prepare(self) -> dict[int, KilnError]:
        """Prepare every build; return {index: KilnError} of those that could not be (empty when all could)."""
        check_log_path(self.log_path)
        for group in self.groups:
            if group.multi:  # its platforms write to it side by side (each unit has no log_path of its own)
                check_log_path(group.spec.log_path)
        failed: dict[int, KilnError] = {}
        namespaces = NamespaceChecks(self.engine)

        def one(unit: int) -> None:
            try:
                self.prepared[unit] = prepare(self.units[unit], self.engine, self.secrets, self.resolver,
                                              self.lookup, self.warn_for(unit), namespaces)
            except KilnError as exc:
                failed[unit] = exc

        with ThreadPoolExecutor(max_workers=min(PREPARE_THREADS, len(self.units))) as pool:
            list(pool.map(one, range(len(self.units))))
        errors: dict[int, KilnError] = {}
        for unit in sorted(failed):  # the first platform's error stands for its build
            errors.setdefault(self.group_of[unit].index, failed[unit])
        ready = [group for group in self.groups if group.index not in errors]
        errors.update(multiarch.check_nodes(ready, self.units, self.engine.nodes, self.warn))
        for group in ready:
            if group.multi and group.index not in errors and self.lookup is not None:
                found = multiarch.index_decision(group, self._ready(), self.lookup)
                if found:
                    self.indexed[group.index] = found
        return errors

    def release(self) -> None:
        for prepared in self.prepared:
            if prepared is not None:
                prepared.release()

    def _ready(self) -> list[Prepared]:
        """self.prepared, read where each unit it is read for has its Prepared: after a prepare() without error,
        and in prepare() for the units of builds without one."""
        return cast(List[Prepared], self.prepared)

    def _label(self, unit: int) -> str:
        """The prefix of the log sources of ``unit`` in a shared log: its item of builds, its platform."""
        group = self.group_of[unit]
        prefix = log_sections.item_prefix(group.index) if self.log_path is not None else ''
        if group.multi:
            prefix += log_sections.platform_prefix(cast(str, self.units[unit].platform))
        return prefix

    def run(self) -> list[dict[str, Any]]:
        """The result of each build, in order (each with ``failed``); raises KilnError when the run was stopped
        (a signal, the cluster lost), with the results so far in ``details['results']``."""
        outcomes: list[dict[str, Any] | None] = [None] * len(self.units)
        builds = []
        for unit, prepared in enumerate(self._ready()):
            decision = cast(Decision, prepared.decision)  # prepare() decided
            if decision.skip and prepared.spec.supply_only is None:
                skipped = dict(results.skipped(decision, prepared.identity()), failed=False)
                if steps.wanted(prepared.spec):  # skipped: the registry holds the image, by its digest
                    skipped.update(steps.references(prepared.spec, cast(str, decision.digest)),
                                   signed=bool(prepared.spec.sign))
                outcomes[unit] = skipped
            elif self.check_mode:
                preview = self.engine.preview(prepared.spec, prepared.registry_key, self.run_id)
                outcomes[unit] = dict(results.check_mode(preview, decision, prepared.identity()), failed=False)
            else:
                builds.append((unit, Build(prepared, self.engine, self.run_id, self.clock, self.warn_for(unit),
                                           label=self._label(unit))))
        if builds:
            try:
                self._run(builds, outcomes)
            except KilnError as exc:
                exc.details['results'] = self._by_build(exc.details.get('results') or outcomes, partial=True)
                raise
        if not self.check_mode:
            self._sbom_artifacts({unit: build.sbom_document for unit, build in builds}, outcomes)
            self._sbom_files(outcomes)
        concluded = cast(List[Dict[str, Any]], self._by_build(outcomes))  # every unit has its outcome now
        if not self.check_mode:
            self._sign_indexes(concluded)
        return concluded

    def _sign_indexes(self, concluded: list[dict[str, Any]]) -> None:
        """Sign the index of each build of platforms with sign whose index lacks the signature: by a pod of the sign
        step alone, after the platforms' pods (each of which signed its own image)."""
        pending = []
        for group, result in zip(self.groups, concluded):
            spec, first = group.spec, self._ready()[group.units[0]]
            if not (group.multi and spec.sign and not result.get('failed') and result.get('digest')):
                continue
            index = dataclasses.replace(spec, platforms=(), platform=None, sbom=None, log_path=None)
            result['signatures'] = steps.references(index, result['digest'])['signatures']
            result['signed'] = all(entry.get('signed') for entry in result.get('manifests') or ())
            lookup = cast(RegistryLookup, self.lookup)  # edge.run gives one
            if not check.missing(index, lookup, result['digest'], first.public_key, self.warn)[0]:
                continue
            prepared = Prepared(dataclasses.replace(index, supply_only=steps.supply_only(
                index, result['digest'], result['images'], sign=True, attest=False)))
            prepared.registry_key, prepared.decision = first.registry_key, first.decision
            pending.append((group.units[0], Build(prepared, self.engine, self.run_id, self.clock,
                                                  self.warn_for(group.units[0]), label=self._label(group.units[0]))))
        if not pending:
            return
        outcomes: list[dict[str, Any] | None] = [None] * len(self.units)
        self._run(pending, outcomes)
        for unit, build in pending:
            group = self.group_of[unit]
            result = concluded[group.index]
            ended = cast(Dict[str, Any], build.result)  # the run gave each build its result
            if ended.get('failed'):
                result.update(failed=True, signed=False, pod_name=ended.get('pod_name'),
                              pod_kept=bool(ended.get('pod_kept')), msg='index: ' + ended['msg'])
                for key in multiarch.FAILURE_KEYS:
                    if key in ended:
                        result[key] = ended[key]
                self.failures.setdefault(group.index, BuildFailed(result['msg'], result))
            else:
                result['changed'] = True

    def _sbom_artifacts(self, documents: dict[int, bytes | None], outcomes: Sequence[dict[str, Any] | None]) -> None:
        """Attach the unsigned SBOM each build's pod handed over (supply/attach.py), or find where the registry holds
        it, into the result's sbom.references."""
        for unit, prepared in enumerate(self._ready()):
            spec, result = prepared.spec, outcomes[unit]
            if not (spec.sbom and not spec.sign and result and not result.get('failed') and result.get('digest')):
                continue
            lookup = cast(RegistryLookup, self.lookup)  # edge.run gives one
            try:
                document = documents.get(unit)
                found = (attach.attach(spec, lookup, result['digest'], document) if document is not None
                         else attach.existing(spec, lookup, result['digest']))
            except KilnError as exc:
                self._unit_failed(unit, result, exc)
                continue
            result['sbom'] = dict(result.get('sbom') or {}, references=found)

    def _sbom_files(self, outcomes: Sequence[dict[str, Any] | None]) -> None:
        """Write the SBOM of each build with sbom.dest that has its image (built, or held already) to that file."""
        for unit, prepared in enumerate(self._ready()):
            spec, result = prepared.spec, outcomes[unit]
            if not (spec.sbom and spec.sbom.dest and result and not result.get('failed') and result.get('digest')):
                continue
            try:
                lookup = cast(RegistryLookup, self.lookup)  # edge.run gives one
                changed, sha256 = check.write_sbom(spec, lookup, result['digest'])
            except KilnError as exc:
                self._unit_failed(unit, result, exc)
                continue
            result['sbom'] = dict(result.get('sbom') or {}, sha256=sha256)
            result['changed'] = bool(result.get('changed') or changed)

    def _unit_failed(self, unit: int, result: dict[str, Any], exc: KilnError) -> None:
        """A step after the build failed ``unit``: its result says so, and, unless it is one platform of several, so does
        its task's failure."""
        result.update(failed=True, msg=exc.message)
        if not self.group_of[unit].multi:
            self.failures.setdefault(self.group_of[unit].index, exc)

    def _by_build(self, outcomes: Sequence[dict[str, Any] | None],
                  partial: bool = False) -> list[dict[str, Any] | None]:
        """The results of the builds from those of the units; a build of platforms writes its index here."""
        results_ = []
        for group in self.groups:
            if not group.multi:
                results_.append(outcomes[group.units[0]])
                continue
            unit_results = [outcomes[unit] or {} for unit in group.units]
            if partial:
                results_.append(dict(unit_results[0], manifests=unit_results))
            elif self.check_mode:
                results_.append(dict(unit_results[0], pods=[result.get('pod') for result in unit_results],
                                     platforms=list(group.spec.platforms)))
            else:
                result = multiarch.conclude(group, unit_results, self._ready(), cast(RegistryLookup, self.lookup),
                                            self.indexed.get(group.index))  # edge.run gives a lookup
                if result.get('failed'):
                    self.failures.setdefault(group.index, BuildFailed(result['msg'], result))
                results_.append(result)
        return results_

    def _logs(self, indexed: Sequence[tuple[int, Build]]) -> list[SectionWriter]:
        """The shared logs: the run's (builds without a log_path of their own) and each build of platforms'."""
        run_log = writer_for(open_log(self.log_path))
        logs = [run_log] if run_log else []
        group_logs = {}
        for unit, build in indexed:
            group = self.group_of[unit]
            if group.multi and group.spec.log_path:
                if group.index not in group_logs:
                    group_logs[group.index] = cast(SectionWriter, writer_for(open_log(group.spec.log_path)))  # a file
                    logs.append(group_logs[group.index])
                build.run_log = group_logs[group.index]
            else:
                build.run_log = run_log
        return logs

    def _run(self, indexed: Sequence[tuple[int, Build]], outcomes: list[dict[str, Any] | None]) -> None:
        builds = [build for _index, build in indexed]
        logs = self._logs(indexed)
        for unit, build in indexed:
            build.siblings = [other for other_unit, other in indexed
                              if other is not build and self.group_of[other_unit] is self.group_of[unit]]
        watch = self.watch_factory(sorted(set(build.namespace for build in builds)), self.run_id)
        scheduler = Scheduler(builds, self.max_concurrent, watch, self.clock, exists=self.engine.exists)
        try:
            watch.start()
            with raise_on_signals():
                scheduler.run()
        except Exception as exc:  # interrupted, or the API server failed or became unreachable: leave no pod behind
            self._abort(builds)
            error = exc if isinstance(exc, KilnError) else self.engine.lost(exc, len(builds))
            error.details.update(changed=self._started(builds),
                                 results=self._partial(indexed, outcomes, error.message))
            if error is exc:
                raise
            raise error from exc
        finally:
            watch.stop()
            for log in logs:
                log.close()
        self.peak = scheduler.peak
        for unit, build in indexed:
            outcomes[unit] = build.result
            if build.error is not None and not self.group_of[unit].multi:
                self.failures[self.group_of[unit].index] = build.error

    @staticmethod
    def _started(builds: Iterable[Build]) -> bool:
        return any(build.started for build in builds)

    @staticmethod
    def _partial(indexed: Iterable[tuple[int, Build]], outcomes: Sequence[dict[str, Any] | None],
                 why: str) -> list[dict[str, Any] | None]:
        partial = list(outcomes)
        for index, build in indexed:
            partial[index] = build.result or dict(build.details(), failed=True, msg='Not finished: ' + why)
        return partial

    def _abort(self, builds: Iterable[Build]) -> None:
        """Delete every pod and Secret of the run but the finished builds' pods kept on purpose."""
        for build in builds:
            build.abort()
        kept = set((build.namespace, (build.result or {}).get('pod_name')) for build in builds
                   if (build.result or {}).get('pod_kept'))
        self.engine.delete_run([build.namespace for build in builds], self.run_id, kept, self.warn)
