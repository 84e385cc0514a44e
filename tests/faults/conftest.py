"""Fixtures of the fault and bad-input tests: they run kiln.kaniko on the lab cluster (make lab-up).

scripts/faults.sh runs them: it stages the collection and points ANSIBLE_COLLECTIONS_PATH at it.
Playbooks are written per test as JSON (valid YAML) and run with ansible-playbook in a process
group of their own, so that a test can interrupt them the way Ctrl-C does.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LAB = REPO / "tests" / "lab" / "lab.py"
REPO_SOURCE = HERE / "repo"
FAULTS_REPO = "kiln-faults.git"


def _lab_env():
    out = subprocess.run([sys.executable, str(LAB), "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = value
    return env


def lab_healthy():
    return subprocess.run([sys.executable, str(LAB), "status"], capture_output=True, text=True).returncode == 0


@pytest.fixture(scope="session")
def lab():
    env = _lab_env()
    if not Path(env["KUBECONFIG"]).exists() or not lab_healthy():
        pytest.fail("the lab is not up and healthy: run `make lab-up` first")
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        pytest.fail("ANSIBLE_COLLECTIONS_PATH is not set: run these tests with scripts/faults.sh")
    return env


class Kube(object):
    """The few reads and writes the tests make, with the lab's admin credentials."""

    def __init__(self, env):
        api = k8s_config.new_client_from_config(config_file=env["KUBECONFIG"])
        self.core = k8s_client.CoreV1Api(api)

    def pods(self, namespace, **kwargs):
        return self.core.list_namespaced_pod(namespace, **kwargs).items

    def secrets(self, namespace):
        return self.core.list_namespaced_secret(namespace).items

    def names(self, namespace):
        """Names of the pods and Secrets in ``namespace``: what a task may have left behind."""
        return ({"pod/" + p.metadata.name for p in self.pods(namespace)}
                | {"secret/" + s.metadata.name for s in self.secrets(namespace)})

    def log(self, namespace, name, container):
        try:
            # The client returns None for an empty log.
            return self.core.read_namespaced_pod_log(name, namespace, container=container, _request_timeout=10) or ""
        except ApiException:
            return ""

    def create_namespace(self, name, labels=None):
        self.core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
        # Pods are refused until the namespace's default ServiceAccount exists.
        wait_until(lambda: self._has_default_account(name), 60, "the default ServiceAccount of " + name)

    def _has_default_account(self, name):
        try:
            self.core.read_namespaced_service_account("default", name)
            return True
        except ApiException:
            return False

    def namespace_exists(self, name):
        try:
            self.core.read_namespace(name)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise

    def delete_namespace(self, name):
        try:
            self.core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def secret(self, namespace, name, data, secret_type="Opaque"):
        self.core.create_namespaced_secret(namespace, {
            "metadata": {"name": name}, "type": secret_type,
            "stringData": data,
        })

    def events(self, namespace):
        return self.core.list_namespaced_event(namespace).items


def path_without(program, directory):
    """A PATH of one directory, made here, that holds every program of this PATH but ``program``: for a task's
    environment, a host that lacks ``program`` as the module and podman see it, without uninstalling anything."""
    directory = Path(directory)
    directory.mkdir(parents=True)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(entry):
            continue
        for name in os.listdir(entry):
            target = os.path.join(entry, name)
            if name != program and not (directory / name).exists() and os.access(target, os.X_OK):
                (directory / name).symlink_to(target)
    assert shutil.which(program, path=str(directory)) is None
    return str(directory)


def wait_until(check, timeout, what, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))


@pytest.fixture(scope="session")
def kube(lab):
    return Kube(lab)


@contextlib.contextmanager
def fresh_namespace(kube, prefix="kiln-faults-"):
    """A namespace of its own for the block, deleted afterwards."""
    name = prefix + uuid.uuid4().hex[:8]
    kube.create_namespace(name)
    try:
        yield name
    finally:
        kube.delete_namespace(name)


@pytest.fixture
def namespace(kube):
    """A namespace of the test's own, deleted afterwards."""
    with fresh_namespace(kube) as name:
        yield name


