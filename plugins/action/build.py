# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Show a build's progress on the controller while the kiln.kaniko.build module runs.

The module does all the work, on the host the task runs on, exactly as it would without this
plugin: the plugin resolves nothing on the controller (no kubeconfig, no file, no module path of
its own) and hands the task's arguments, module_defaults included, to the task's own module.

It starts the module with Ansible's async wrapper, then polls, through the task's connection, with one
shell command each time: the build's log file (the module's ``log_path``) for new lines, and the job's
results file for its end, which ``async_status`` then confirms and returns.
Every ``kiln_kaniko_progress_interval`` seconds it says which build runs and for how long; with
-v it shows the log lines as they arrive. The task's result is the module's result.

An async job outlives ansible-playbook: stopped with Ctrl-C, or cancelled in AWX, the play would leave the
build running. So the plugin names a heartbeat file to the module in the environment
(module_utils/_kaniko/heartbeat.py) and touches it at each poll, and it watches for the end of the play
(plugin_utils/_job_end.py): SIGINT or SIGTERM to its worker, or ansible-playbook gone from under it. Then
it writes STOP into the heartbeat, and the module stops the build at once, deleting its pod and Secret;
the plugin waits for that, up to STOP_WAIT seconds. When every process of the play is killed at once,
the module stops the build once the heartbeat is a minute old. A module run plainly (no progress) on this
host is ended with the worker.

It runs the module plainly, without progress, in check mode, when the task sets ``async`` itself,
when the connection cannot run async jobs, and when the variable ``kiln_kaniko_progress`` is false.
Log lines are not shown for tasks with ``no_log``.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import signal
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.heartbeat import HEARTBEAT_ENV, STOP
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import build
from ansible_collections.kiln.kaniko.plugins.plugin_utils._build_progress import (
    CHUNK_MAX,
    Cadence,
    LogFollower,
    async_limit,
    describe_build,
    format_duration,
    item_names,
    section_source,
)
from ansible_collections.kiln.kaniko.plugins.plugin_utils._job_end import JobEnd, JobEnded

display = Display()

