# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod's shell scripts (pod/scripts.py): all listed for a linter and valid sh, the clone container's script run
with /bin/sh and git against local repositories, and the execs of the receive and export containers run with a local
sh."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import execs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import scripts
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_render import PVC, local_spec

NEEDS_GIT = pytest.mark.skipif(shutil.which('git') is None or not os.path.exists('/bin/sh'),
                               reason='needs git and /bin/sh')


def test_every_script_of_the_module_is_listed_once():
    defined = {name for name in vars(scripts) if name.endswith(('_SCRIPT', '_EXEC'))}
    listed = [script for _name, script in scripts.SHELL_SCRIPTS]
    assert sorted(listed) == sorted(getattr(scripts, name) for name in defined)
    assert len({name for name, _script in scripts.SHELL_SCRIPTS}) == len(scripts.SHELL_SCRIPTS)


@pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='needs /bin/sh')
@pytest.mark.parametrize('name, script', scripts.SHELL_SCRIPTS)
def test_every_script_is_valid_sh(name, script):
    done = subprocess.run(['/bin/sh', '-n', '-c', script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, (name, done.stderr)


def test_the_clone_script_names_the_paths_the_renderer_mounts():
    assert scripts.GIT_SECRET_DIR in scripts.CLONE_SCRIPT and scripts.TERMINATION_LOG in scripts.CLONE_SCRIPT
    clone = render.render_pod(make_spec(git=dict(repo='git@github.com:example/api.git', secret='deploy-key')))
    (init,) = clone['spec']['initContainers']
    assert init['command'] == ['/bin/sh', '-c', scripts.CLONE_SCRIPT]
    assert {'name': 'git-secret', 'mountPath': scripts.GIT_SECRET_DIR, 'readOnly': True} in init['volumeMounts']


# ---------------------------------------------------------------- the clone script

GIT_ENV = {
    'GIT_AUTHOR_NAME': 'kiln', 'GIT_AUTHOR_EMAIL': 'kiln@example.invalid',
    'GIT_COMMITTER_NAME': 'kiln', 'GIT_COMMITTER_EMAIL': 'kiln@example.invalid',
    'GIT_CONFIG_NOSYSTEM': '1', 'GIT_TERMINAL_PROMPT': '0',
}


def git(cwd, *args):
    env = dict(os.environ, HOME=str(cwd), **GIT_ENV)
    return subprocess.run(['git', '-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always'] + list(args),
                          cwd=str(cwd), env=env, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo, name, text):
    (repo / name).write_text(text)
    git(repo, 'add', name)
    git(repo, 'commit', '-q', '-m', 'add ' + name)
    return git(repo, 'rev-parse', 'HEAD')


@pytest.fixture(scope='module')
def origin(tmp_path_factory):
    """A repository with three commits on main, an annotated tag, a branch and a submodule."""
    base = tmp_path_factory.mktemp('origin')
    sub = base / 'sub'
    sub.mkdir()
    git(sub, 'init', '-q')
    commit(sub, 'lib.txt', 'library\n')

    repo = base / 'app'
    repo.mkdir()
    git(repo, 'init', '-q')
    first = commit(repo, 'Dockerfile', 'FROM scratch\n')
    git(repo, 'tag', '-a', 'v1', '-m', 'release 1')
    second = commit(repo, 'README', 'two\n')
    git(repo, 'checkout', '-q', '-b', 'feature')
    feature = commit(repo, 'feature.txt', 'feature\n')
    git(repo, 'checkout', '-q', 'main')
    git(repo, 'submodule', 'add', '-q', 'file://' + str(sub), 'vendor/sub')
    git(repo, 'commit', '-q', '-m', 'add submodule')
    head = git(repo, 'rev-parse', 'HEAD')
    return dict(url='file://' + str(repo), first=first, second=second, feature=feature, head=head)


def run_clone(tmp_path, repo, version='HEAD', depth=1, submodules=False, transport='http', secret=None, extra_env=None):
    """Run CLONE_SCRIPT as the clone container would; return (exit code, termination log, output, src dir)."""
    termination = tmp_path / 'termination-log'
    secret_dir = tmp_path / 'git-secret'
    secret_dir.mkdir(exist_ok=True)
    for key, value in (secret or {}).items():
        (secret_dir / key).write_text(value)
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    src = tmp_path / 'workspace' / 'src'
    src.parent.mkdir(exist_ok=True)
    script = scripts.CLONE_SCRIPT.replace('/dev/termination-log', str(termination)).replace(
        scripts.GIT_SECRET_DIR, str(secret_dir))
    env = {
        'PATH': os.environ['PATH'], 'HOME': str(home), 'GIT_TERMINAL_PROMPT': '0', 'GIT_CONFIG_NOSYSTEM': '1',
        'KILN_SRC': str(src), 'KILN_GIT_REPO': repo, 'KILN_GIT_VERSION': version, 'KILN_GIT_DEPTH': str(depth),
        'KILN_GIT_SUBMODULES': 'true' if submodules else 'false', 'KILN_GIT_TRANSPORT': transport,
        'KILN_GIT_SECRET': 'creds' if secret is not None else '',
        # Submodules from file:// URLs are off by default since git 2.38.1; the cluster clones over the network.
        'GIT_CONFIG_COUNT': '1', 'GIT_CONFIG_KEY_0': 'protocol.file.allow', 'GIT_CONFIG_VALUE_0': 'always',
    }
    env.update(extra_env or {})
    done = subprocess.run(['/bin/sh', '-c', script], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    log = termination.read_text() if termination.exists() else ''
    return done.returncode, log, done.stdout + done.stderr, src


@NEEDS_GIT
def test_head_shallow(tmp_path, origin):
    rc, log, output, src = run_clone(tmp_path, origin['url'])
    assert rc == 0, output
    assert log == origin['head']
    assert (src / 'Dockerfile').read_text() == 'FROM scratch\n'
    assert git(src, 'rev-parse', '--is-shallow-repository') == 'true'
    assert 'kiln clone: checked out ' + origin['head'] in output


@NEEDS_GIT
def test_full_history(tmp_path, origin):
    rc, log, output, src = run_clone(tmp_path, origin['url'], depth=0)
    assert rc == 0, output
    assert git(src, 'rev-parse', '--is-shallow-repository') == 'false'
    assert git(src, 'rev-list', '--count', 'HEAD') == '3'


@NEEDS_GIT
def test_annotated_tag(tmp_path, origin):
    rc, log, output, src = run_clone(tmp_path, origin['url'], version='v1')
    assert rc == 0, output
    assert log == origin['first']
    assert not (src / 'README').exists()


@NEEDS_GIT
def test_branch(tmp_path, origin):
    rc, log, output, src = run_clone(tmp_path, origin['url'], version='feature')
    assert (rc, log) == (0, origin['feature']), output
    assert (src / 'feature.txt').exists()


@NEEDS_GIT
def test_full_sha_of_an_older_commit(tmp_path, origin):
    rc, log, output, _src = run_clone(tmp_path, origin['url'], version=origin['second'])
    assert (rc, log) == (0, origin['second']), output


@NEEDS_GIT
def test_abbreviated_sha_falls_back_to_a_full_fetch(tmp_path, origin):
    rc, log, output, _src = run_clone(tmp_path, origin['url'], version=origin['first'][:10])
    assert (rc, log) == (0, origin['first']), output
    assert 'fetching all branches and tags' in output


@NEEDS_GIT
def test_missing_ref_fails_with_a_readable_message(tmp_path, origin):
    rc, log, output, _src = run_clone(tmp_path, origin['url'], version='no-such-branch')
    assert rc == 1
    assert log.startswith("could not fetch 'no-such-branch' (git.version) from " + origin['url'] + ': ')
    assert 'no-such-branch' in log.splitlines()[0].split(': ', 1)[1]


@NEEDS_GIT
def test_missing_commit_fails_with_a_readable_message(tmp_path, origin):
    rc, log, _output, _src = run_clone(tmp_path, origin['url'], version='deadbeefdeadbeef')
    assert rc == 1
    assert log.strip() == 'commit deadbeefdeadbeef (git.version) is not in ' + origin['url']


@NEEDS_GIT
def test_submodules(tmp_path, origin):
    rc, _log, output, src = run_clone(tmp_path, origin['url'], submodules=True)
    assert rc == 0, output
    assert (src / 'vendor' / 'sub' / 'lib.txt').read_text() == 'library\n'
    plain = tmp_path / 'plain'
    plain.mkdir()
    rc, _log, output, src = run_clone(plain, origin['url'])
    assert rc == 0, output
    assert not (src / 'vendor' / 'sub' / 'lib.txt').exists()


@NEEDS_GIT
def test_ssh_needs_a_secret(tmp_path):
    rc, log, _output, _src = run_clone(tmp_path, 'git@git.example.invalid:team/app.git', transport='ssh')
    assert rc == 1
    assert log.strip() == ('git.repo is an SSH URL: name a Secret with the keys ssh-privatekey and known_hosts '
                           'in git.secret')


@NEEDS_GIT
def test_ssh_key_without_known_hosts_fails_clearly(tmp_path):
    rc, log, _output, _src = run_clone(tmp_path, 'git@git.example.invalid:team/app.git', transport='ssh',
                                       secret={'ssh-privatekey': 'not a real key\n'})
    assert rc == 1
    assert log.strip() == ("Secret 'creds' (git.secret) has ssh-privatekey but no known_hosts; add the server's host "
                           "keys (ssh-keyscan HOST) under the key known_hosts")


@NEEDS_GIT
def test_https_secret_needs_a_token_or_username_and_password(tmp_path):
    rc, log, _output, _src = run_clone(tmp_path, 'http://127.0.0.1:9/app.git', secret={'username': 'only'})
    assert rc == 1
    assert log.strip() == "Secret 'creds' (git.secret) has neither a key token nor the keys username and password"


@NEEDS_GIT
@pytest.mark.parametrize('secret, expected', [
    ({'token': 'tok-123\n'}, 'username=x-access-token\npassword=tok-123\n'),
    ({'token': 'tok-123', 'username': 'oauth2'}, 'username=oauth2\npassword=tok-123\n'),
    ({'username': 'builder', 'password': 'pw 1\n'}, 'username=builder\npassword=pw 1\n'),
])
def test_credentials_are_read_from_the_secret_files_for_the_repository_host_only(tmp_path, secret, expected):
    # Nothing listens on port 9 of the loopback: the fetch fails at once, after the setup.
    rc, log, output, _src = run_clone(tmp_path, 'http://user@127.0.0.1:9/team/app.git', version='main', secret=secret)
    assert rc == 1
    assert log.startswith("could not fetch 'main' (git.version) from http://user@127.0.0.1:9/team/app.git")
    for value in secret.values():
        assert value.strip() not in output
        assert value.strip() not in log
    home = tmp_path / 'home'
    config = (home / '.gitconfig').read_text()
    assert '[credential "http://127.0.0.1:9"]' in config
    assert 'tok-123' not in config and 'pw 1' not in config
    helper = subprocess.run([str(home / 'git-credential-kiln'), 'get'], capture_output=True, text=True, check=True,
                            env={'PATH': os.environ['PATH']}, cwd=str(tmp_path))
    assert helper.stdout == expected


@NEEDS_GIT
@pytest.mark.parametrize('url, elsewhere', [
    ('https://builder@git.example.com:8443/team/app.git', 'https://git.example.com/team/app.git'),
    ('HTTPS://Git.Example.com/app.git', 'https://git.example.com:8443/app.git'),
    ('https://[2001:db8::1]:8443/app.git', 'https://[2001:db8::2]:8443/app.git'),
    ('https://git.example.com:/app.git', 'http://git.example.com/app.git'),
    ('http://127.0.0.1:9/app.git', 'http://127.0.0.2:9/app.git'),
])
def test_the_clone_offers_credentials_where_ls_remote_does(tmp_path, url, elsewhere):
    """The script scopes its credential helper to the host the module's GitRemote.credential_scope names."""
    spec = make_spec(git=dict(repo=url, version='main', secret='creds'))
    (clone,) = render.render_pod(spec)['spec']['initContainers']
    env = {item['name']: item['value'] for item in clone['env']}
    offline = tmp_path / 'bin'
    offline.mkdir()
    (offline / 'git').write_text('#!/bin/sh\n[ "$1" = fetch ] && { echo "fatal: offline" >&2; exit 128; }\n'
                                 'exec ' + shutil.which('git') + ' "$@"\n')
    (offline / 'git').chmod(0o755)
    rc, log, output, _src = run_clone(tmp_path, env['KILN_GIT_REPO'], version='main', secret={'token': 't0k'},
                                      transport=env['KILN_GIT_TRANSPORT'],
                                      extra_env={'PATH': '{0}:{1}'.format(offline, os.environ['PATH'])})
    assert rc == 1 and log == "could not fetch 'main' (git.version) from {0}: fatal: offline\n".format(spec.git.repo), output

    def helper_for(address):
        done = subprocess.run(['git', 'config', '--global', '--get-urlmatch', 'credential.helper', address],
                              env=dict(os.environ, HOME=str(tmp_path / 'home'), GIT_CONFIG_NOSYSTEM='1'),
                              capture_output=True, text=True, check=False)
        return done.stdout.strip()

    assert helper_for(spec.git.repo.credential_scope + '/any/path') == str(tmp_path / 'home' / 'git-credential-kiln')
    assert helper_for(spec.git.repo.url) == str(tmp_path / 'home' / 'git-credential-kiln')
    assert helper_for(elsewhere) == ''


@NEEDS_GIT
def test_the_commit_the_module_resolved_when_the_branch_did_not_move(tmp_path, origin):
    rc, log, output, _src = run_clone(tmp_path, origin['url'], version='main', extra_env={'KILN_GIT_COMMIT': origin['head']})
    assert (rc, log) == (0, origin['head']), output
    assert 'has moved' not in output


@NEEDS_GIT
def test_a_branch_that_moved_since_the_module_resolved_it(tmp_path, origin):
    rc, log, output, src = run_clone(tmp_path, origin['url'], version='main',
                                     extra_env={'KILN_GIT_COMMIT': origin['second']})
    assert (rc, log) == (0, origin['second']), output
    assert 'main has moved since the build started; fetching ' + origin['second'] in output
    assert not (src / 'vendor').exists()


@NEEDS_GIT
def test_a_resolved_commit_that_is_gone(tmp_path, origin):
    rc, log, output, _src = run_clone(tmp_path, origin['url'], version='main', extra_env={'KILN_GIT_COMMIT': 'f' * 40})
    assert rc == 1, output
    assert 'commit ' + 'f' * 40 + ' (main when the build started) is not in' in log


# ---------------------------------------------------------------- the execs of the receive and export containers

def test_the_receive_exec_unpacks_exactly_the_bytes_it_is_told_and_marks_the_end(tmp_path):
    """Run the script itself with a local sh: the tar, then bytes nobody must read (the exec cannot close stdin)."""
    source = tmp_path / 'src'
    source.mkdir()
    (source / 'Dockerfile').write_text('FROM scratch\n')
    archive = tmp_path / 'c.tar'
    subprocess.run(['tar', '-c', '-f', str(archive), '-C', str(source), 'Dockerfile'], check=True)
    data = archive.read_bytes()
    target = tmp_path / 'workspace' / 'src' / 'web'
    marker = tmp_path / 'received'
    script = execs.receive_command(local_spec(), len(data))[2]
    process = subprocess.Popen(['/bin/sh', '-c', script, 'kiln', str(target), str(len(data)), str(marker)],
                               stdin=subprocess.PIPE)
    process.stdin.write(data)
    process.stdin.flush()  # stdin stays open, as with the exec protocol
    assert process.wait(timeout=20) == 0
    process.stdin.close()
    assert (target / 'Dockerfile').read_text() == 'FROM scratch\n'
    assert marker.exists()


def test_the_keep_exec_renames_only_a_checked_file(tmp_path):
    (tmp_path / '.app.tar.kiln-partial').write_bytes(b'x' * 1000)
    command = execs.keep_command(make_spec(**PVC))
    out = subprocess.run(command[:3] + ['kiln', str(tmp_path), '.app.tar.kiln-partial', 'app.tar'],
                         capture_output=True, check=True).stdout.decode().split()
    assert out[0] == '1000' and len(out[1]) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ['app.tar']
    missing = subprocess.run(command[:3] + ['kiln', str(tmp_path), '.other.kiln-partial', 'other.tar'], check=False)
    assert missing.returncode != 0
