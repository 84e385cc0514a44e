"""A build ends with the job that started it: AWX's Cancel (ansible-runner's cancel_callback), signals to
ansible-playbook, and every process of the play killed.

Each test starts a build that sleeps (tests/faults/repo/wait), waits until its RUN step runs, ends the job
one way, and measures the seconds until the build pod and its Secret are gone. The figures are printed
(pytest -rP shows them) as `ended-by <how>: <seconds> s`.
"""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import ansible_runner
import pytest

from conftest import build_task, registry_has, wait_until

MARKER_TEXT = "kiln-faults: step started"  # what tests/faults/repo/wait prints when its RUN step starts

LIMIT = 15          # the bound for every way a job ends but one
ALL_KILLED_LIMIT = 90   # every process of the play killed: only the heartbeat's age is left


def build_pods(kube, namespace):
    return kube.pods(namespace, label_selector="app.kubernetes.io/managed-by=kiln.kaniko")


def wait_running(kube, namespace, count=1, timeout=180):
    """Wait until ``count`` build pods print the RUN step's marker."""
    def running():
        pods = build_pods(kube, namespace)
        marked = [p for p in pods if MARKER_TEXT in kube.log(namespace, p.metadata.name, "kaniko")]
        return len(marked) >= count
    wait_until(running, timeout, "%d build(s) running in %s" % (count, namespace))
    assert len(kube.secrets(namespace)) >= 1


def seconds_until_gone(kube, namespace, since, limit):
    """Seconds from ``since`` until no pod or Secret is left in ``namespace``; fails past ``limit`` (+30 to tell)."""
    deadline = since + limit + 30
    while time.monotonic() < deadline:
        if not kube.names(namespace):
            return time.monotonic() - since
        time.sleep(0.25)
    raise AssertionError("still there %ds after the job ended: %s" % (limit + 30, sorted(kube.names(namespace))))


def end_and_measure(kube, namespace, play, pids, signum, what, limit=LIMIT, count=1):
    """Once ``count`` builds run, send ``signum`` to ``pids`` (None: the play's process group); return the
    seconds until nothing is left in ``namespace``, printed as `ended-by <what>`."""
    wait_running(kube, namespace, count=count)
    pids = play_processes(play) if pids == "all" else pids
    since = time.monotonic()
    if pids is None:
        play.signal(signum)
    for pid in pids or ():
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    seconds = seconds_until_gone(kube, namespace, since, limit)
    play.wait(120)
    print("ended-by %s: %.1f s" % (what, seconds))
    assert seconds <= limit, play.output()[-3000:]
    return seconds


def wait_args(lab_build, lab, tag, **extra):
    return lab_build("wait", tag, build_args={"PAUSE": "300"},
                     registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": "p-" + tag}],
                     **extra)


# ---------------------------------------------------------------- ansible-runner, as AWX runs a job

def runner_dir(tmp_path, lab, tasks, extravars=None):
    """A private data directory as AWX writes one: project/playbook, inventory, env."""
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "env").mkdir()
    playbook = [{"name": "build", "hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/kiln.kaniko.k8s": {"kubeconfig": lab["KUBECONFIG"]}},
                 "tasks": tasks}]
    (private / "project" / "build.yml").write_text(json.dumps(playbook))
    (private / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    (private / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }))
    if extravars:
        (private / "env" / "extravars").write_text(json.dumps(extravars))
    return private


