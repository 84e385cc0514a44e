# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where kiln.kaniko.container_build's builds run: a Kaniko container of podman on the module's host.

ContainerEngine offers the lifecycle (lifecycle.Build), the run (run.BuildRun) and the Scheduler what
engine.KubernetesEngine offers them, for a build container instead of a build pod: create, a watch of the
run, a log follower, the local context's upload, the tarball's fetch, delete. Each build gets a private
0700 directory (the clone, or the unpacked local context; the digest file; the tarball; the docker
config.json of registry_auth, 0600; the CA files); create() makes it, delete() removes it with the container.

A build advances as a pod does, on each look of the watch: the source step (the clone script of the pod,
pod_scripts.CLONE_SCRIPT, run on the host; or the local context, unpacked when the lifecycle sends it), then
``podman create`` and ``podman start --attach``, whose output is the kaniko log; once it ended, ``podman
inspect`` gives the exit code and OOMKilled, or shows a container podman could not start, which fails at once
with the last line podman printed. container_status.view() shows all this as the pod status that pod/states.py
classifies. Children run in sessions of their own: an interrupt reaches the module, whose cleanup
then removes the container, kills its children and removes the directory. Before any of it, check_host() asks
podman whether it can run a build container here at all (engines/podman/host.py).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from typing import IO, Any, Callable, Collection, Iterable, Sequence, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.signals import held_signals
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Event, LogWriter, Warn, Workload, lost_contact
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import cli
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import host
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import view
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.host_files import HostSecrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.logs import ContainerLog
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render, states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.docker_config import docker_config
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.scripts import CLONE_SCRIPT
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import EngineError, TransferError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, GitSource, Tarball

POLL_SECONDS = 0.5
COMMAND_TIMEOUT = 120
# How long podman may take to say what it is and what it finds (podman info reads its store).
CHECK_TIMEOUT = 60
_GIT_KEYS = ('token', 'username', 'password', 'ssh-privatekey', 'known_hosts')


def _private_file(path: str, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, 'w') as handle:
        handle.write(text)


def _limits() -> tuple[cli.Limit, cli.Limit]:
    return (resource.getrlimit(resource.RLIMIT_NOFILE), resource.getrlimit(resource.RLIMIT_NPROC))


def _check_context_members(members: list[tarfile.TarInfo]) -> None:
    """Refuse what the context tar of ``context/archive.py`` never holds and what would write outside the context
    directory: absolute names, '..', hard links, devices, and an entry under a symbolic link of the same tar (a link
    to /etc, then link/passwd)."""
    links: set[str] = set()
    for member in members:
        parts = member.name.rstrip('/').split('/')
        under_link = any('/'.join(parts[:n]) in links for n in range(1, len(parts)))
        if member.name.startswith('/') or '..' in parts or member.islnk() or member.isdev() or under_link:
            raise TransferError('unexpected entry {0!r} in the context tar'.format(member.name))
        if member.issym():
            links.add('/'.join(parts))


class _BuildContainer:
    """One build container, as far as the engine has taken it."""

    def __init__(self, spec: BuildSpec, name: str, run_id: str, workdir: str) -> None:
        self.spec = spec
        self.name = name
        self.run_id = run_id
        self.workdir = workdir
        self.source = view.RUNNING
        self.kaniko: dict[str, Any] | None = None
        self.clone: subprocess.Popen[bytes] | None = None
        self.attach: subprocess.Popen[bytes] | None = None
        self.received = False
        self.removed = False
        self.vanished = False
        self.log = ContainerLog(name)
        self.lock = threading.Lock()

    def pod(self) -> dict[str, Any]:
        return view.view(self.name, bool(self.spec.local), self.source, self.kaniko, gone=self.removed or self.vanished)

    def path(self, *parts: str) -> str:
        return os.path.join(self.workdir, *parts)


