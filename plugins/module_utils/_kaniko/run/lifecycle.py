# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The life of one build that must run, as the Scheduler drives it.

start: the engine creates the registry Secret and the pod (signals held meanwhile), the log follow
begins -> on each look while it runs: a local context is sent in once the receive container runs
-> finish: the logs are read to their end, a tarball or an unsigned SBOM is brought out, run/results.py says what the
result is and what is kept, and that is carried out -> abort: delete the Secret and the pod at once.
A pod lost through no fault of the build (pod/disruption.py) is let go with its Secret at once, and, while
retries allows, the Scheduler starts the build again as a new pod kept off the node that was lost (retry).
Every failure of one build is held in its result; an interruption is raised, for the run to stop.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, BinaryIO, Callable, Sequence, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import archive
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.log_file import SectionWriter, writer_for
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import (
    Engine,
    LogFollower,
    LogWriter,
    Warn,
    Workload,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildInterrupted, EngineError, TransferError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import disruption
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import execs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.prepare import Prepared, open_log
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.waiter import WaitResult
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import Tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.signals import (
    held_signals,
    ignored_signals,
    raise_on_signals,
)


class Build:
    """One prepared build (prepare.Prepared) that must run; ``result`` holds its result once it has ended.

    ``run_log`` (a SectionWriter) is the log file the builds of a run share, used under ``label`` when the
    build has no log_path of its own.
    """

    def __init__(self, prepared: Prepared, engine: Engine, run_id: str, clock: Callable[[], float], warn: Warn,
                 run_log: SectionWriter | None = None, label: str = '') -> None:
        self.prepared = prepared
        self.spec = spec = prepared.spec
        self.engine = engine
        self.run_id = run_id
        self.clock = clock
        self.warn = warn
        self.run_log = run_log
        self.label = label
        self.namespace = spec.namespace
        self.timeout = spec.timeout
        self.unschedulable_timeout = spec.unschedulable_timeout
        self.workload = Workload(spec.namespace)
        self.logs: LogFollower | None = None
        self.log_file: BinaryIO | None = None
        # Where the logs of every pod of the build go, and under which prefix (set by the first start()).
        self.writer: tuple[LogWriter | None, str] | None = None
        # The pods of this build that were lost before the one that runs (results.attempt).
        self.attempts: list[dict[str, Any]] = []
        self.started_at: float | None = None
        self.sent = False
        self.finished = False
        self.result: dict[str, Any] | None = None
        self.error: KilnError | None = None
        # The unsigned SBOM read out of the attach container (sbom without sign), for supply/attach.py.
        self.sbom_document: bytes | None = None
        # The builds of the other platforms of the same build (run/build_run.py sets them).
        self.siblings: Sequence[Build] = ()

    @property
    def pod_name(self) -> str | None:
        return self.workload.pod_name

    @property
    def _created_name(self) -> str:
        """The name of the pod start() created: what the engine is asked about once the build runs."""
        return cast(str, self.pod_name)

    @property
    def started(self) -> bool:
        return self.started_at is not None

    def details(self) -> dict[str, Any]:
        """The result keys of this build while it has no result of its own."""
        duration = None if self.started_at is None else round(self.clock() - self.started_at, 1)
        result = results.not_finished(self.pod_name, self.prepared.identity(), duration)
        if self.attempts:
            result['attempts'] = list(self.attempts)
        return result

    def _failed(self, exc: KilnError) -> None:
        result = self.details()
        result.update(exc.details)
        result.update(failed=True, msg=exc.message)
        self.result = result
        self.error = exc

    def _close_log(self) -> None:
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def start(self) -> dict[str, Any] | None:
        """Create the pod and follow its logs; return the created pod, or None when it could not be created
        (the failure is then in ``result``, and nothing is left behind)."""
        try:
            if self.writer is None:  # the pods of a build that runs again write on in the same log
                self.log_file = open_log(self.spec.log_path)
            with held_signals():
                self.engine.create(self.spec, self.workload, self.prepared.registry_key, self.run_id)
        except KilnError as exc:
            self._cleanup(delete_pod=True, running=True)
            self._close_log()
            self.finished = True
            if isinstance(exc, BuildInterrupted):
                exc.details.update(self.details())
                raise
            self._failed(exc)
            return None
        self.started_at = self.clock()
        if self.writer is None:
            self.writer = (writer_for(self.log_file), '') if self.log_file else (self.run_log, self.label)
        writer, label = self.writer
        containers = render.log_containers(self.spec)
        self.logs = self.engine.follow_logs(self.namespace, self._created_name, containers, writer, label,
                                            self.spec.log_lines)
        return self.workload.pod

    def events(self) -> list[dict[str, Any]]:
        return self.engine.events(self.namespace, self._created_name)

    def node_check(self, node: str) -> Tuple[str, str] | None:
        """What the engine knows of ``node`` when it is lost or gone (see waiter.PodWait), else None."""
        return self.engine.lost_node(node)

    def retry(self, waited: WaitResult) -> bool:
        """Let go of a pod lost through no fault of the build (``waited.outcome.loss``) and, while retries
        allows, make ready to run the build again: True when start() is to make the new pod (a fresh name, kept
        off the node that was lost). The lost pod goes at once (grace 0: the kubelet of a lost node never
        confirms), with its Secret; what ran in it is named in the result's attempts."""
        loss = waited.outcome.loss
        if loss is None or len(self.attempts) >= self.spec.retries:
            return False
        self.attempts.append(results.attempt(self.pod_name, waited.outcome, waited.pod))
        self._cleanup(delete_pod=True, running=True)
        avoid = self.spec.avoid_nodes
        if loss.keep_off and loss.keep_off not in avoid:
            avoid += (loss.keep_off,)
        self.spec = dataclasses.replace(self.spec, attempt=len(self.attempts) + 1, avoid_nodes=avoid)
        writer, label = self.writer or (None, '')
        if writer is not None:  # the build action shows this line
            writer.write(label + log_sections.RETRY, results.retry_line(self.attempts[-1], self.spec))
        self.workload = Workload(self.spec.namespace)
        self.logs = None
        self.sent = False
        return True

    def on_running(self, pod: dict[str, Any]) -> states.Outcome | None:
        """Send the local context once the receive container runs (see waiter.PodWait); an Outcome if it failed."""
        local = self.spec.local
        if not local or self.sent or not states.container_running(pod, render.RECEIVE):
            return None
        size = cast(int, local.size)  # packed by prepare()
        packed = cast(archive.PackedContext, self.prepared.packed)  # kept until it is sent
        try:
            self.engine.send_file(self.namespace, self._created_name, render.RECEIVE,
                                  execs.receive_command(self.spec, size), packed.file, size)
        except TransferError as exc:
            return states.transfer_failed(render.RECEIVE, states.CONTEXT_NOT_RECEIVED, (
                'could not send the build context ({0}) into the pod: {1}'.format(
                    archive.human_size(size), exc.message)))
        self.sent = True
        if len(self.attempts) >= self.spec.retries:  # no other pod will need it
            self.prepared.release()
        return None

    def finish(self, waited: WaitResult) -> None:
        """Conclude from ``waited`` (a WaitResult that says the build is over); an interruption is raised."""
        self.finished = True
        try:
            self.result = self._conclude(waited)
            self.result['failed'] = False
        except BuildInterrupted:
            raise  # the whole run stops, and cleans up
        except KilnError as exc:
            self._failed(exc)
        finally:
            self._close_log()
            self._forget()

    def _forget(self) -> None:
        """Let go of what an ended build no longer needs: the pod as created (only its name is asked for later) and the
        log follower. A run keeps every build to its end: held that long, they took a task of 500 builds to 133 MB at its
        peak; let go, to 113 MB."""
        name = self.pod_name
        self.workload.pod = {'metadata': {'name': name, 'namespace': self.namespace}} if name else None
        self.logs = None

    def cancel(self, failed: Build) -> None:
        """Give up on this build because ``failed``, another platform of the same build, failed: no pod is
        started, or the pod is deleted at once (its result says so; it is no failure of its own)."""
        self.abort()
        self.finished = True  # a build that never started has ended too
        result = self.details()
        result.update(failed=True, cancelled=True, pod_kept=False,
                      msg='Cancelled: the build of {0} failed'.format(failed.spec.platform))
        self.result = result

    def abort(self) -> None:
        """Give up on a started build: delete its registry Secret and its pod at once."""
        if self.started and not self.finished:
            self._cleanup(delete_pod=True, running=True)
            self.finished = True
        self._close_log()

    def _conclude(self, waited: WaitResult) -> dict[str, Any]:
        duration = round(self.clock() - cast(float, self.started_at), 1)  # a build that ended had started
        logs = cast(LogFollower, self.logs)
        try:
            if waited.outcome.loss is not None:  # what was followed: the node of a lost pod may not answer
                logs.stop(grace=0)
                lines = logs.lines()
            else:
                lines = logs.finish()
        except EngineError as exc:
            self._cleanup(delete_pod=True, running=False)
            exc.details.update(self.details())
            raise
        outcome, pod = waited.outcome, waited.pod or {}
        result = results.ended(self.pod_name, outcome, pod, duration, lines, self.prepared.identity())
        result['attempts'] = self.attempts + [results.attempt(self.pod_name, outcome, waited.pod)]
        if outcome.state == states.SUCCEEDED and self.spec.tarball:
            outcome = self._export(result)
        if outcome.state == states.SUCCEEDED and steps.hands_over(self.spec):
            outcome = self._hand_over(result)
        retention = results.retention(self.spec, outcome, pod)
        if retention.release_export:
            self._release_export(discard=retention.discard_partial)
        if retention.release_sbom:
            self._release(steps.ATTACH, execs.release_sbom_command())
        if outcome.state == states.SUCCEEDED:
            self._cleanup(delete_pod=retention.delete, running=False)
            return results.succeeded(self.spec, result, pod, retention.keep)
        events = self._warning_events()
        self._cleanup(delete_pod=retention.delete, running=retention.running)
        explained = self.engine.explain(outcome)
        if outcome.loss is not None and self.attempts:
            explained = dataclasses.replace(explained, hint=disruption.exhausted_hint(len(self.attempts) + 1))
        raise results.failure(explained, result, events, retention.keep, self.spec, pod)

    def _export(self, result: dict[str, Any]) -> states.Outcome:
        """Bring the tarball out of the pod (tarball.dest) or check it on the claim (tarball.pvc), into ``result``;
        return the outcome (a failed one when that could not be done)."""
        tarball = cast(Tarball, self.spec.tarball)  # asked for a build with a tarball

        def export() -> None:
            if tarball.dest:
                result['tarball'] = self.engine.fetch_tarball(self.namespace, self._created_name, self.spec)
            else:
                result['tarball'] = self.engine.keep_tarball(self.namespace, self._created_name, self.spec)

        return self._transfer(result, render.EXPORT, states.TARBALL_NOT_FETCHED,
                              'could not {0} the tarball'.format('fetch' if tarball.dest else 'check'), export)

    def _hand_over(self, result: dict[str, Any]) -> states.Outcome:
        """Read the unsigned SBOM out of the attach container into ``sbom_document``, checked against the sha256
        the container computes; return the outcome (a failed one when that could not be done)."""

        def hand_over() -> None:
            expected = self.engine.run(self.namespace, self._created_name, steps.ATTACH,
                                       execs.sbom_sha256_command()).strip()
            document = self.engine.run(self.namespace, self._created_name, steps.ATTACH,
                                       execs.sbom_command()).encode('utf-8')
            if hashlib.sha256(document).hexdigest() != expected:
                raise TransferError('read {0} bytes whose sha256 is not the {1!r} of the file syft wrote'.format(
                    len(document), expected[:64]))
            self.sbom_document = document

        return self._transfer(result, steps.ATTACH, states.SBOM_NOT_FETCHED, 'could not read the SBOM', hand_over)

    def _transfer(self, result: dict[str, Any], container: str, code: str, failed: str,
                  transfer: Callable[[], None]) -> states.Outcome:
        """Run ``transfer`` (bytes out of the ended pod) under the signal guard: a TransferError fails the build in
        ``container`` with ``code`` and ``failed: <why>``; an interruption deletes the pod and goes on up."""
        try:
            with raise_on_signals():
                transfer()
        except TransferError as exc:
            outcome = states.transfer_failed(container, code, '{0}: {1}'.format(failed, exc.message))
            result.update(rc=None, container=outcome.container, reason=outcome.reason)
            return outcome
        except KilnError as exc:  # interrupted
            self._cleanup(delete_pod=True, running=True)
            exc.details.update(result)
            raise
        return states.Outcome(states.SUCCEEDED)

    def _release(self, container: str, command: list[str]) -> None:
        """Let a container that waits for the module end (in a pod that stays)."""
        try:
            self.engine.run(self.namespace, self._created_name, container, command)
        except TransferError as exc:
            self.warn('Could not tidy the {0} container of pod {1}: {2}'.format(container, self.pod_name, exc.message))

    def _release_export(self, discard: bool) -> None:
        """Let the export container of a pod that stays end; first remove a partial tarball from the claim."""
        commands = []
        if discard and cast(Tarball, self.spec.tarball).pvc:  # asked for a build with a tarball
            commands.append(execs.discard_command(self.spec))
        commands.append(execs.release_command())
        for command in commands:
            try:
                self.engine.run(self.namespace, self._created_name, render.EXPORT, command)
            except TransferError as exc:
                self.warn('Could not tidy the export container of pod {0}: {1}'.format(self.pod_name, exc.message))
                return

    def _warning_events(self) -> list[str]:
        try:
            return states.warning_messages(self.events())
        except EngineError as exc:
            self.warn('Could not read the events of pod {0}: {1}'.format(self.pod_name, exc.message))
            return []

    def _cleanup(self, delete_pod: bool, running: bool) -> None:
        """Delete the registry Secret (always) and the pod (when asked); SIGINT and SIGTERM are ignored meanwhile."""
        with ignored_signals():
            if delete_pod and running and self.logs is not None:
                self.logs.stop(grace=0)
            deadline = self.spec.timeout + render.DEADLINE_GRACE
            if self.workload.auth_secret:
                self.engine.delete('secret', self.namespace, self.workload.auth_secret, False, self.warn, deadline)
                self.workload.auth_secret = None
            if delete_pod and self.pod_name:
                self.engine.delete('pod', self.namespace, self.pod_name, running, self.warn, deadline)
