# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resolve git.version to a commit with ``git ls-remote`` on the host that runs the module.

It uses the credentials the clone container would use (the Secret named by git.secret, read
from the cluster), offered the same way: only to the host of git.repo. No credential reaches
an argument, an environment variable, a log line or a result: HTTPS credentials go into a file
that a credential helper prints, an SSH key into a file named by GIT_SSH_COMMAND; both files
are 0600 in a 0700 directory that is removed afterwards.

What cannot be resolved raises Unresolved with the reason; the caller then builds without
looking for an existing image.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import threading
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.git_url import GitRemote
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import GitSource

FULL_COMMIT_RE = re.compile(r'^(?:[0-9a-f]{40}|[0-9a-f]{64})$')
_ABBREVIATED_RE = re.compile(r'^[0-9a-f]{7,63}$')
# How git turns a short name into a ref (refs.c: ref_rev_parse_rules), in order.
REF_RULES = ('{0}', 'refs/{0}', 'refs/tags/{0}', 'refs/heads/{0}', 'refs/remotes/{0}', 'refs/remotes/{0}/HEAD')
TIMEOUT_SECONDS = 60


class Unresolved(Exception):
    """git.version could not be resolved to a commit here; the message says why."""


# What RemoteResolver asks once: (git.repo, namespace, git.secret, git.version).
_Question = Tuple[GitRemote, str, Optional[str], str]
# run_command(args, environ_update) -> (rc, stdout, stderr), as AnsibleModule.run_command.
RunCommand = Callable[[List[str], Dict[str, str]], Tuple[int, str, str]]
# read_secret(namespace, name) -> the Secret's decoded data, or None when it may not be read.
ReadSecret = Callable[[str, str], Optional[Dict[str, str]]]


def parse_ls_remote(text: str | None) -> dict[str, str]:
    """{ref: sha} from ``git ls-remote`` output; peeled tags appear as ``refs/tags/x^{}``."""
    refs = {}
    for line in (text or '').splitlines():
        sha, sep, name = line.strip().partition('\t')
        if sep and FULL_COMMIT_RE.match(sha):
            refs[name] = sha
    return refs


def pick_commit(refs: Mapping[str, str], version: str) -> str | None:
    """The commit ``version`` names among ``refs``, as ``git fetch`` would pick it, or None."""
    for rule in REF_RULES:
        name = rule.format(version)
        if name in refs:
            return refs.get(name + '^{}') or refs[name]
    return None


def _text(data: Mapping[str, str], key: str) -> str:
    return (data.get(key) or '').rstrip('\r\n')


class RemoteResolver:
    """Resolves GitSource versions, remembering each answer for the run.

    ``run_command(args, environ_update)`` returns (rc, stdout, stderr) (AnsibleModule.run_command);
    ``git`` is the path of git or None; ``read_secret(namespace, name)`` returns the Secret's
    decoded data (dict) or None when it may not be read.
    """

    def __init__(self, run_command: RunCommand, git: str | None, read_secret: ReadSecret,
                 timeout_command: str | None = None, timeout: int = TIMEOUT_SECONDS) -> None:
        self._run = run_command
        self._git = git
        self._read_secret = read_secret
        self._timeout_command = timeout_command
        self._timeout = timeout
        self._answers: dict[_Question, Union[dict[str, str], Unresolved]] = {}
        self._lock = threading.Lock()
        # One lock per question, so that builds prepared side by side ask once.
        self._locks: dict[_Question, threading.Lock] = {}

    def resolve(self, namespace: str, source: GitSource) -> str:
        """The commit of ``source`` (a GitSource); raises Unresolved."""
        version = source.version
        if FULL_COMMIT_RE.match(version):
            return version
        key = (source.repo, namespace, source.secret, version)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._answers:
                try:
                    self._answers[key] = self._ls_remote(namespace, source)
                except Unresolved as exc:
                    self._answers[key] = exc
        answer = self._answers[key]
        if isinstance(answer, Unresolved):
            raise answer
        commit = pick_commit(answer, version)
        if commit:
            return commit
        if _ABBREVIATED_RE.match(version):
            raise Unresolved('{0} looks like an abbreviated commit, which ls-remote cannot resolve; '
                             'give the full SHA'.format(version))
        raise Unresolved("{0} has no branch or tag '{1}'".format(source.repo.url, version))

    def _ls_remote(self, namespace: str, source: GitSource) -> dict[str, str]:
        if not self._git:
            raise Unresolved('git is not installed on the host that runs the module')
        remote = source.repo
        data: dict[str, str] = {}
        if source.secret:
            secret = self._read_secret(namespace, source.secret)
            if secret is None:
                raise Unresolved("Secret '{0}' (git.secret) may not be read from here".format(source.secret))
            data = secret
        elif remote.transport == 'ssh':
            raise Unresolved('an SSH git.repo needs git.secret')

        workdir = tempfile.mkdtemp(prefix='kiln-git-')
        try:
            os.chmod(workdir, 0o700)
            args = [self._git, '-c', 'credential.helper=', '-c', 'http.lowSpeedLimit=1',
                    '-c', 'http.lowSpeedTime={0}'.format(self._timeout)]
            env = {'GIT_TERMINAL_PROMPT': '0', 'GIT_CONFIG_NOSYSTEM': '1', 'GIT_CONFIG_GLOBAL': os.devnull,
                   'LC_ALL': 'C'}
            ssh = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20']
            if remote.transport == 'ssh':
                key_file = self._write(workdir, 'id', _text(data, 'ssh-privatekey') + '\n')
                hosts_file = self._write(workdir, 'known_hosts', _text(data, 'known_hosts') + '\n')
                ssh += ['-i', key_file, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes',
                        '-o', 'UserKnownHostsFile=' + hosts_file]
            elif data:
                if data.get('token'):
                    username, password = _text(data, 'username') or 'x-access-token', _text(data, 'token')
                else:
                    username, password = _text(data, 'username'), _text(data, 'password')
                if '\n' in username + password:
                    raise Unresolved("Secret '{0}' (git.secret) holds a value of several lines".format(source.secret))
                credential = self._write(workdir, 'credential', 'username={0}\npassword={1}\n'.format(username, password))
                helper = '!f() {{ test "$1" = get && cat {0}; }}; f'.format(shlex.quote(credential))
                args += ['-c', 'credential.{0}.helper={1}'.format(remote.credential_scope, helper)]
            env['GIT_SSH_COMMAND'] = ' '.join(shlex.quote(part) for part in ssh)
            # The second pattern brings the commit an annotated tag points at (refs/tags/<tag>^{}).
            args += ['ls-remote', '--', remote.url, source.version, source.version + '^{}']
            if self._timeout_command:
                args = [self._timeout_command, str(self._timeout)] + args
            rc, out, err = self._run(args, env)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if rc != 0:
            lines = [line.strip() for line in (err or '').splitlines() if line.strip()]
            why = lines[-1] if lines else 'exit code {0}'.format(rc)
            if rc == 124 and self._timeout_command:
                why = 'no answer within {0} s'.format(self._timeout)
            raise Unresolved('git ls-remote {0} failed: {1}'.format(remote.url, why))
        return parse_ls_remote(out)

    @staticmethod
    def _write(directory: str, name: str, text: str) -> str:
        path = os.path.join(directory, name)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, 'w') as handle:
            handle.write(text)
        return path