# Keys async_status adds to the module's result.
_JOB_KEYS = ('ansible_job_id', 'started', 'finished', 'results_file')
# How ansible's async wrapper's results file begins while the job runs, and what the poll prints otherwise.
RUNNING_MARK = '{"started": true, "finished": false'
ENDED_MARK = 'kiln-job-ended'


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    # Seconds between two polls of the job, from the first to the longest. A poll is one shell command:
    # it touches the heartbeat, reads what the log has new and looks whether the job's results file still
    # says it runs; async_status, a module run, is asked only when that says the job ended, and every
    # STATUS_EVERY seconds in any case.
    poll_first = 0.2
    poll_interval = 1.0
    status_every = 10.0
    # Once the play has ended: how long to wait for the module to stop the build, and how often to look.
    stop_wait = 30.0
    stop_poll = 0.5

    def __init__(self, *args, **kwargs):
        super(ActionModule, self).__init__(*args, **kwargs)
        self._clock = time.monotonic
        self._sleep = time.sleep
        self._job_end = JobEnd
        self._end = None
        self._names = []

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}

        if self._task.async_val:
            # The task asked for async itself: behave as any module does.
            wrap_async = not self._connection.has_native_async
            result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result

        if not self._progress_wanted(task_vars):
            # Run plainly, the module is a child of this worker: once ansible-playbook is gone, SIGTERM to
            # the worker ends both (the worker's own handler signals its process group).
            end = self._job_end(signals=()).start(on_orphan=lambda: os.kill(os.getpid(), signal.SIGTERM))
            try:
                result = merge_hash(result, self._execute_module(task_vars=task_vars))
            finally:
                end.close()
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return result

        self._end = self._job_end().start()
        try:
            result = merge_hash(result, self._run_with_progress(task_vars))
        finally:
            if self._end.signum is None:
                self._end.close()
            else:
                self._end.pass_on()  # the signal that ended the play, now that the build is stopped
        return result

    # ------------------------------------------------------------------ decisions

    def _var(self, task_vars, name, default):
        value = task_vars.get(name, default)
        return self._templar.template(value) if isinstance(value, str) else value

    def _progress_wanted(self, task_vars):
        if self._task.check_mode:
            return False
        if self._connection.has_native_async or self._connection.always_pipeline_modules:
            return False
        try:
            return boolean(self._var(task_vars, 'kiln_kaniko_progress', True), strict=True)
        except TypeError as exc:
            raise AnsibleActionFail('kiln_kaniko_progress must be true or false: {0}'.format(exc)) from exc

    def _interval(self, task_vars):
        value = self._var(task_vars, 'kiln_kaniko_progress_interval', 30)
        try:
            return max(1.0, float(value))
        except (TypeError, ValueError) as exc:
            raise AnsibleActionFail('kiln_kaniko_progress_interval must be a number of seconds, not {0!r}'.format(
                value)) from exc

    # ------------------------------------------------------------------ the run

    def _run_with_progress(self, task_vars):
        args = dict(self._task.args)
        label, short = describe_build(args)
        self._names = item_names(args)
        host = task_vars.get('inventory_hostname', '')
        quiet = bool(self._task.no_log or self._play_context.no_log)
        interval = self._interval(task_vars)

        own_dir = own_log = beat_path = None
        log_path = args.get('log_path')
        if not self._is_become_unprivileged():
            # The heartbeat, and the log unless the task names one, go to a directory of our own: the
            # async wrapper removes the module's directory when the module ends, maybe before the last
            # lines were read.
            own_dir = self._make_tmp_path()
            self._connection._shell.tmpdir = None
            beat_path = self._connection._shell.join_path(own_dir, 'heartbeat')
            if not log_path and not quiet:
                own_log = log_path = self._connection._shell.join_path(own_dir, 'build.log')
                args['log_path'] = log_path
        if quiet:
            log_path = None

        saved_async = self._task.async_val
        saved_environment = self._task.environment
        limit = async_limit(args, build.default('timeout'), default_retries=build.default('retries'))
        self._task.async_val = limit
        job = None
        over = True  # whether the job has ended, so that its files can go
        try:
            try:
                if beat_path:
                    self._poll_files(None, None, beat_path)
                    self._task.environment = list(saved_environment or []) + [{HEARTBEAT_ENV: beat_path}]
                job = self._execute_module(module_args=args, task_vars=task_vars, wrap_async=True)
                if job.get('failed') or not job.get('ansible_job_id'):
                    return job
                result = self._follow(job, task_vars, host, label, short, log_path, interval, beat_path)
            except JobEnded as ended:
                result, over = self._stop_job(job, task_vars, host, label, beat_path, ended.reason)
        finally:
            self._task.async_val = saved_async
            self._task.environment = saved_environment
            if over and job and job.get('ansible_job_id') and job.get('results_file'):
                self._forget_job(job, task_vars)
            if own_dir and over:
                self._remove_tmp_path(own_dir, force=True)

        for key in _JOB_KEYS:
            result.pop(key, None)
        if own_log:
            module_args = (result.get('invocation') or {}).get('module_args')
            if isinstance(module_args, dict):
                module_args['log_path'] = self._task.args.get('log_path')
        if result.get('failed') and result.get('msg') == 'Timeout exceeded':
            result['msg'] = ('The build module was stopped after {0}s, longer than its own timeout allows; '
                             'check the build pod in the cluster').format(limit)
        return result

    def _follow(self, job, task_vars, host, label, short, log_path, interval, beat_path=None):
        started = self._clock()
        cadence = Cadence(started, first=min(10.0, interval), every=interval)
        follower = LogFollower()
        status_args = dict(jid=job['ansible_job_id'], _async_dir=posixpath.dirname(job['results_file']))
        results_file = job['results_file']
        display.vv('[{0}] {1}: build started'.format(host, label))
        wait = self.poll_first
        asked = started
        while True:
            self._pause(wait)
            wait = min(self.poll_interval, wait * 2)
            lines, ended = self._poll_files(log_path, follower, beat_path, results_file)
            self._show_lines(host, short, lines)
            now = self._clock()
            if ended or now - asked >= self.status_every or not results_file:
                asked = now
                status = self._execute_module(module_name='ansible.legacy.async_status',
                                              module_args=dict(status_args), task_vars=task_vars, wrap_async=False)
                if status.get('finished') or 'finished' not in status:  # ended, or async_status itself failed
                    break
                if ended:
                    # The results file cannot be read that way (another user's, say): ask async_status each time.
                    results_file = None
                    wait = self.poll_interval * 2
            if cadence.due(now):
                shown = follower.section and not self._names and not log_sections.is_retry(follower.section)
                where = ', {0}'.format(follower.section) if shown else ''
                display.display('[{0}] {1}: building for {2}{3}'.format(host, label, format_duration(now - started), where))
        if log_path:
            while True:  # the rest of a log longer than one chunk
                lines = self._read_log(log_path, follower)
                if not lines:
                    break
                self._show_lines(host, short, lines)
            self._show_lines(host, short, follower.flush())
        display.v('[{0}] {1}: ended after {2}'.format(host, label, format_duration(self._clock() - started)))
        return status

    def _pause(self, seconds):
        """Sleep between two polls; raise JobEnded when the play ends meanwhile."""
        if self._end is None:
            self._sleep(seconds)
        elif self._end.wait(seconds):
            raise JobEnded(self._end.reason)

    def _stop_job(self, job, task_vars, host, label, beat_path, reason):
        """The play has ended: have the module stop the build (STOP in the heartbeat) and wait for it.

        Returns (result, whether the job ended). The job's files stay when it did not, so that the module
        still finds the heartbeat; it then stops the build once the heartbeat is a minute old."""
        if not beat_path:
            return dict(failed=True, msg='{0}; the build could not be told to stop (no heartbeat file: become '
                                         'to an unprivileged user) and may still run'.format(reason)), True
        self._low_level_execute_command('printf {0} > {1}'.format(STOP, shlex.quote(beat_path)), sudoable=True)
        display.warning('[{0}] {1}: {2}; stopping the build'.format(host, label, reason))
        if not job or not job.get('ansible_job_id'):
            return dict(failed=True, msg='{0} before the build started'.format(reason)), False
        deadline = self._clock() + self.stop_wait
        while self._clock() < deadline:
            if self._poll_files(None, None, results_file=job.get('results_file'))[1]:
                status = self._execute_module(
                    module_name='ansible.legacy.async_status', task_vars=task_vars, wrap_async=False,
                    module_args=dict(jid=job['ansible_job_id'], _async_dir=posixpath.dirname(job['results_file'])))
                status['msg'] = '{0}: {1}'.format(reason, status.get('msg', 'the build was stopped'))
                return dict(status, failed=True), True
            self._sleep(self.stop_poll)
        return dict(failed=True, msg='{0}; the build was told to stop but had not ended after {1:.0f} s'.format(
            reason, self.stop_wait)), False

    def _read_log(self, log_path, follower):
        return self._poll_files(log_path, follower)[0]

    def _poll_files(self, log_path, follower, beat_path=None, results_file=None):
        """Touch the heartbeat (when there is one), read what the log has new, and look whether the async
        job still runs, in one command; returns (new log lines, whether the job seems to have ended)."""
        commands = []
        if beat_path:
            commands.append('touch {0}'.format(shlex.quote(beat_path)))
        if log_path:
            quoted = shlex.quote(log_path)
            commands.append('if [ -f {0} ]; then tail -c +{1} {0} | head -c {2}; fi'.format(
                quoted, follower.offset + 1, CHUNK_MAX))
        if results_file:
            # The async wrapper writes RUNNING_MARK first, then replaces the file with the module's result.
            commands.append("head -c {0} {1} 2>/dev/null | grep -qF '{2}' || echo {3} >&2".format(
                len(RUNNING_MARK), shlex.quote(results_file), RUNNING_MARK, ENDED_MARK))
        if not commands:
            return [], False
        res = self._low_level_execute_command('; '.join(commands), sudoable=True, encoding_errors='surrogate_or_replace')
        ended = bool(results_file) and ENDED_MARK in (res.get('stderr') or '')
        if res.get('rc') != 0 or not log_path:
            return [], ended
        return follower.feed(to_bytes(res.get('stdout') or '', errors='surrogate_or_strict')), ended

    def _show_lines(self, host, short, lines):
        for section, line in lines:
            source = section_source(section, short, self._names)
            if log_sections.is_retry(section):  # a build that runs again as a new pod: shown at any verbosity
                display.display('[{0}] {1}: {2}'.format(host, source, line))
            else:
                display.v('[{0}] {1} | {2}'.format(host, source, line))

    def _forget_job(self, job, task_vars):
        """Remove the job's result file, as async_status in cleanup mode does (without a module run)."""
        del task_vars
        res = self._low_level_execute_command('rm -f {0}'.format(shlex.quote(job['results_file'])), sudoable=True)
        if res.get('rc') != 0:  # the result is what counts; a leftover job file is only untidy
            display.vvv('Could not remove the async job file {0}: {1}'.format(job['results_file'], res.get('stderr')))
