# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The build action: runs the task's module as an async job, polls it, shows progress, returns its result.

The connection, the module runs and the clock are stand-ins: nothing runs, nothing sleeps.
"""

from __future__ import annotations

import copy
import posixpath
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.kiln.kaniko.plugins.action import build as build_action

ARGS = dict(namespace='builds', git=dict(repo='http://git/dockercoins.git'), context_sub_path='rng',
            destinations=['registry:5000/dockercoins/rng:1.0'])
RESULT = dict(changed=True, digest='sha256:' + 'a' * 64, msg='Built and pushed', rc=0,
              invocation=dict(module_args=dict(ARGS, log_path='/tmp/ansible-tmp-1/build.log')))


class Display:
    def __init__(self):
        self.lines = []

    def display(self, msg, **kwargs):
        self.lines.append((0, msg))

    def v(self, msg, **kwargs):
        self.lines.append((1, msg))

    def vv(self, msg, **kwargs):
        self.lines.append((2, msg))

    def vvv(self, msg, **kwargs):
        self.lines.append((3, msg))

    def warning(self, msg, **kwargs):
        self.lines.append(('warning', msg))

    def at(self, level):
        return [msg for lvl, msg in self.lines if lvl == level]


class Job:
    """An async job that ends at its ``polls``-th poll of its results file and writes its log in ``chunks``,
    one chunk at each poll."""

    def __init__(self, polls=3, chunks=(), result=None, start=None):
        self.polls = polls
        self.chunks = list(chunks)
        self.log = b''
        self.result = copy.deepcopy(RESULT if result is None else result)
        self.start = start or dict(started=True, finished=False, ansible_job_id='j1.2', changed=True,
                                   results_file='/root/.ansible_async/j1.2')
        self.calls = []
        self.cleaned = False
        self.module_args = None
        self.task_args = None
        self.commands = []
        self.stops_after = 1  # polls of its results file after STOP until it ends; None: never

    def execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False):
        if module_args is None:  # the task's own arguments
            module_args = self.task_args
        self.calls.append((module_name, dict(module_args), wrap_async))
        if module_name is None:
            self.module_args = dict(module_args)
            return dict(self.start)
        assert module_name == 'ansible.legacy.async_status'
        assert module_args['jid'] == 'j1.2'
        assert module_args['_async_dir'] == '/root/.ansible_async'
        assert module_args.get('mode') != 'cleanup'  # the job file is removed with rm, not a module run
        if self.polls > 0:
            return dict(started=True, finished=False, ansible_job_id='j1.2', results_file='/root/.ansible_async/j1.2')
        return dict(self.result, started=True, finished=True, ansible_job_id='j1.2')

    def low_level(self, cmd, sudoable=True, encoding_errors=None, **kwargs):
        # ['touch HEARTBEAT; ']['if [ -f PATH ]; then tail -c +N PATH | head -c M; fi; ']
        # ['head -c N RESULTS 2>/dev/null | grep -qF MARK || echo ENDED >&2']
        self.commands.append(cmd)
        if cmd.startswith('printf stop > '):  # the module stops the build as soon as it reads that
            if self.stops_after is not None:
                self.polls = self.stops_after
                self.result = dict(failed=True, changed=False, pod_name='kiln-build-x', pod_kept=False,
                                   msg='Build interrupted: the play that started it ended (cancelled, interrupted '
                                       'or killed)')
            return dict(rc=0, stdout='', stderr='')
        if cmd == 'rm -f /root/.ansible_async/j1.2':
            self.cleaned = True
            return dict(rc=0, stdout='', stderr='')
        stderr = ''
        if '/root/.ansible_async/j1.2' in cmd:
            assert "grep -qF '{0}'".format(build_action.RUNNING_MARK) in cmd
            if self.chunks:
                self.log += self.chunks.pop(0)
            self.polls -= 1
            if self.polls <= 0:
                stderr = build_action.ENDED_MARK + '\n'
        if 'tail' not in cmd:
            return dict(rc=0, stdout='', stderr=stderr)
        words = cmd.split()
        start = int(words[words.index('-c') + 1].lstrip('+')) - 1
        size = int(words[words.index('head') + 2].rstrip(';'))
        return dict(rc=0, stdout=self.log[start:start + size].decode('utf-8', errors='surrogateescape'), stderr=stderr)


class FakeEnd:
    """JobEnd in the action's terms: the play ends at the ``at``-th wait (never when None), by ``signum`` (or
    because ansible-playbook is gone)."""

    made = []

    def __init__(self, clock, at=None, signum=None, signals=None):
        self.clock = clock
        self.at = at
        self.waits = 0
        self.signals = signals
        self.signum = None
        self.reason = None
        self.end_signum = signum
        self.on_orphan = None
        self.closed = self.passed_on = False
        FakeEnd.made.append(self)

    def start(self, on_orphan=None):
        self.on_orphan = on_orphan
        return self

    def wait(self, seconds):
        self.clock.sleep(seconds)
        self.waits += 1
        if self.at is not None and self.waits >= self.at:
            self.signum = self.end_signum
            self.reason = 'the play was stopped by SIGTERM' if self.signum else 'ansible-playbook is gone'
            return True
        return False

    def close(self):
        self.closed = True

    def pass_on(self):
        self.passed_on = True


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def shown(monkeypatch):
    recorder = Display()
    monkeypatch.setattr(build_action, 'display', recorder)
    return recorder


def make_action(job, args=None, async_val=0, check_mode=False, no_log=False, native_async=False, pipeline_only=False,
                become_unprivileged=False, end_at=None, end_signum=None):
    task = MagicMock()
    task.args = dict(ARGS if args is None else args)
    task.async_val = async_val
    task.check_mode = check_mode
    task.no_log = no_log
    task.action = 'kiln.kaniko.build'
    job.task_args = task.args
    connection = MagicMock()
    connection.has_native_async = native_async
    connection.always_pipeline_modules = pipeline_only
    connection._shell.tmpdir = None
    connection._shell.join_path = posixpath.join
    play_context = MagicMock()
    play_context.no_log = False
    templar = MagicMock()
    templar.template = lambda value: value
    action = build_action.ActionModule(task, connection, play_context, loader=MagicMock(), templar=templar,
                                       shared_loader_obj=None)
    clock = Clock()
    action._clock = clock
    action._sleep = clock.sleep
    FakeEnd.made = []
    action._job_end = lambda **kwargs: FakeEnd(clock, at=end_at, signum=end_signum, **kwargs)
    action._execute_module = MagicMock(side_effect=job.execute_module)
    action._low_level_execute_command = MagicMock(side_effect=job.low_level)
    action._make_tmp_path = MagicMock(return_value='/tmp/ansible-tmp-1')
    action._remove_tmp_path = MagicMock()
    action._is_become_unprivileged = MagicMock(return_value=become_unprivileged)
    action.clock = clock
    return action


def test_the_module_runs_as_a_job_and_its_own_result_comes_back(shown):
    job = Job(polls=3)
    action = make_action(job)
    result = action.run(task_vars=dict(inventory_hostname='localhost'))

    assert result['changed'] is True
    assert result['digest'] == RESULT['digest']
    for key in ('ansible_job_id', 'started', 'finished', 'results_file'):
        assert key not in result
    # The log file we chose for progress is not presented as the user's option.
    assert result['invocation']['module_args']['log_path'] is None
    assert job.module_args['log_path'] == '/tmp/ansible-tmp-1/build.log'
    assert job.calls[0][2] is True  # the module itself ran wrapped in async
    assert job.cleaned
    action._remove_tmp_path.assert_called_once_with('/tmp/ansible-tmp-1', force=True)
    # The task's async_val was only borrowed, for the async wrapper's limit.
    assert action._task.async_val == 0


def test_progress_names_the_build_the_time_and_the_section(shown):
    job = Job(polls=80, chunks=[b'==> clone <==\nkiln clone: fetching\n', b'==> kaniko <==\n'])
    action = make_action(job)
    action.run(task_vars=dict(inventory_hostname='node1', kiln_kaniko_progress_interval=20))

    status = shown.at(0)
    assert status[0] == '[node1] registry:5000/dockercoins/rng:1.0: building for 10s, kaniko'
    assert status[1] == '[node1] registry:5000/dockercoins/rng:1.0: building for 30s, kaniko'
    assert len(status) == 4  # at 10, 30, 50 and 70 s of a 78 s build
    assert shown.at(1)[-1] == '[node1] registry:5000/dockercoins/rng:1.0: ended after 1m18s'


def test_polls_start_fast_and_async_status_runs_only_when_the_job_ended_or_every_10_s(shown):
    job = Job(polls=30)
    action = make_action(job)
    action.run(task_vars=dict(inventory_hostname='h'))
    waits = action.clock.sleeps
    assert waits[:5] == [0.2, 0.4, 0.8, 1.0, 1.0] and max(waits) == 1.0
    statuses = [call for call in job.calls if call[0] and call[1].get('mode') != 'cleanup']
    # 29.4 s in all: at 10 and 20 s (in case the file cannot tell), and at the end.
    assert len(statuses) == 3


def test_a_results_file_that_cannot_tell_falls_back_to_async_status_at_each_poll(shown):
    job = Job(polls=1)  # the file says "ended" from the first poll on
    original = job.execute_module
    answers = []

    def status(module_name=None, module_args=None, task_vars=None, wrap_async=False):
        if module_name and module_args.get('mode') != 'cleanup':
            answers.append(module_name)
            if len(answers) < 3:
                return dict(started=True, finished=False, ansible_job_id='j1.2')
        return original(module_name, module_args, task_vars, wrap_async)
    action = make_action(job)
    action._execute_module.side_effect = status
    result = action.run(task_vars=dict(inventory_hostname='h'))
    assert result['digest'] == RESULT['digest'] and len(answers) == 3
    polls = [cmd for cmd in job.commands if 'grep -qF' in cmd]
    assert len(polls) == 1  # then async_status alone says when it ends


def test_log_lines_are_shown_with_v_as_they_arrive_and_the_last_one_too(shown):
    job = Job(polls=4, chunks=[b'==> kaniko <==\nINFO step 1\nINFO st', b'ep 2\n', b'', b'INFO pushed'])
    action = make_action(job)
    action.run(task_vars=dict(inventory_hostname='localhost'))

    lines = [line for line in shown.at(1) if ' | ' in line]
    assert lines == ['[localhost] rng:1.0 | INFO step 1', '[localhost] rng:1.0 | INFO step 2',
                     '[localhost] rng:1.0 | INFO pushed']


def test_a_log_longer_than_one_read_is_read_to_its_end(shown, monkeypatch):
    monkeypatch.setattr(build_action, 'CHUNK_MAX', 10)
    job = Job(polls=1, chunks=[b''.join(b'line %02d\n' % n for n in range(30))])
    action = make_action(job)
    action.run(task_vars=dict(inventory_hostname='h'))
    assert len([line for line in shown.at(1) if ' | ' in line]) == 30


def test_a_log_path_of_the_user_is_followed_and_kept(shown):
    job = Job(polls=2, chunks=[b'hello\n'])
    action = make_action(job, args=dict(ARGS, log_path='/var/log/rng.log'))
    result = action.run(task_vars=dict(inventory_hostname='h'))
    assert job.module_args['log_path'] == '/var/log/rng.log'
    action._remove_tmp_path.assert_called_once_with('/tmp/ansible-tmp-1', force=True)  # only the heartbeat's
    assert '/var/log/rng.log' in job.commands[-2]  # the last read of the log, before the job file is removed
    assert result['invocation']['module_args']['log_path'] == RESULT['invocation']['module_args']['log_path']
    assert '[h] rng:1.0 | hello' in shown.at(1)


def test_no_log_shows_time_but_no_log_line_and_writes_no_log(shown):
    job = Job(polls=10, chunks=[b'secret stuff\n'])
    action = make_action(job, no_log=True)
    action.run(task_vars=dict(inventory_hostname='h', kiln_kaniko_progress_interval=5))
    assert 'log_path' not in job.module_args
    assert job.commands and all(cmd.startswith('touch /tmp/ansible-tmp-1/heartbeat') for cmd in job.commands[:-1])
    assert not any('tail' in cmd for cmd in job.commands)
    assert not any('secret' in line for level, line in shown.lines)
    assert shown.at(0)


def test_a_failed_build_comes_back_failed_with_its_message(shown):
    failure = dict(failed=True, changed=True, rc=7, msg="Build failed in container 'kaniko' with exit code 7")
    job = Job(polls=2, result=failure)
    result = make_action(job).run(task_vars={})
    assert result['failed'] is True
    assert result['rc'] == 7
    assert 'exit code 7' in result['msg']
    assert job.cleaned


def test_the_async_wrappers_own_timeout_is_explained(shown):
    job = Job(polls=1, result=dict(failed=True, msg='Timeout exceeded', child_pid=123))
    result = make_action(job, args=dict(ARGS, timeout=60)).run(task_vars={})
    assert result['failed']
    assert 'stopped after 660s' in result['msg']


def test_a_job_that_could_not_start_is_returned_as_is(shown):
    job = Job(start=dict(failed=True, msg='could not start'))
    action = make_action(job)
    result = action.run(task_vars={})
    assert result['msg'] == 'could not start'
    assert [call[0] for call in job.calls] == [None]
    action._remove_tmp_path.assert_called_once_with('/tmp/ansible-tmp-1', force=True)


def test_an_async_status_failure_ends_the_wait(shown):
    job = Job(polls=5)
    action = make_action(job)
    original = job.execute_module

    def broken_status(module_name=None, module_args=None, task_vars=None, wrap_async=False):
        if module_name and module_args.get('mode') != 'cleanup':
            return dict(failed=True, msg='MODULE FAILURE')
        return original(module_name, module_args, task_vars, wrap_async)

    action._execute_module.side_effect = broken_status
    result = action.run(task_vars={})
    assert result['msg'] == 'MODULE FAILURE'


@pytest.mark.parametrize('kwargs, task_vars', [
    (dict(check_mode=True), {}),
    (dict(native_async=True), {}),
    (dict(pipeline_only=True), {}),
    ({}, dict(kiln_kaniko_progress=False)),
    ({}, dict(kiln_kaniko_progress='no')),
])
def test_without_progress_the_module_runs_plainly(shown, kwargs, task_vars):
    job = Job()
    action = make_action(job, **kwargs)
    action._execute_module.side_effect = lambda **kw: copy.deepcopy(RESULT)
    result = action.run(task_vars=task_vars)
    assert result['digest'] == RESULT['digest']
    assert action._execute_module.call_count == 1
    assert 'wrap_async' not in action._execute_module.call_args.kwargs
    assert not shown.lines


def test_async_set_on_the_task_is_left_to_ansible(shown):
    job = Job()
    action = make_action(job, async_val=600)
    result = action.run(task_vars={})
    assert result['ansible_job_id'] == 'j1.2'
    assert action._execute_module.call_count == 1
    assert action._execute_module.call_args.kwargs['wrap_async'] is True
    assert action._task.async_val == 600


def test_become_as_another_user_gets_no_log_file_of_ours(shown):
    job = Job(polls=2)
    action = make_action(job, become_unprivileged=True)
    action.run(task_vars={})
    assert 'log_path' not in job.module_args
    action._make_tmp_path.assert_not_called()


@pytest.mark.parametrize('name, value', [
    ('kiln_kaniko_progress', 'sometimes'),
    ('kiln_kaniko_progress_interval', 'soon'),
])
def test_bad_progress_variables_are_named(shown, name, value):
    with pytest.raises(AnsibleActionFail, match=name):
        make_action(Job()).run(task_vars={name: value})


def test_lines_of_a_list_of_builds_name_their_build(shown):
    args = dict(namespace='builds', builds=[dict(destinations=['r/rng:1']), dict(destinations=['r/worker:1'])])
    job = Job(polls=6, chunks=[b'==> builds[1] kaniko <==\nPushed worker\n==> builds[0] kaniko <==\nPushed rng\n'])
    action = make_action(job, args=args)
    action.run(task_vars=dict(inventory_hostname='h', kiln_kaniko_progress_interval=1))
    assert '[h] worker:1 | Pushed worker' in shown.at(1)
    assert '[h] rng:1 | Pushed rng' in shown.at(1)
    assert shown.at(1)[-1] == '[h] 2 builds (rng:1, worker:1): ended after 4s'  # 0.2 + 0.4 + 0.8 + 3 x 1 s


def test_every_poll_touches_a_heartbeat_the_module_is_told_of(shown):
    job = Job(polls=3)
    action = make_action(job)
    action._task.environment = [{'LANG': 'C'}]
    seen = []
    original = job.execute_module

    def execute(module_name=None, module_args=None, task_vars=None, wrap_async=False):
        if module_name is None:
            seen.append(list(action._task.environment))
        return original(module_name, module_args, task_vars, wrap_async)

    action._execute_module.side_effect = execute
    action.run(task_vars={})
    assert seen == [[{'LANG': 'C'}, {'KILN_KANIKO_HEARTBEAT': '/tmp/ansible-tmp-1/heartbeat'}]]
    assert action._task.environment == [{'LANG': 'C'}]  # only borrowed
    touches = [cmd for cmd in job.commands if cmd.startswith('touch /tmp/ansible-tmp-1/heartbeat')]
    assert len(touches) == 1 + 3  # before the job starts, then at each of its three polls


def test_become_as_another_user_gets_no_heartbeat(shown):
    job = Job(polls=2)
    action = make_action(job, become_unprivileged=True)
    action.run(task_vars={})
    assert not any('heartbeat' in cmd for cmd in job.commands)


# ---------------------------------------------------------------- the play ends while the build runs

def test_when_ansible_playbook_is_gone_the_module_is_told_to_stop_and_waited_for(shown):
    job = Job(polls=100)
    action = make_action(job, end_at=3)
    result = action.run(task_vars=dict(inventory_hostname='h'))

    stops = [cmd for cmd in job.commands if cmd.startswith('printf stop')]
    assert stops == ['printf stop > /tmp/ansible-tmp-1/heartbeat']
    assert result['failed'] and result['msg'].startswith('ansible-playbook is gone: Build interrupted')
    assert result['pod_name'] == 'kiln-build-x'
    # The job ended: its files go, as after any build.
    assert job.cleaned
    action._remove_tmp_path.assert_called_once_with('/tmp/ansible-tmp-1', force=True)
    assert FakeEnd.made[0].closed and not FakeEnd.made[0].passed_on
    assert any('stopping the build' in msg for _lvl, msg in shown.lines)


def test_a_signal_that_ended_the_play_is_passed_on_once_the_build_stopped(shown):
    job = Job(polls=100)
    action = make_action(job, end_at=2, end_signum=15)
    result = action.run(task_vars={})
    assert result['failed'] and 'SIGTERM' in result['msg']
    end = FakeEnd.made[0]
    assert end.passed_on and not end.closed  # pass_on puts the handlers back itself
    assert job.commands.index('printf stop > /tmp/ansible-tmp-1/heartbeat') < len(job.commands) - 1


def test_a_build_that_does_not_stop_keeps_its_heartbeat_for_the_watchdog(shown):
    job = Job(polls=100)
    job.stops_after = None
    action = make_action(job, end_at=1)
    result = action.run(task_vars={})
    assert result['failed'] and 'had not ended after 30 s' in result['msg']
    # The module still finds its heartbeat (it stops once that is a minute old), and its job file stays.
    action._remove_tmp_path.assert_not_called()
    assert not job.cleaned


def test_without_a_heartbeat_the_end_of_the_play_says_the_build_may_still_run(shown):
    job = Job(polls=100)
    action = make_action(job, become_unprivileged=True, end_at=1)
    result = action.run(task_vars={})
    assert result['failed'] and 'may still run' in result['msg']
    assert not any(cmd.startswith('printf') for cmd in job.commands)


def test_a_plain_run_ends_with_its_worker_when_ansible_playbook_is_gone(shown):
    job = Job()
    action = make_action(job, check_mode=True)
    action._execute_module.side_effect = lambda **kw: copy.deepcopy(RESULT)
    action.run(task_vars={})
    end = FakeEnd.made[0]
    assert end.signals == ()  # the worker's own handlers stay: they end the module with the worker
    assert callable(end.on_orphan) and end.closed


def test_a_build_that_runs_again_says_so_at_any_verbosity(shown):
    retry = (b'==> kiln-retry <==\npod kiln-build-x was lost (NodeLost): node w2 stopped reporting to the API server; '
             b'running the build again as a new pod, attempt 2 of 2, kept off node w2\n==> clone <==\nfetching\n')
    job = Job(polls=4, chunks=[b'==> kaniko <==\nINFO step 1\n', retry])
    action = make_action(job, args=dict(ARGS, retries=1))
    limits = []
    run_module = action._execute_module.side_effect

    def execute_module(*args, **kwargs):
        if kwargs.get('module_name') is None:
            limits.append(action._task.async_val)
        return run_module(*args, **kwargs)
    action._execute_module.side_effect = execute_module
    action.run(task_vars=dict(inventory_hostname='h', kiln_kaniko_progress_interval=1))
    assert ('[h] rng:1.0: pod kiln-build-x was lost (NodeLost): node w2 stopped reporting to the API server; running '
            'the build again as a new pod, attempt 2 of 2, kept off node w2') in shown.at(0)
    assert '[h] rng:1.0 | fetching' in shown.at(1)
    assert not [line for line in shown.at(0) if line.endswith('kiln-retry')]
    assert limits == [2 * 1800 + 600]  # each pod may take its timeout


def test_a_retry_in_a_list_of_builds_names_its_build(shown):
    args = dict(namespace='builds', builds=[dict(destinations=['r/rng:1']), dict(destinations=['r/worker:1'])])
    job = Job(polls=3, chunks=[b'==> builds[1] kiln-retry <==\npod p was lost (Deleted): gone; running it again\n'])
    action = make_action(job, args=args)
    action.run(task_vars=dict(inventory_hostname='h'))
    assert '[h] worker:1: pod p was lost (Deleted): gone; running it again' in shown.at(0)