@pytest.fixture(scope="session")
def faults_repo(lab):
    """Serve tests/faults/repo as kiln-faults.git (and private/kiln-faults.git) from the lab's git server."""
    root = Path(lab["KILN_LAB_GIT_ROOT"])
    env = dict(os.environ, GIT_AUTHOR_NAME="kiln faults", GIT_AUTHOR_EMAIL="faults@kiln.invalid",
               GIT_COMMITTER_NAME="kiln faults", GIT_COMMITTER_EMAIL="faults@kiln.invalid",
               GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    work = Path(tempfile.mkdtemp(prefix="kiln-faults-repo-"))
    try:
        shutil.copytree(REPO_SOURCE, work / "src")
        git = ["git", "-C", str(work / "src")]
        subprocess.run(git + ["init", "-q", "-b", "main"], check=True, env=env)
        subprocess.run(git + ["add", "-A"], check=True, env=env)
        subprocess.run(git + ["commit", "-q", "-m", "fault test sample"], check=True, env=env)
        commit = subprocess.run(git + ["rev-parse", "HEAD"], check=True, env=env, capture_output=True,
                                text=True).stdout.strip()
        for bare in (root / FAULTS_REPO, root / "private" / FAULTS_REPO):
            if not bare.exists():
                bare.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True, env=env)
            subprocess.run(git + ["push", "-q", "--force", str(bare), "main"], check=True, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"http": lab["KILN_LAB_GIT_URL"] + "/" + FAULTS_REPO,
            "private": lab["KILN_LAB_GIT_URL"] + "/private/" + FAULTS_REPO,
            "ssh": lab["KILN_LAB_GIT_SSH_URL"] + "/" + FAULTS_REPO,
            "commit": commit}


# ---------------------------------------------------------------- ansible-playbook

