"""Fixtures for the lab smoke tests: they talk to the running lab cluster (make lab-up) with kubectl."""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parent.parent / "lab" / "lab.py"


def _lab_env():
    out = subprocess.run([sys.executable, str(LAB), "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = value
    return env


class Kube:
    def __init__(self, env, namespace):
        self.env = env
        self.namespace = namespace
        self.kubectl = env["KILN_LAB_KUBECTL"]

    def run(self, *args, input=None, check=True):
        proc = subprocess.run([self.kubectl, "--kubeconfig", self.env["KUBECONFIG"], "-n", self.namespace, *args],
                              input=input, capture_output=True, text=True)
        if check and proc.returncode:
            raise AssertionError("kubectl %s failed: %s" % (" ".join(args), proc.stderr))
        return proc.stdout

    def apply(self, manifest):
        return self.run("apply", "-f", "-", input=json.dumps(manifest))

    def get(self, kind, name):
        return json.loads(self.run("get", kind, name, "-o", "json"))

    def wait_pod(self, name, phases=("Succeeded", "Failed"), timeout=120):
        deadline = time.monotonic() + timeout
        pod = None
        while time.monotonic() < deadline:
            pod = self.get("pod", name)
            if pod.get("status", {}).get("phase") in phases:
                return pod
            stuck = image_errors(pod)
            if stuck:
                # The lab pulls nothing from outside: an image that is not on the node will not come.
                raise AssertionError("pod %s cannot start: %s" % (name, "; ".join(stuck)))
            time.sleep(0.25)
        raise AssertionError("pod %s did not reach %s in %ds; last status: %s"
                             % (name, phases, timeout, json.dumps(pod.get("status") if pod else None)[:2000]))

    def logs(self, name, container=None):
        args = ["logs", name] + (["-c", container] if container else [])
        return self.run(*args)


@pytest.fixture(scope="session")
def lab():
    env = _lab_env()
    if not Path(env["KUBECONFIG"]).exists():
        pytest.fail("the lab is not up: run `make lab-up` first")
    status = subprocess.run([sys.executable, str(LAB), "status"], capture_output=True, text=True)
    if status.returncode:
        pytest.fail("the lab is not healthy:\n" + status.stdout)
    return env


@pytest.fixture
def kube(lab):
    namespace = "smoke-" + uuid.uuid4().hex[:8]
    admin = Kube(lab, "default")
    admin.run("create", "namespace", namespace)
    try:
        yield Kube(lab, namespace)
    finally:
        admin.run("delete", "namespace", namespace, "--wait=false", check=False)


IMAGE_ERRORS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName")


def image_errors(pod):
    """What the kubelet says about containers whose image it cannot get, as 'container: reason: message'."""
    status = pod.get("status", {})
    found = []
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        waiting = container.get("state", {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_ERRORS:
            found.append("%s: %s: %s" % (container["name"], waiting["reason"], waiting.get("message", "")))
    return found


def pod(name, containers, init_containers=(), volumes=()):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "initContainers": list(init_containers),
            "containers": list(containers),
            "volumes": list(volumes),
        },
    }
