"""kiln.kaniko.container_build when podman cannot run the build, on this machine's podman and the lab.

Each test takes one thing from podman as a fresh host lacks it, without uninstalling anything: slirp4netns (a
PATH without it: podman 4.3 looks for it on PATH alone), a slirp4netns that is not there (containers.conf's
network_cmd_path, through CONTAINERS_CONF), a network podman does not know, podman itself (a PATH without it).
Each task must fail with podman's words (or what podman reported), the container and the hint, within
FAIL_FAST_SECONDS of the same task refused at once as a bad input (Ansible's own time for a task, which the load
of this machine stretches), and leave no container and no private directory (the module's TMPDIR is the test's
own). Both times are printed: run with -rP to see them.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

from conftest import LAB, path_without

FAIL_FAST_SECONDS = 10
EXECUTOR = "ghcr.io/osscontainertools/kaniko:v1.26.3"


@pytest.fixture(scope="module")
def executor_image(lab):
    """The lab's executor image in podman's store (lab.py podman loads it once), for the tests that get as far as
    podman create."""
    subprocess.run([sys.executable, str(LAB), "podman"], check=True, capture_output=True)
    return EXECUTOR


@pytest.fixture
def host(tmp_path):
    """The module's TMPDIR, and PATHs without a program: what a task of the test may leave is in tmp_path."""
    class Host(object):
        tmpdir = tmp_path / "module-tmp"
        name = "kiln-faults-" + uuid.uuid4().hex[:6]

        @staticmethod
        def path_without(program):
            return path_without(program, tmp_path / ("path-without-" + program))

        @staticmethod
        def left_behind():
            """Build containers of this test, and private directories of the module."""
            listed = subprocess.run(["podman", "ps", "--all", "--format", "{{.Names}}", "--filter",
                                     "name=^" + Host.name], capture_output=True, text=True, check=True)
            return listed.stdout.split() + sorted(os.listdir(Host.tmpdir))
    Host.tmpdir.mkdir()
    return Host


def run_timed(ansible, args, environment):
    """Run one container_build task, and before it the same task refused at once (timeout 0, a bad input): the
    build's result, the seconds its task took, and the seconds the refused one took, which are Ansible's own
    (the module's transfer, its async job, the polls), as long on this machine as the load makes them."""
    now = "now(utc=true).timestamp()"
    task = {"name": "kiln.kaniko.container_build", "kiln.kaniko.container_build": args, "environment": environment,
            "register": "built", "ignore_errors": True}
    refused = dict(task, register="refused")
    refused["kiln.kaniko.container_build"] = dict(args, timeout=0)
    tasks = [{"name": "Before", "ansible.builtin.set_fact": {"stamp": "{{ %s }}" % now}},
             refused,
             {"name": "Between", "ansible.builtin.set_fact": {"refused_seconds": "{{ %s - (stamp | float) }}" % now,
                                                              "stamp": "{{ %s }}" % now}},
             task,
             {"name": "After", "ansible.builtin.set_fact": {"seconds": "{{ %s - (stamp | float) }}" % now}}]
    results = ansible.run(tasks, timeout=300, dump=["seconds", "refused_seconds"]).results()
    assert results["refused"]["msg"] == "timeout: must be a positive number of seconds", results["refused"]
    return results["built"], float(results["seconds"]), float(results["refused_seconds"])


def build_args(lab, host, **overrides):
    registry = lab["KILN_LAB_REGISTRY"]
    args = dict(name=host.name, git={"repo": lab["KILN_LAB_GIT_URL"] + "/smoke.git"},
                destinations=["%s/%s/smoke:fail-fast" % (registry, host.name)], registry_mirrors=[registry],
                insecure_registries=[registry], insecure=True, image_pull_policy="Never", timeout=600)
    args.update(overrides)
    return args


def show(result, seconds, refused_seconds):
    """Print what the task said and how long it took (pytest -rP shows it)."""
    print("task %.1f s (a task refused at once: %.1f s; %.1f s beyond it; the build's duration: %s s) | reason=%s "
          "rc=%s container_name=%s | %s" % (seconds, refused_seconds, seconds - refused_seconds, result.get("duration"),
                                            result.get("reason"), result.get("rc"), result.get("container_name"),
                                            result.get("msg")))
    return result


