#!/usr/bin/env python3
"""Record real pod objects from the lab, in every state the build waiter must classify.

    python3 tests/lab/record_statuses.py tests/unit/plugins/module_utils/_kaniko/fixtures/recorded [SCENARIO ...]

Each scenario runs a pod on the running lab (make lab-up), waits until the state of interest shows,
and writes the pod as the API server returned it, with the namespace's events for that pod.
The unit tests of the status classifier read these files: the waiter is tested against what
a kubelet really reports, not against what we think it reports.

The DISRUPTIONS, recorded only when named on the command line, are pods lost through no fault of the build
(pod/disruption.py): each runs a pod, does something to it or to its node once it runs, and records it when
Kubernetes has said so. evicted_by_api and
evicted_emptydir_limit touch nothing but their own pod. The others need a lab of several nodes: they stop, drain
or delete the node named by KILN_LAB_RECORD_NODE (never the one the API server runs on) with ``lab.py node stop``
and ``lab.py node start``, and are skipped without it; preempted fills that node with pods of its own first.
Each of those also records ``node``, the node object as the module's node check reads it ({} once deleted).
A node shutdown is not among them (it needs a kubelet with shutdownGracePeriod, under systemd): the unit tests read
it written by hand (fixtures/handwritten_node_shutdown.json, see fixtures/README.md).
"""

import json
import os
import subprocess
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


# ---------------------------------------------------------------- pods lost through no fault of the build

LAB = Path(__file__).resolve().parent / "lab.py"
FINALIZER = "kiln.lab/record"  # keeps a deleted pod readable until it is recorded
HIGH_PRIORITY = "kiln-record-high"


def lab(*args):
    subprocess.run([sys.executable, str(LAB), *args], check=True)


def condition(pod, kind):
    for item in pod.get("status", {}).get("conditions", []):
        if item.get("type") == kind:
            return item
    return {}


def disrupted(reason):
    return lambda pod: condition(pod, "DisruptionTarget").get("reason") == reason


def marked(pod):
    """The node lifecycle controller's mark: Ready False beside ContainersReady True."""
    ready, containers = condition(pod, "Ready"), condition(pod, "ContainersReady")
    return ready.get("status") == "False" and containers.get("status") == "True"


def kaniko_runs(pod):
    return any(cs.get("name") == "kaniko" and "running" in cs.get("state", {})
               for cs in pod.get("status", {}).get("containerStatuses", []))


def clone_runs(pod):
    return any("running" in cs.get("state", {}) for cs in pod.get("status", {}).get("initContainerStatuses", []))


def on_node(pod, node, tolerate=None):
    """``pod`` pinned to ``node``, kept readable once deleted; ``tolerate``: seconds it tolerates its node's
    NoExecute taints of a lost node (300 by default), to record the taint eviction sooner."""
    pod["metadata"]["finalizers"] = [FINALIZER]
    pod["spec"]["nodeSelector"] = {"kubernetes.io/hostname": node}
    if tolerate is not None:
        pod["spec"]["tolerations"] = [{"key": key, "operator": "Exists", "effect": "NoExecute",
                                       "tolerationSeconds": tolerate}
                                      for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")]
    return pod


def slow_build(name, node=None, tolerate=None, slow_clone=False):
    pod = build_pod(name, "smoke.git", "main", "slow")
    if slow_clone:  # an init container that runs long: the pod cannot show the node controller's mark
        pod["spec"]["initContainers"][0]["command"] = ["sh", "-c", "sleep 900"]
        pod["spec"]["initContainers"][0]["image"] = BUSYBOX
    if node:
        on_node(pod, node, tolerate)
    else:
        pod["metadata"]["finalizers"] = [FINALIZER]
    return pod


def evict(ns, name, _node):
    """What kubectl drain does to each pod: a POST to its eviction subresource (the Eviction API)."""
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    cluster.kubectl("create", "--raw", "/api/v1/namespaces/%s/pods/%s/eviction" % (ns, name), "-f", "-",
                    input=json.dumps(body))


def drain(_ns, _name, node):
    cluster.kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=120s",
                    check=False)


def stop_node(_ns, _name, node):
    lab("node", "stop", node)


def delete_node(ns, name, node):
    stop_node(ns, name, node)
    cluster.kubectl("delete", "node", node, "--wait=false")


def preempt(ns, _name, node):
    """A pod of high priority that needs what the victim holds on ``node``."""
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": HIGH_PRIORITY},
        "value": 1000000, "preemptionPolicy": "PreemptLowerPriority"}))
    preemptor = simple_pod("preemptor", busybox("sleep 60", resources={"requests": {"cpu": free_cpu(node, ns)}}),
                           priorityClassName=HIGH_PRIORITY, nodeSelector={"kubernetes.io/hostname": node})
    kube(ns, "apply", "-f", "-", input=json.dumps(preemptor))


