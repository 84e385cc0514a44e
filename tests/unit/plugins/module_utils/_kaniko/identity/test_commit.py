# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resolving git.version on the module host: ls-remote output, git's ref rules, credentials kept out of sight."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import commit as gr
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.git_url import GitRemote, parse_git_remote
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import GitSource

A, B, C, D = ('a' * 40, 'b' * 40, 'c' * 40, 'd' * 40)
LS_REMOTE = '\n'.join([
    A + '\tHEAD',
    A + '\trefs/heads/main',
    B + '\trefs/heads/feature',
    C + '\trefs/tags/v1',
    D + '\trefs/tags/v1^{}',
    B + '\trefs/tags/light',
    C + '\trefs/heads/v1',
    'not a line',
]) + '\n'


def git_source(url, **fields):
    """A GitSource as build_spec makes it, git.repo parsed; the other fields as the options' defaults have them."""
    return GitSource(parse_git_remote(url), **dict(dict(version='HEAD', depth=1, submodules=False), **fields))


def test_parse_ls_remote():
    refs = gr.parse_ls_remote(LS_REMOTE)
    assert refs['HEAD'] == A and refs['refs/tags/v1^{}'] == D
    assert 'not a line' not in refs.values() and len(refs) == 7


@pytest.mark.parametrize('version, commit', [
    ('HEAD', A),
    ('main', A),
    ('feature', B),
    ('v1', D),                  # an annotated tag: the commit it points at; tags before branches, as git does
    ('light', B),
    ('refs/heads/v1', C),
    ('heads/main', A),
    ('nope', None),
])
def test_pick_commit_follows_git_s_rules(version, commit):
    assert gr.pick_commit(gr.parse_ls_remote(LS_REMOTE), version) == commit


class Runner(object):
    """Stands in for run_command: records what git would get and what the files held at that moment."""

    def __init__(self, rc=0, out=LS_REMOTE, err=''):
        self.calls = []
        self.answer = (rc, out, err)

    def __call__(self, args, env):
        files = {}
        for value in list(args) + list(env.values()):
            for word in re.findall(r'/[^\s\'";=]*kiln-git-[^\s\'";]*', value):
                if os.path.isfile(word):
                    mode = stat.S_IMODE(os.stat(word).st_mode)
                    with open(word) as handle:
                        files[word] = (mode, handle.read())
        self.calls.append(dict(args=list(args), env=dict(env), files=files))
        return self.answer


SECRETS = {
    'basic': {'username': 'builder', 'password': 'pa55-word'},
    'token': {'token': 't0ken-value\n'},
    'deploy': {'ssh-privatekey': '-----BEGIN KEY-----\nk3y-material\n-----END KEY-----', 'known_hosts': 'git ssh-ed25519 AAAA'},
}


def resolver(runner, git='/usr/bin/git', secrets=None, **kwargs):
    table = SECRETS if secrets is None else secrets
    return gr.RemoteResolver(runner, git, lambda namespace, name: table.get(name), **kwargs)


def leaked(call, *secrets):
    visible = ' '.join(call['args']) + ' ' + ' '.join('{0}={1}'.format(k, v) for k, v in call['env'].items())
    return [secret for secret in secrets if secret in visible]


def test_public_https_repository():
    runner = Runner()
    commit = resolver(runner).resolve('builds', git_source('https://git.example.com/app.git', version='main'))
    assert commit == A
    call = runner.calls[0]
    assert call['args'][-5:] == ['ls-remote', '--', 'https://git.example.com/app.git', 'main', 'main^{}']
    assert call['env']['GIT_TERMINAL_PROMPT'] == '0' and call['env']['GIT_CONFIG_NOSYSTEM'] == '1'
    assert '-c' in call['args'] and 'credential.helper=' in call['args']
    assert not call['files']


@pytest.mark.parametrize('secret, username, password', [
    ('basic', 'builder', 'pa55-word'),
    ('token', 'x-access-token', 't0ken-value'),
])
def test_https_credentials_go_through_a_0600_file_only(secret, username, password):
    runner = Runner()
    source = git_source('https://git.example.com/app.git', version='v1', secret=secret)
    assert resolver(runner).resolve('builds', source) == D
    call = runner.calls[0]
    assert not leaked(call, password)
    helper = [arg for arg in call['args'] if arg.startswith('credential.https://git.example.com.helper=')]
    assert len(helper) == 1
    ((path, (mode, text)),) = call['files'].items()
    assert mode == 0o600
    assert text == 'username={0}\npassword={1}\n'.format(username, password)
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))


def test_https_credentials_are_offered_to_the_host_and_port_of_the_repository_only():
    runner = Runner()
    source = git_source('https://builder@git.example.com:8443/team/app.git', version='v1', secret='basic')
    resolver(runner).resolve('builds', source)
    args = runner.calls[0]['args']
    assert [arg.partition('=')[0] for arg in args if arg.startswith('credential.')] == [
        'credential.helper', 'credential.https://git.example.com:8443.helper']
    assert args[-3] == 'https://builder@git.example.com:8443/team/app.git'