def assert_failed_fast(result, seconds, refused_seconds, reason):
    """The task failed for ``reason``, with the hint in its message, within FAIL_FAST_SECONDS of what a task that
    fails at once takes here: no wait for timeout (600 s)."""
    assert result.get("failed"), "the task did not fail: %s" % json.dumps(result)[:2000]
    assert result["reason"] == reason, result["msg"]
    assert seconds - refused_seconds < FAIL_FAST_SECONDS, "the task took %.1f s, one refused at once %.1f s" % (
        seconds, refused_seconds)
    assert result["hint"] and result["msg"].endswith("(hint: %s)" % result["hint"])
    assert "Traceback" not in result["msg"]


# ---------------------------------------------------------------- no slirp4netns, as on a host without the package

def test_without_slirp4netns_the_task_fails_before_anything_is_made(lab, ansible, host):
    result, seconds, refused = run_timed(ansible, build_args(lab, host), {
        "PATH": host.path_without("slirp4netns"), "TMPDIR": str(host.tmpdir)})
    show(result, seconds, refused)

    assert_failed_fast(result, seconds, refused, "NetworkHelperNotFound")
    # What podman reported: its info names no slirp4netns. No container was made, so none is named.
    assert "finds no slirp4netns, which network: slirp4netns needs" in result["msg"]
    assert "podman info names no host.slirp4netns.executable" in result["msg"]
    assert "apt-get install slirp4netns" in result["hint"] and "network: host" in result["hint"]
    assert result.get("container_name") is None and not result.get("changed")
    assert host.left_behind() == []


# ---------------------------------------------------------------- a slirp4netns podman is told of, that is not there

def test_a_slirp4netns_that_is_not_there_fails_at_podman_start_with_its_words(lab, ansible, host, executor_image,
                                                                               tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nnetwork_cmd_path = "%s"\n' % (tmp_path / "no-such-dir" / "slirp4netns"))
    result, seconds, refused = run_timed(ansible, build_args(lab, host), {
        "CONTAINERS_CONF": str(conf), "TMPDIR": str(host.tmpdir)})
    show(result, seconds, refused)

    assert_failed_fast(result, seconds, refused, "RunContainerError")
    name = result["container_name"]
    assert name.startswith(host.name + "-")
    assert ("podman start %s exited with status 125: Error: unable to start container" % name) in result["msg"]
    assert "checking slirp4netns binary %s" % (tmp_path / "no-such-dir" / "slirp4netns") in result["msg"]
    assert "slirp4netns --version" in result["hint"] and "network: host" in result["hint"]
    assert host.left_behind() == []


# ---------------------------------------------------------------- a network podman does not know

def test_a_network_podman_does_not_know_fails_at_podman_create_with_its_words(lab, ansible, host, executor_image):
    result, seconds, refused = run_timed(ansible, build_args(lab, host, network="no-such-net"),
                                         {"TMPDIR": str(host.tmpdir)})
    show(result, seconds, refused)

    assert_failed_fast(result, seconds, refused, "CreateContainerError")
    name = result["container_name"]
    assert ("podman create %s exited with status 125: Error: unable to find network with name or ID no-such-net: "
            "network not found" % name) in result["msg"]
    assert "podman network create" in result["hint"]
    assert host.left_behind() == []


# ---------------------------------------------------------------- no podman

def test_without_podman_the_task_fails_before_anything_is_made(lab, ansible, host):
    path = host.path_without("podman")
    result, seconds, refused = run_timed(ansible, build_args(lab, host), {"PATH": path, "TMPDIR": str(host.tmpdir)})
    show(result, seconds, refused)

    assert_failed_fast(result, seconds, refused, "PodmanNotFound")
    assert "podman is not installed on the host that runs the module: it is not on PATH (%s)" % path in result["msg"]
    assert "install podman 4.0 or later" in result["hint"]
    assert result.get("container_name") is None and not result.get("changed")
    assert host.left_behind() == []