def free_cpu(node, ns=None):
    """The millicores of ``node`` that no pod requests (the pods of ``ns`` aside): what a pod there may ask."""
    found = json.loads(cluster.kubectl("get", "node", node, "-o", "json").stdout)
    total = millicores(found["status"]["allocatable"]["cpu"])
    pods = json.loads(cluster.kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=" + node,
                                      "-o", "json").stdout)["items"]
    for pod in pods:
        if pod["metadata"]["namespace"] == ns or pod["status"].get("phase") in ("Succeeded", "Failed"):
            continue
        for container in pod["spec"]["containers"]:
            total -= millicores(container.get("resources", {}).get("requests", {}).get("cpu", "0"))
    return "%dm" % max(total - 50, 1)


def millicores(value):
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


def victim(name, node):
    """A build pod that holds all the CPU of ``node`` no one else requests, at the default priority."""
    pod = slow_build(name, node)
    pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": free_cpu(node)}}
    return pod


def own_limit(name):
    """A pod that writes past its emptyDir's sizeLimit: the kubelet evicts it, for its own doing."""
    return simple_pod(name, busybox("dd if=/dev/zero of=/scratch/fill bs=1M count=64; sleep 600",
                                    volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}]),
                      volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": "8Mi"}}])


# name: (pod for (name, node), running yet?, disruption (namespace, name, node) or None, recorded when, needs a node)
DISRUPTIONS = {
    "evicted_by_api": (lambda n, node: slow_build(n), kaniko_runs, evict, disrupted("EvictionByEvictionAPI"), False),
    "evicted_emptydir_limit": (lambda n, node: own_limit(n), lambda pod: True, None, phase_is("Failed"), False),
    "drained": (slow_build, kaniko_runs, drain, disrupted("EvictionByEvictionAPI"), True),
    "node_lost_marked": (slow_build, kaniko_runs, stop_node, marked, True),
    "node_lost_clone": (lambda n, node: slow_build(n, node, slow_clone=True), clone_runs, stop_node, None, True),
    "taint_evicted": (lambda n, node: slow_build(n, node, tolerate=10), kaniko_runs, stop_node,
                      disrupted("DeletionByTaintManager"), True),
    "node_deleted": (slow_build, kaniko_runs, delete_node, disrupted("DeletionByPodGC"), True),
    "preempted": (victim, kaniko_runs, preempt, disrupted("PreemptionByScheduler"), True),
}
# How long a disruption may take to show: the node monitor grace period (50 s), the pod GC's quarantine (40 s), the
# toleration given above; and how long after stopping its node a pod that cannot show the mark is recorded.
DISRUPTION_WAIT = 240
UNMARKED_AFTER = 75


def wait_for(ns, name, done, seconds, what):
    deadline = time.monotonic() + seconds
    pod = None
    while time.monotonic() < deadline:
        pod = json.loads(kube(ns, "get", "pod", name, "-o", "json"))
        if done(pod):
            return pod
        time.sleep(0.3)
    raise SystemExit("scenario %s did not reach its state; last: %s" % (what, json.dumps(pod)[:3000]))


def record_disruption(ns, out_dir, key):
    make, running, disrupt, done, needs_node = DISRUPTIONS[key]
    node = os.environ.get("KILN_LAB_RECORD_NODE")
    if needs_node and not node:
        print("skipped %s: set KILN_LAB_RECORD_NODE to a node of a lab of several nodes" % key)
        return
    name = key.replace("_", "-")
    kube(ns, "apply", "-f", "-", input=json.dumps(make(name, node)))
    stopped = disrupt in (stop_node, delete_node)
    try:
        pod = wait_for(ns, name, running, 180, key)
        if disrupt is not None:
            disrupt(ns, name, node or pod["spec"]["nodeName"])
        if done is None:
            time.sleep(UNMARKED_AFTER)
            pod = json.loads(kube(ns, "get", "pod", name, "-o", "json"))
        else:
            pod = wait_for(ns, name, done, DISRUPTION_WAIT, key)
        events = json.loads(kube(ns, "get", "events", "--field-selector", "involvedObject.name=" + name,
                                 "-o", "json"))["items"]
        found = {"pod": pod, "events": events}
        if needs_node:  # what the module's node check reads
            found["node"] = json.loads(cluster.kubectl("get", "node", node, "-o", "json", check=False).stdout or "{}")
        for item in [pod] + events + ([found["node"]] if found.get("node") else []):
            item.get("metadata", {}).pop("managedFields", None)
        (out_dir / (key + ".json")).write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        print("recorded %s: phase %s" % (key, pod["status"].get("phase")))
    finally:
        if stopped:
            lab("node", "start", node)
        if disrupt is drain:
            cluster.kubectl("uncordon", node, check=False)
        kube(ns, "patch", "pod", name, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]',
             check=False)
        kube(ns, "delete", "pod", name, "preemptor", "--grace-period=0", "--force", "--wait=false",
             "--ignore-not-found", check=False)


def record(out_dir, only=None):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ns = "record-" + uuid.uuid4().hex[:6]
    cluster.kubectl("create", "namespace", ns)
    try:
        for key in DISRUPTIONS:
            if only and key in only:
                record_disruption(ns, out_dir, key)
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
        if only and "preempted" in only:
            cluster.kubectl("delete", "priorityclass", HIGH_PRIORITY, "--ignore-not-found", check=False)


if __name__ == "__main__":
    record(sys.argv[1], set(sys.argv[2:]) or None)