class Play(object):
    """One ansible-playbook run in its own process group; results land in a JSON file."""

    def __init__(self, workdir, proc, results_file, output_file):
        self.workdir = workdir
        self.proc = proc
        self.results_file = results_file
        self.output_file = output_file

    def wait(self, timeout=900):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)
            raise AssertionError("ansible-playbook did not end in %ds:\n%s" % (timeout, self.output()[-4000:])) from exc
        return self

    @property
    def returncode(self):
        return self.proc.returncode

    def output(self):
        return self.output_file.read_text(errors="replace") if self.output_file.exists() else ""

    def results(self):
        if not self.results_file.exists():
            raise AssertionError("the play wrote no results (rc %s):\n%s" % (self.returncode, self.output()[-4000:]))
        return json.loads(self.results_file.read_text())

    def signal(self, signum):
        """Send ``signum`` to the play's whole process group, as a terminal does for Ctrl-C."""
        try:
            os.killpg(self.proc.pid, signum)
        except ProcessLookupError:
            pass

    def module_pids(self, module="build"):
        """Pids of this play's running module: a python running AnsiballZ_<module>.py from the play's own
        remote temporary directory. The module may run detached from the play (as an async job)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if (len(argv) > 1 and "python" in os.path.basename(argv[0])
                    and argv[1].startswith(str(self.workdir) + "/")
                    and argv[1].endswith("/AnsiballZ_%s.py" % module)):
                found.append(int(entry.name))
        return found


class Ansible(object):
    def __init__(self, lab, workdir):
        self.lab = lab
        self.workdir = Path(workdir)
        self.runs = 0

    def start(self, tasks, verbosity=0, extra_env=None, dump=()):
        """Start a play of ``tasks`` (dicts); each task with a ``register``, and each variable named in ``dump``,
        lands in results()."""
        self.runs += 1
        run_dir = self.workdir / ("play%d" % self.runs)
        run_dir.mkdir(parents=True)
        results_file = run_dir / "results.json"
        registered = [task["register"] for task in tasks if "register" in task] + list(dump)
        dump = "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (name, name) for name in registered)
        playbook = [{
            "name": "kiln.kaniko on the lab",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/kiln.kaniko.k8s": {"kubeconfig": self.lab["KUBECONFIG"]}},
            "tasks": list(tasks) + [{
                "name": "Write the results",
                "ansible.builtin.copy": {"content": dump, "dest": str(results_file), "mode": "0600"},
            }],
        }]
        (run_dir / "playbook.yml").write_text(json.dumps(playbook, indent=1))
        (run_dir / "inventory").write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCAL_TEMP=str(run_dir / "tmp"), ANSIBLE_REMOTE_TMP=str(run_dir / "remote"),
                   ANSIBLE_ASYNC_DIR=str(run_dir / "async"), ANSIBLE_HOME=str(run_dir / "home"))
        env.update(extra_env or {})
        output_file = run_dir / "output.log"
        command = [shutil.which("ansible-playbook", path=os.path.dirname(sys.executable) + os.pathsep
                                + os.environ.get("PATH", "")) or "ansible-playbook",
                   "-i", str(run_dir / "inventory"), str(run_dir / "playbook.yml")]
        if verbosity:
            command.append("-" + "v" * verbosity)
        with open(output_file, "wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=str(run_dir), env=env, start_new_session=True)
        return Play(run_dir, proc, results_file, output_file)

    def run(self, tasks, timeout=900, **kwargs):
        return self.start(tasks, **kwargs).wait(timeout)


@pytest.fixture
def ansible(lab, tmp_path):
    return Ansible(lab, tmp_path)


def build_task(register, **args):
    return {"name": "kiln.kaniko.build " + register, "kiln.kaniko.build": args, "register": register,
            "ignore_errors": True}


@pytest.fixture
def lab_build(lab, faults_repo, namespace):
    """Build arguments for the lab: the faults repository, the lab registry for bases and pushes."""
    registry = lab["KILN_LAB_REGISTRY"]

    def args(context, tag, **overrides):
        values = dict(
            namespace=namespace,
            git={"repo": faults_repo["http"]},
            context_sub_path=context,
            destinations=["%s/%s/%s:%s" % (registry, namespace, context or "top", tag)],
            registry_mirrors=[registry],
            insecure_registries=[registry],
            insecure=True,
            timeout=300,
        )
        values.update(overrides)
        return values
    return args


# ---------------------------------------------------------------- the lab under faults

@contextlib.contextmanager
def outage(component):
    """Stop one lab component for the block; always start it again and wait for the lab to be healthy."""
    subprocess.run([sys.executable, str(LAB), "stop", component], check=True, capture_output=True)
    try:
        yield
    finally:
        restore_lab()


def restore_lab():
    up = subprocess.run([sys.executable, str(LAB), "up"], capture_output=True, text=True)
    if up.returncode:
        raise AssertionError("lab.py up failed:\n%s%s" % (up.stdout[-2000:], up.stderr[-2000:]))
    wait_until(lab_healthy, 120, "the lab to be healthy again")


def registry_has(lab, repository, reference):
    import urllib.error
    import urllib.request
    request = urllib.request.Request(
        "http://%s/v2/%s/manifests/%s" % (lab["KILN_LAB_REGISTRY"], repository, reference), method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                           "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


class Creations(object):
    """Records every pod and Secret created in a namespace while it runs (a watch in a thread)."""

    def __init__(self, kube, namespace):
        self.kube = kube
        self.namespace = namespace
        self.seen = []
        self._stop = threading.Event()
        self._threads = []

    def _watch(self, kind, lister):
        version = lister(self.namespace).metadata.resource_version
        while not self._stop.is_set():
            watcher = k8s_watch.Watch()
            try:
                for event in watcher.stream(lister, self.namespace, resource_version=version, timeout_seconds=2):
                    version = event["object"].metadata.resource_version
                    if event["type"] == "ADDED":
                        self.seen.append("%s/%s" % (kind, event["object"].metadata.name))
            except ApiException as exc:
                if exc.status != 410:
                    raise
                version = lister(self.namespace).metadata.resource_version

    def __enter__(self):
        for kind, lister in (("pod", self.kube.core.list_namespaced_pod),
                             ("secret", self.kube.core.list_namespaced_secret)):
            thread = threading.Thread(target=self._watch, args=(kind, lister), daemon=True)
            thread.start()
            self._threads.append(thread)
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        time.sleep(1)
        self._stop.set()
        for thread in self._threads:
            thread.join(10)


def b64(text):
    return base64.b64encode(text.encode()).decode()