class ContainerEngine:
    """Builds as containers of ``podman`` (its path), in ``network``; ``secrets`` is a HostSecrets."""

    def __init__(self, podman: str | None, secrets: HostSecrets, network: str,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 limits: Callable[[], tuple[cli.Limit, cli.Limit]] = _limits) -> None:
        self.podman = podman
        self.secrets = secrets
        self.network = network
        self.sleep = sleep
        self.clock = clock
        self.limits = limits
        self.boxes: dict[str, _BuildContainer] = {}

    # ------------------------------------------------------------------ what prepare and check mode ask

    def check_namespace(self, namespace: str) -> None:
        """There is no namespace: nothing to check."""

    def preview(self, spec: BuildSpec, registry_key: str, run_id: str) -> dict[str, Any]:
        del registry_key
        name = '{0}-<generated>'.format(spec.name)
        command = [self.podman, 'create'] + cli.create_args(
            spec, name, run_id, '<private directory>', self.network, self.limits())
        return dict(command=command, msg='Check mode: the build container would be run')

    @staticmethod
    def explain(outcome: states.Outcome) -> states.Outcome:
        return view.explain(outcome)

    def check_host(self) -> None:
        """Raise PodmanUnavailable unless this podman can run a build container in ``network`` (container_host)."""
        host.check(self.podman, self.network, lambda words: self._run(words, timeout=CHECK_TIMEOUT))

    # ------------------------------------------------------------------ create, watch, logs

    def create(self, spec: BuildSpec, workload: Workload, registry_key: str, run_id: str) -> Workload:
        """Make the private directory of a build and what goes into it; the container comes on the watch's looks."""
        del registry_key
        name = '{0}-{1}'.format(spec.name, os.urandom(3).hex())
        workdir = tempfile.mkdtemp(prefix='kiln-container-')
        os.chmod(workdir, 0o700)
        box = _BuildContainer(spec, name, run_id, workdir)
        for part in (cli.SOURCE, cli.DIGEST, cli.OUT, 'home'):
            os.mkdir(box.path(part), 0o700)
        if spec.registry_auth:
            os.mkdir(box.path(cli.DOCKER_CONFIG), 0o700)
            _private_file(box.path(cli.DOCKER_CONFIG, render.CONFIG_JSON), docker_config(spec))
        for index, ca in enumerate(spec.registry_ca):
            path = cli.ca_file(workdir, index)
            os.makedirs(os.path.dirname(path), 0o700)
            _private_file(path, self.secrets.registry_ca(None, ca))
        self.boxes[name] = box
        workload.pod = box.pod()
        return workload

    def follow_logs(self, namespace: str, name: str, containers: Sequence[str], writer: LogWriter | None, label: str,
                    keep: int) -> ContainerLog:
        return self.boxes[name].log.configure(writer, label, keep)

    def watch(self, namespaces: Iterable[str], run_id: str) -> ContainerWatch:
        return ContainerWatch(self, run_id)

    def exists(self, namespace: str, name: str) -> bool:
        box = self.boxes.get(name)
        return box is not None and not box.removed

    def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        return []

    def nodes(self) -> list[dict[str, Any]]:
        return []

    @staticmethod
    def lost_node(name: str) -> tuple[str, str] | None:
        """None: the build container runs on this host, which the module runs on too."""
        del name
        return None

    @staticmethod
    def lost(exc: BaseException, count: int) -> EngineError:
        """The EngineError of a run whose watch failed with ``exc`` (podman could not be asked)."""
        return EngineError(lost_contact(exc, count))

    def advance(self, box: _BuildContainer) -> bool:
        """Take ``box`` one step further if it can go; True when its pod status changed."""
        with box.lock:
            if box.removed:
                return False
            if box.kaniko is None:
                return self._advance_source(box)
            if box.kaniko is view.RUNNING and box.attach is not None and box.attach.poll() is not None:
                return self._started(box)
        return False

    def _started(self, box: _BuildContainer) -> bool:
        """``podman start --attach`` has ended: the container ran, or podman could not start it (then its stderr, the
        last line of the kaniko step, says why); or someone else removed it. True when the pod status changed."""
        box.log.close(render.KANIKO)
        state = self._inspect(box.name)
        if state is None:
            box.vanished = True
            return True
        said = None
        attach = cast('subprocess.Popen[bytes]', box.attach)  # advance() saw it end
        if attach.returncode != 0:
            said = view.podman_said('start', box.name, attach.returncode, box.log.last(render.KANIKO))
        box.kaniko = view.from_inspect(state, self._digest(box), said)
        return box.kaniko is not view.RUNNING

    def _advance_source(self, box: _BuildContainer) -> bool:
        if box.spec.local:
            if not box.received:
                return False
            box.source = view.terminated(0)
        elif box.clone is None:
            box.clone = self._popen(['/bin/sh', '-c', CLONE_SCRIPT], self._clone_env(box), box.path('home'))
            box.log.follow(render.CLONE, cast(IO[bytes], box.clone.stdout))  # a pipe
            return False
        elif box.clone.poll() is None:
            return False
        else:
            box.log.close(render.CLONE)
            message = self._read(box.path('termination'))
            box.source = view.terminated(box.clone.returncode, message=message)
            if box.clone.returncode != 0:
                return True
        self._start(box)
        return True

    def _clone_env(self, box: _BuildContainer) -> dict[str, str]:
        git = cast(GitSource, box.spec.git)  # a clone: the source is git
        secret_dir = box.path('git-secret')
        os.mkdir(secret_dir, 0o700)
        data = self.secrets.data(None, git.secret) if git.secret else None
        for key in _GIT_KEYS:
            if data and data.get(key):
                _private_file(os.path.join(secret_dir, key), data[key].rstrip('\r\n') + '\n')
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': box.path('home'), 'LC_ALL': 'C',
               'GIT_TERMINAL_PROMPT': '0', 'GIT_CONFIG_NOSYSTEM': '1',
               'KILN_SRC': box.path(cli.SOURCE), 'KILN_GIT_REPO': git.repo.url,
               'KILN_GIT_VERSION': git.version, 'KILN_GIT_DEPTH': str(git.depth),
               'KILN_GIT_SUBMODULES': 'true' if git.submodules else 'false',
               'KILN_GIT_TRANSPORT': 'ssh' if git.repo.transport == 'ssh' else 'http',
               'KILN_GIT_SECRET': git.secret or '', 'KILN_GIT_SECRET_DIR': secret_dir,
               'KILN_TERMINATION_LOG': box.path('termination')}
        if git.commit:
            env['KILN_GIT_COMMIT'] = git.commit
        return env

    def _start(self, box: _BuildContainer) -> None:
        """Create the container and start it attached: its output is the kaniko log."""
        args = cli.create_args(box.spec, box.name, box.run_id, box.workdir, self.network, self.limits())
        with held_signals():
            created = self._run(['create'] + args, timeout=max(COMMAND_TIMEOUT, box.spec.timeout))
        if created.returncode != 0:
            box.kaniko = view.create_failure(box.name, created.returncode, created.stderr, box.spec.image_pull_policy)
            return
        box.attach = self._popen([cast(str, self.podman), 'start', '--attach', box.name])  # check_host() found it
        box.log.follow(render.KANIKO, cast(IO[bytes], box.attach.stdout))  # a pipe
        box.kaniko = view.RUNNING

    # ------------------------------------------------------------------ the local context and the tarball

    def send_file(self, namespace: str, name: str, container: str, command: list[str], path: str, size: int) -> None:
        """Unpack the local context's tar (``path``) into the build's context directory (the pod's receive step)."""
        box = self.boxes[name]
        target = box.path(cli.SOURCE, box.spec.context_sub_path)
        try:
            os.makedirs(target, 0o755, exist_ok=True)
            with tarfile.open(path, 'r:') as archive:
                members = archive.getmembers()
                _check_context_members(members)
                # Checked above, and unpacked as the pod's `tar -x` does: modes kept, symbolic links to absolute
                # paths kept (Kaniko copies them as links). Python 3.14's default filter, 'data', would refuse those
                # links and clear modes; Pythons that have filters warn when none is named.
                if hasattr(tarfile, 'fully_trusted_filter'):
                    archive.extractall(target, members, filter='fully_trusted')
                else:
                    archive.extractall(target, members)
        except (OSError, tarfile.TarError) as exc:
            raise TransferError('could not unpack it: {0}'.format(exc)) from exc
        box.log.line(render.RECEIVE, 'kiln receive: build context received')
        box.received = True

    def fetch_tarball(self, namespace: str, name: str, spec: BuildSpec) -> dict[str, Any]:
        out = cast(Tarball, spec.tarball)  # container_build's tarball has its dest
        source = self.boxes[name].path(cli.OUT, os.path.basename(out.tar_path))
        try:
            return tarball.place(source, cast(str, out.dest))
        except (OSError, IOError) as exc:
            raise TransferError(str(exc)) from exc

    # What the build path asks of an engine for a tarball on a claim (tarball.pvc) or a pod kept with its export
    # container (keep_pod): a build container has neither (spec/container_build.py, keep_pod never).

    def keep_tarball(self, namespace: str, name: str, spec: BuildSpec) -> dict[str, Any]:
        raise TransferError('a build container keeps no tarball on a claim: give tarball.dest')

    def run(self, namespace: str, name: str, container: str, command: list[str]) -> str:
        raise TransferError('a build container has no {0} container to run a command in'.format(container))

    # ------------------------------------------------------------------ delete

    def delete(self, kind: str, namespace: str | None, name: str, running: bool, warn: Warn,
               deadline: float | None = None) -> None:
        """Remove build container ``name`` (kind 'pod'), kill what still runs of it, remove its directory."""
        box = self.boxes.get(name)
        if kind != 'pod' or box is None:
            return
        with box.lock:
            box.removed = True
            for process in (box.clone, box.attach):
                if process is not None and process.poll() is None:
                    process.kill()
            if box.kaniko is not None:
                removed = self._run(['rm', '--force', '--time=0', name])
                if removed.returncode != 0 and 'no such container' not in (removed.stderr or '').lower():
                    warn('Could not remove the build container {0}: {1}'.format(name, removed.stderr.strip()))
            for process in (box.clone, box.attach):
                if process is not None:
                    process.wait()
            box.log.close_all()
            shutil.rmtree(box.workdir, ignore_errors=True)

    def delete_run(self, namespaces: Iterable[str], run_id: str, keep: Collection[tuple[str, str | None]],
                   warn: Warn) -> None:
        """Remove every container of run ``run_id`` (by its label, also one this process lost track of)."""
        for name, box in list(self.boxes.items()):
            if box.run_id == run_id and not box.removed:
                self.delete('pod', None, name, True, warn)
        listed = self._run(['ps', '--all', '--quiet', '--filter', 'label={0}={1}'.format(render.RUN_LABEL, run_id)])
        for container in (listed.stdout or '').split():
            self._run(['rm', '--force', '--time=0', container])

    def close(self, warn: Warn) -> None:
        """Remove what is left: the containers and directories of every build."""
        for name, box in list(self.boxes.items()):
            if not box.removed:
                self.delete('pod', None, name, True, warn)

    # ------------------------------------------------------------------ podman

    # subprocess, not AnsibleModule.run_command (which ansible-test 2.21's pylint asks modules and module_utils for):
    # run_command has no timeout, which a podman hung on its store needs, and cannot start podman in a process group
    # of its own (setsid), which keeps a Ctrl-C of the play from killing podman before the build's cleanup runs; and
    # the attached build container and the host's clone must run while the scheduler advances the other builds, where
    # run_command waits for its command's end.
    def _run(self, words: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
        try:
            # pylint: disable-next=ansible-bad-function
            return subprocess.run([cast(str, self.podman)] + list(words), stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout, start_new_session=True, check=False)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(exc.cmd, 124, '', 'podman {0}: no answer within {1} s'.format(
                words[0], timeout))

    @staticmethod
    def _popen(command: list[str], env: dict[str, str] | None = None,
               cwd: str | None = None) -> subprocess.Popen[bytes]:
        # pylint: disable-next=ansible-bad-function
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, start_new_session=True)

    def _inspect(self, name: str) -> dict[str, Any] | None:
        """The State of container ``name``, or None when podman has no such container."""
        found = self._run(['inspect', '--type=container', '--format={{json .State}}', name])
        if found.returncode != 0:
            if 'no such container' in (found.stderr or '').lower():
                return None
            return {'Status': 'unknown', 'Error': view.podman_said('inspect', name, found.returncode, found.stderr)}
        try:
            return json.loads(found.stdout)
        except ValueError:
            return {'Status': 'unknown', 'Error': found.stdout.strip()}

    def _digest(self, box: _BuildContainer) -> str | None:
        return self._read(box.path(cli.DIGEST, os.path.basename(cli.DIGEST_FILE)))

    @staticmethod
    def _read(path: str) -> str | None:
        try:
            with open(path) as handle:
                return handle.read(64 * 1024).strip() or None
        except (IOError, OSError):
            return None


class ContainerWatch:
    """The Scheduler's event source for the containers of one run: each look advances them (see the module)."""

    def __init__(self, engine: ContainerEngine, run_id: str) -> None:
        self.engine = engine
        self.run_id = run_id

    def start(self) -> ContainerWatch:
        return self

    def stop(self) -> None:
        pass

    def next(self, seconds: float) -> Event | None:
        """(None, 'MODIFIED', pod status) of a build that moved on, or None after ``seconds``."""
        deadline = self.engine.clock() + seconds
        while True:
            for box in list(self.engine.boxes.values()):
                if box.run_id == self.run_id and self.engine.advance(box):
                    return None, 'MODIFIED', box.pod()
            left = deadline - self.engine.clock()
            if left <= 0:
                return None
            self.engine.sleep(min(POLL_SECONDS, left))