def test_ansible_runner_shows_progress_during_the_build_and_returns_the_digest(lab, kube, namespace, lab_build,
                                                                              tmp_path):
    args = lab_build("wait", "runner", build_args={"PAUSE": "8"})
    private = runner_dir(tmp_path, lab, [{"name": "the build", "kiln.kaniko.build": args, "register": "built"}],
                         extravars={"kiln_kaniko_progress_interval": 2})
    events = []
    run = ansible_runner.run(private_data_dir=str(private), playbook="build.yml", verbosity=1, quiet=True,
                             event_handler=lambda event: events.append(event) or True)
    assert run.status == "successful", run.stdout.read()[-3000:]

    names = [e["event"] for e in events]
    start = next(i for i, e in enumerate(events) if e["event"] == "playbook_on_task_start"
                 and e["event_data"].get("task") == "the build")
    end = next(i for i, e in enumerate(events)
               if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "the build")
    during = [e.get("stdout", "") for e in events[start + 1:end]]
    assert any("building for" in line for line in during), names[start:end + 1]
    assert any("kiln-faults: step started" in line for line in during), during  # -v: log lines as they come
    result = events[end]["event_data"]["res"]
    digest = registry_has(lab, args["destinations"][0].split("/", 1)[1].rsplit(":", 1)[0],
                          args["destinations"][0].rsplit(":", 1)[1])
    assert result["digest"] == digest and digest.startswith("sha256:")
    print("ansible-runner: %d events during the build task, digest %s" % (len(during), digest))


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_ansible_runner_cancel_removes_the_build_at_once(lab, kube, namespace, lab_build, tmp_path, attempt):
    args = wait_args(lab_build, lab, "cancel-%d" % attempt)
    private = runner_dir(tmp_path, lab, [{"name": "the build", "kiln.kaniko.build": args}])
    cancel = threading.Event()
    thread, run = ansible_runner.run_async(private_data_dir=str(private), playbook="build.yml", quiet=True,
                                           cancel_callback=cancel.is_set)
    try:
        wait_running(kube, namespace)
        since = time.monotonic()
        cancel.set()
        seconds = seconds_until_gone(kube, namespace, since, LIMIT)
    finally:
        cancel.set()
        thread.join(60)
    assert run.status == "canceled"
    print("ended-by ansible-runner cancel (attempt %d): %.1f s" % (attempt, seconds))
    assert seconds <= LIMIT


# ---------------------------------------------------------------- signals to ansible-playbook

def play_processes(play):
    """Pids of the play: ansible-playbook, its workers (each in a session of its own), and what runs under
    them, but not the detached async job of the module."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [play.proc.pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    module = set(play.module_pids())
    return [pid for pid in found if pid not in module]


@pytest.mark.parametrize("how", ["SIGINT to ansible-playbook", "SIGTERM to ansible-playbook",
                                 "Ctrl-C (SIGINT to the process group)", "SIGKILL to ansible-playbook"])
def test_the_end_of_ansible_playbook_removes_the_build_at_once(lab, kube, namespace, ansible, lab_build, how):
    play = ansible.start([build_task("built", **wait_args(lab_build, lab, how.split()[0].lower()))])
    signum = getattr(signal, how.split()[0].replace("Ctrl-C", "SIGINT"))
    end_and_measure(kube, namespace, play, None if "group" in how else [play.proc.pid], signum, how)


def test_a_list_of_builds_ends_with_the_play(lab, kube, namespace, ansible, lab_build):
    one, two = wait_args(lab_build, lab, "list-a"), wait_args(lab_build, lab, "list-b")
    builds = [{"context_sub_path": "wait", "destinations": one["destinations"]},
              {"context_sub_path": "wait", "destinations": two["destinations"]}]
    args = dict(one, builds=builds)
    args.pop("destinations")
    play = ansible.start([build_task("built", **args)])
    end_and_measure(kube, namespace, play, [play.proc.pid], signal.SIGKILL,
                    "SIGKILL to ansible-playbook, builds: list of 2", count=2)


def test_a_build_with_a_local_context_and_a_tarball_ends_with_the_play(lab, kube, namespace, ansible, lab_build,
                                                                       tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text((Path(__file__).resolve().parent.parent / "faults" / "repo" / "wait" /
                                         "Dockerfile").read_text())
    args = wait_args(lab_build, lab, "local", local_context={"path": str(context)},
                     tarball={"dest": str(tmp_path / "image.tar")})
    args.pop("git")
    args.pop("context_sub_path")
    play = ansible.start([build_task("built", **args)])
    end_and_measure(kube, namespace, play, [play.proc.pid], signal.SIGTERM,
                    "SIGTERM to ansible-playbook, local_context and tarball")
    assert not (tmp_path / "image.tar").exists()


def test_every_process_of_the_play_killed_leaves_the_heartbeat_to_stop_the_build(lab, kube, namespace, ansible,
                                                                                 lab_build):
    play = ansible.start([build_task("built", **wait_args(lab_build, lab, "all-killed"))])
    wait_running(kube, namespace)
    assert len(play_processes(play)) >= 2  # ansible-playbook and the worker that follows the build
    end_and_measure(kube, namespace, play, "all", signal.SIGKILL, "SIGKILL to every process of the play",
                    limit=ALL_KILLED_LIMIT)