def test_ssh_key_and_known_hosts_go_through_files_named_in_git_ssh_command():
    runner = Runner()
    source = git_source('ssh://git@git.example.com/app.git', secret='deploy')
    assert resolver(runner).resolve('builds', source) == A
    call = runner.calls[0]
    assert not leaked(call, 'k3y-material')
    command = call['env']['GIT_SSH_COMMAND']
    assert 'StrictHostKeyChecking=yes' in command and 'BatchMode=yes' in command and 'IdentitiesOnly=yes' in command
    modes = {os.path.basename(path): (mode, text) for path, (mode, text) in call['files'].items()}
    assert modes['id'] == (0o600, SECRETS['deploy']['ssh-privatekey'] + '\n')
    assert modes['known_hosts'][1] == 'git ssh-ed25519 AAAA\n'
    assert not any(os.path.exists(path) for path in call['files'])


def test_one_ls_remote_per_repository_version_and_credentials():
    runner = Runner()
    remote = resolver(runner)
    for _attempt in range(3):
        remote.resolve('builds', git_source('https://git.example.com/app.git'))
    remote.resolve('builds', git_source('https://git.example.com/app.git', version='feature'))
    assert len(runner.calls) == 2


def test_a_full_commit_needs_no_git():
    runner = Runner()
    assert resolver(runner, git=None).resolve('builds', git_source('https://x.example.com/a', version=B)) == B
    assert not runner.calls


@pytest.mark.parametrize('source, git, secrets, answer, reason', [
    (git_source('https://x.example.com/a'), None, None, (0, LS_REMOTE, ''), 'git is not installed'),
    (git_source('https://x.example.com/a', secret='basic'), '/usr/bin/git', {}, (0, LS_REMOTE, ''), 'may not be read'),
    (git_source('git@x.example.com:a.git'), '/usr/bin/git', None, (0, LS_REMOTE, ''), 'needs git.secret'),
    (git_source('https://x.example.com/a', version='no-such'), '/usr/bin/git', None, (0, LS_REMOTE, ''),
     "has no branch or tag 'no-such'"),
    (git_source('https://x.example.com/a', version='abc1234'), '/usr/bin/git', None, (0, LS_REMOTE, ''),
     'abbreviated commit'),
    (git_source('https://x.example.com/a'), '/usr/bin/git', None,
     (128, '', "remote: nope\nfatal: could not read Username for 'https://x.example.com': terminal prompts disabled\n"),
     "failed: fatal: could not read Username for 'https://x.example.com': terminal prompts disabled"),
])
def test_what_cannot_be_resolved_says_why(source, git, secrets, answer, reason):
    runner = Runner(*answer)
    with pytest.raises(gr.Unresolved) as caught:
        resolver(runner, git=git, secrets=secrets).resolve('builds', source)
    assert reason in str(caught.value)


def test_a_timeout_is_named():
    runner = Runner(rc=124, out='', err='')
    remote = resolver(runner, timeout_command='/usr/bin/timeout', timeout=7)
    with pytest.raises(gr.Unresolved) as caught:
        remote.resolve('builds', git_source('https://x.example.com/a'))
    assert 'no answer within 7 s' in str(caught.value)
    assert runner.calls[0]['args'][:2] == ['/usr/bin/timeout', '7']


@pytest.mark.skipif(shutil.which('git') is None, reason='needs git')
def test_against_a_real_repository(tmp_path):
    env = dict(os.environ, GIT_AUTHOR_NAME='k', GIT_AUTHOR_EMAIL='k@example.invalid', GIT_COMMITTER_NAME='k',
               GIT_COMMITTER_EMAIL='k@example.invalid', GIT_CONFIG_NOSYSTEM='1', HOME=str(tmp_path))

    def git(*args):
        return subprocess.run(['git', '-c', 'init.defaultBranch=main'] + list(args), cwd=str(tmp_path), env=env,
                              check=True, capture_output=True, text=True).stdout.strip()

    git('init', '-q')
    (tmp_path / 'Dockerfile').write_text('FROM scratch\n')
    git('add', 'Dockerfile')
    git('commit', '-q', '-m', 'one')
    git('tag', '-a', 'v1', '-m', 'one')
    first = git('rev-parse', 'HEAD')
    git('commit', '-q', '--allow-empty', '-m', 'two')
    second = git('rev-parse', 'HEAD')

    def run(args, extra):
        done = subprocess.run(args, env=dict(env, **extra), capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    remote = gr.RemoteResolver(run, shutil.which('git'), lambda namespace, name: None)
    # git.repo refuses file:// (the cluster has no such path): a remote made by hand, that the real git reads.
    local = GitRemote(url='file://' + str(tmp_path), transport='git', host='localhost', path=str(tmp_path))
    assert remote.resolve('builds', GitSource(local, 'HEAD', 1, False)) == second
    assert remote.resolve('builds', GitSource(local, 'main', 1, False)) == second
    assert remote.resolve('builds', GitSource(local, 'v1', 1, False)) == first


def test_builds_prepared_side_by_side_ask_once():
    import threading

    runner = Runner()
    remote = resolver(runner)
    threads = [threading.Thread(target=remote.resolve, args=('builds', git_source('https://x.example.com/a')))
               for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runner.calls) == 1
