#!/usr/bin/env python3
"""Record real pod objects from the lab, in every state the build waiter must classify.

    python3 tests/lab/record_statuses.py tests/unit/plugins/module_utils/_kaniko/fixtures/recorded

Each scenario runs a pod on the running lab (make lab-up), waits until the state of interest shows,
and writes the pod as the API server returned it, with the namespace's events for that pod.
The unit tests of the status classifier read these files: the waiter is tested against what
a kubelet really reports, not against what we think it reports.
"""

import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kilnlab import cluster  # noqa: E402
from kilnlab.config import NET  # noqa: E402

BUSYBOX = "docker.io/library/busybox:1.35"
GIT = "docker.io/alpine/git:2.49.1"
KANIKO = "ghcr.io/osscontainertools/kaniko:v1.26.3"


def kube(ns, *args, input=None, check=True):
    return cluster.kubectl("-n", ns, *args, input=input, check=check).stdout


def build_pod(name, repo, version, sub_path="", extra=None):
    registry = NET.registry
    workspace = [{"name": "workspace", "mountPath": "/workspace"}]
    spec = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "initContainers": [{
            "name": "clone", "image": GIT, "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", 'set -e; git init -q /workspace/src; cd /workspace/src; '
                        'git fetch -q --depth 1 "$0" "$1"; git checkout -q FETCH_HEAD; '
                        'git rev-parse HEAD > /dev/termination-log', NET.git_url + "/" + repo, version],
            "env": [{"name": "HOME", "value": "/tmp"}],
            "securityContext": {"runAsUser": 65532, "runAsNonRoot": True, "allowPrivilegeEscalation": False},
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": workspace,
        }],
        "containers": [{
            "name": "kaniko", "image": KANIKO, "imagePullPolicy": "IfNotPresent",
            "args": ["--context=dir:///workspace/src/" + sub_path, "--dockerfile=Dockerfile",
                     "--destination=%s/recorded/%s:latest" % (registry, name),
                     "--registry-mirror=" + registry, "--insecure-registry=" + registry, "--insecure",
                     "--image-name-with-digest-file=/dev/termination-log"],
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": workspace,
        }],
        "volumes": [{"name": "workspace", "emptyDir": {}}],
    }
    for key, value in (extra or {}).items():
        spec[key] = value
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def simple_pod(name, container, **spec):
    base = {"restartPolicy": "Never", "automountServiceAccountToken": False, "containers": [container]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": base}


def busybox(script, **extra):
    return dict({"name": "main", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                 "command": ["sh", "-c", script]}, **extra)


def phase_is(*phases):
    return lambda pod: pod.get("status", {}).get("phase") in phases


def waiting_reason(*reasons):
    def check(pod):
        status = pod.get("status", {})
        for cs in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
            if cs.get("state", {}).get("waiting", {}).get("reason") in reasons:
                return True
        return False
    return check


def unschedulable(pod):
    return any(c.get("reason") == "Unschedulable" for c in pod.get("status", {}).get("conditions", []))


def running(pod):
    return any("running" in cs.get("state", {}) for cs in pod.get("status", {}).get("containerStatuses", []))


def has_warning_event(reason):
    return reason  # the events are recorded for every scenario; this names which to wait for


SCENARIOS = {
    "succeeded": (lambda n: build_pod(n, "smoke.git", "main"), phase_is("Succeeded"), None),
    "failed_run_exit7": (lambda n: build_pod(n, "smoke.git", "main", "broken"), phase_is("Failed"), None),
    "failed_clone_missing_ref": (lambda n: build_pod(n, "smoke.git", "no-such-branch"), phase_is("Failed"), None),
    "err_image_pull": (lambda n: simple_pod(n, busybox("true", image="docker.io/library/not-there:1")),
                       waiting_reason("ErrImagePull"), None),
    "image_pull_backoff": (lambda n: simple_pod(n, busybox("true", image="docker.io/library/not-there:1")),
                           waiting_reason("ImagePullBackOff"), None),
    "invalid_image_name": (lambda n: simple_pod(n, busybox("true", image="docker.io/library/Busy:box@latest")),
                           waiting_reason("InvalidImageName"), None),
    "create_container_config_error": (
        lambda n: simple_pod(n, busybox("true", env=[{"name": "X", "valueFrom": {
            "secretKeyRef": {"name": "missing-secret", "key": "k"}}}])),
        waiting_reason("CreateContainerConfigError"), None),
    "unschedulable": (lambda n: simple_pod(n, busybox("true"), nodeSelector={"kiln.lab/none": "x"}),
                      unschedulable, None),
    "oomkilled": (lambda n: simple_pod(n, busybox("dd if=/dev/zero of=/dev/null bs=200M count=1",
                                                  resources={"limits": {"memory": "32Mi"}})),
                  phase_is("Failed"), None),
    "deadline_exceeded": (lambda n: simple_pod(n, busybox("sleep 60"), activeDeadlineSeconds=3),
                          phase_is("Failed"), None),
    "running": (lambda n: simple_pod(n, busybox("sleep 60")), running, None),
    "pending_missing_secret_volume": (
        lambda n: simple_pod(n, busybox("true", volumeMounts=[{"name": "auth", "mountPath": "/auth"}]),
                             volumes=[{"name": "auth", "secret": {"secretName": "missing-secret"}}]),
        lambda pod: True, 8),
}


def record(out_dir, only=None):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ns = "record-" + uuid.uuid4().hex[:6]
    cluster.kubectl("create", "namespace", ns)
    try:
        for key, (make, done, settle) in SCENARIOS.items():
            if only and key not in only:
                continue
            name = key.replace("_", "-")
            kube(ns, "apply", "-f", "-", input=json.dumps(make(name)))
            deadline = time.monotonic() + 180
            pod = None
            if settle:
                time.sleep(settle)
            while time.monotonic() < deadline:
                pod = json.loads(kube(ns, "get", "pod", name, "-o", "json"))
                if done(pod):
                    break
                time.sleep(0.3)
            else:
                raise SystemExit("scenario %s did not reach its state; last: %s" % (key, json.dumps(pod)[:3000]))
            events = json.loads(kube(ns, "get", "events", "--field-selector", "involvedObject.name=" + name,
                                     "-o", "json"))["items"]
            for item in [pod] + events:
                item["metadata"].pop("managedFields", None)
            (out_dir / (key + ".json")).write_text(json.dumps({"pod": pod, "events": events}, indent=1,
                                                              sort_keys=True) + "\n")
            print("recorded %s: phase %s" % (key, pod["status"].get("phase")))
            kube(ns, "delete", "pod", name, "--grace-period=0", "--force", "--wait=false", check=False)
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


if __name__ == "__main__":
    record(sys.argv[1], set(sys.argv[2:]) or None)
