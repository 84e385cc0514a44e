"""Fake nodes in the lab: kwok (sigs.k8s.io/kwok) against the lab's own API server.

`lab.py kwok up N --arch arm64,s390x` registers N nodes that no kubelet runs (their architectures in turn) and
starts kwok, which plays their kubelet: it keeps them Ready (a Lease each), and moves a pod bound to one of them
through the stages below, Running and then Succeeded, with the termination messages a build pod's containers
write (the clone's commit, Kaniko's name@digest lines), so that kiln.kaniko.build reads a fake build as it reads
a real one. It serves their logs too (a few fixed lines), over TLS on the lab's address, as a kubelet does for
the API server. Everything else is the real lab: API server, scheduler, controllers; kwok's nodes are the only
imitation. kwok talks to the API server as a user of its own, whose writes on pods a FlowSchema counts apart
(what a kubelet would write for them). `lab.py kwok down` deletes the fake nodes and every pod bound to them, and
kwok's user, and stops kwok.

The fake nodes carry the taint kwok.x-k8s.io/node=fake:NoSchedule: only a pod that tolerates it lands there, so
the lab's own pods and every test that does not ask for fake nodes never see them.
"""

import argparse
import json
import subprocess
import time

from . import pki, procs
from .build import kwok_bin
from .cmd import log, run
from .config import KUBECONFIG, LOGS, NET, PKI, STATE, VERSIONS, kube_bin

PROCESS = "kwok"
KWOK_DIR = STATE / "kwok"
CONFIG = KWOK_DIR / "kwok.yaml"
LOG_DIR = KWOK_DIR / "logs"
# What marks a fake node: kwok manages the nodes with this annotation; the label selects them; the taint keeps
# every pod that does not tolerate it away.
ANNOTATION = "kwok.x-k8s.io/node"
LABEL = "kiln.lab/fake-node"
TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
TOLERATION = {"key": TAINT["key"], "operator": "Equal", "value": TAINT["value"], "effect": TAINT["effect"]}
# kwok's kubelet-like server (logs) listens on the lab's address, on a port no lab component takes; the fake
# nodes give it as their kubelet endpoint.
SERVER_PORT = 10350
# The pods of fake nodes get addresses from a range no real pod, Service or node uses; nothing is routed there.
POD_CIDR = "10.250.0.0/16"
LEASE_SECONDS = 40
# kwok's own user (a client certificate of the lab's CA, cluster-admin), so that the API server can tell its
# requests apart: a FlowSchema of its own counts its writes on pods (apiserver_flowcontrol_dispatched_requests_total),
# what a kubelet would write for them; exempt, as the admin user is, so that nothing of kwok's waits in a queue.
USER = "kiln-lab-kwok"
POD_WRITES = "kiln-lab-kwok-pod-writes"
KUBECONFIG_FILE = KWOK_DIR / "kwok.kubeconfig"
# Per-pod annotations that change how long a stage waits (a Go duration, e.g. "1h"): a test that must see its
# pods bound before they end sets the second.
RUNNING_AFTER = "kwok.kiln.lab/running-after"
SUCCEEDED_AFTER = "kwok.kiln.lab/succeeded-after"

# The pod stages, after kwok's own kustomize/stage/pod/general (create, init-container-running and -completed,
# ready, complete, delete) folded into two steps: a build pod's init container ends as the pod starts, and it
# ends once its containers have. Each stage is one status patch, as few as a kubelet makes.
RUNNING_STATUS = """{{ $now := Now }}
{{ $commit := "" }}
{{ $version := "" }}
{{ range .spec.initContainers }}{{ range .env }}
{{ if eq .name "KILN_GIT_COMMIT" }}{{ $commit = .value }}{{ end }}
{{ if eq .name "KILN_GIT_VERSION" }}{{ $version = .value }}{{ end }}
{{ end }}{{ end }}
{{ if not $commit }}{{ $commit = sha1sum (print "kwok " $version) }}{{ end }}
conditions:
- {type: Initialized, status: "True", lastProbeTime: null, lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "True", lastProbeTime: null, lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "True", lastProbeTime: null, lastTransitionTime: {{ $now | Quote }}}
{{ if .spec.initContainers }}
initContainerStatuses:
{{ range .spec.initContainers }}
- image: {{ .image | Quote }}
  imageID: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: 0
      reason: Completed
      message: {{ $commit | Quote }}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  imageID: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  restartCount: 0
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace | Quote }}
phase: Running
startTime: {{ $now | Quote }}
"""

# Kaniko's --image-name-with-digest-file: one line per destination, its repository (the tag dropped) and the
# digest; here a digest of the pod and the destination, so that every fake build has its own.
SUCCEEDED_STATUS = """{{ $now := Now }}
{{ $uid := .metadata.uid }}
conditions:
- {type: Ready, status: "False", reason: PodCompleted, lastProbeTime: null, lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "False", reason: PodCompleted, lastProbeTime: null,
   lastTransitionTime: {{ $now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
{{ $message := "" }}
{{ range .args }}{{ if hasPrefix "--destination=" . }}
{{ $destination := trimPrefix "--destination=" . }}
{{ $repository := regexReplaceAll ":[^:/]+$" $destination "" }}
{{ $message = printf "%s%s@sha256:%s\\n" $message $repository (sha256sum (print $uid " " $destination)) }}
{{ end }}{{ end }}
- image: {{ .image | Quote }}
  imageID: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: 0
      reason: Completed
      message: {{ $message | Quote }}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
phase: Succeeded
"""

# What a fake build logs (CRI log format, as kwok's log server reads it).
FAKE_LOGS = {
    "clone": ["kwok: a fake node; nothing was cloned"],
    "kaniko": ["INFO[0000] kwok: a fake node; no image was built or pushed",
               "INFO[0000] kwok: the digests in the termination message are made up"],
}


def _pod_stage(name, selector, delay_ms, delay_annotation, next_):
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": name},
            "spec": {"resourceRef": {"apiGroup": "v1", "kind": "Pod"},
                     "selector": {"matchExpressions": selector},
                     "delay": {"durationMilliseconds": delay_ms,
                               "durationFrom": {"expressionFrom": '.metadata.annotations["%s"]' % delay_annotation}},
                     "next": next_}}


def stages(running_ms, succeeded_ms):
    """The Stages of the fake pods: Running after ``running_ms``, Succeeded ``succeeded_ms`` later, and a pod
    that is deleted goes at once (its containers have ended, as a kubelet then deletes it)."""
    alive = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}
    return [
        _pod_stage("kiln-pod-running", [alive, {"key": ".status.podIP", "operator": "DoesNotExist"}],
                   running_ms, RUNNING_AFTER, {"statusTemplate": RUNNING_STATUS}),
        _pod_stage("kiln-pod-succeeded", [alive, {"key": ".status.phase", "operator": "In", "values": ["Running"]}],
                   succeeded_ms, SUCCEEDED_AFTER, {"statusTemplate": SUCCEEDED_STATUS}),
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": "kiln-pod-delete"},
         "spec": {"resourceRef": {"apiGroup": "v1", "kind": "Pod"},
                  "selector": {"matchExpressions": [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}]},
                  "next": {"delete": True}}},
    ]


def _node_stages():
    """kwok's node-initialize (fast) and node-heartbeat-with-lease: Ready at once, then kept Ready by a Lease."""
    conditions = """{{ $now := Now }}
{{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $lastTransitionTime | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
- {address: {{ NodeIP | Quote }}, type: InternalIP}
- {address: {{ NodeName | Quote }}, type: Hostname}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ NodePort }}
"""
    initialize = conditions + "phase: Running\n"
    ready = {"key": '.status.conditions.[] | select( .type == "Ready" ) | .status', "operator": "In",
             "values": ["True"]}
    return [
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": "node-initialize"},
         "spec": {"resourceRef": {"apiGroup": "v1", "kind": "Node"},
                  "selector": {"matchExpressions": [dict(ready, operator="NotIn")]},
                  "next": {"statusTemplate": initialize}}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": "node-heartbeat-with-lease"},
         "spec": {"resourceRef": {"apiGroup": "v1", "kind": "Node"},
                  "selector": {"matchExpressions": [
                      {"key": ".status.phase", "operator": "In", "values": ["Running"]}, ready]},
                  "delay": {"durationMilliseconds": 600000, "jitterDurationMilliseconds": 610000},
                  "next": {"statusTemplate": conditions}}},
    ]


def _cluster_logs():
    logs = [{"containers": [container], "logsFile": str(LOG_DIR / (container + ".log"))} for container in FAKE_LOGS]
    logs.append({"logsFile": str(LOG_DIR / "kaniko.log")})  # any other container (receive, export, the supply steps)
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "kiln-fake-builds"},
            "spec": {"logs": logs}}


def _write_config(running_ms, succeeded_ms):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for container, lines in FAKE_LOGS.items():
        (LOG_DIR / (container + ".log")).write_text(
            "".join("2026-01-01T00:00:00.000000000Z stdout F %s\n" % line for line in lines))
    docs = [_cluster_logs(), *_node_stages(), *stages(running_ms, succeeded_ms)]
    # JSON is YAML: one document each.
    CONFIG.write_text("".join("---\n%s\n" % json.dumps(doc, indent=1) for doc in docs))


# ---------------------------------------------------------------- the API server

def _identity_objects():
    """kwok's ClusterRoleBinding and its FlowSchemas: its writes on pods, and the rest."""
    subject = [{"kind": "User", "user": {"name": USER}}]
    every = {"apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": True}

    def flow_schema(name, precedence, rules):
        return {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": name},
                "spec": {"priorityLevelConfiguration": {"name": "exempt"}, "matchingPrecedence": precedence,
                         "rules": [dict(rules, subjects=subject)]}}
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": USER},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}]},
        flow_schema(POD_WRITES, 100, {"resourceRules": [dict(
            every, verbs=["create", "update", "patch", "delete", "deletecollection"], apiGroups=[""],
            resources=["pods", "pods/status"], clusterScope=False)]}),
        flow_schema(USER, 101, {"resourceRules": [dict(every, verbs=["*"])],
                                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}),
    ]


def _identity():
    pki._issue(USER, "/CN=" + USER, client=True)
    pki.kubeconfig(KUBECONFIG_FILE, USER)
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": _identity_objects()}))


def command():
    """kwok's command line: the options as flags, so that the rest keep kwok's defaults (a KwokConfiguration in the
    file got none of them, in kwok v0.8.0), and the stages and the logs in the file."""
    return [kwok_bin(), "--config", CONFIG, "--kubeconfig", KUBECONFIG_FILE,
            "--manage-nodes-with-annotation-selector", "%s=fake" % ANNOTATION,
            "--node-ip", NET.node_ip, "--node-port", SERVER_PORT,
            "--server-address", "%s:%d" % (NET.node_ip, SERVER_PORT),
            "--tls-cert-file", PKI / "kwok-server.crt", "--tls-private-key-file", PKI / "kwok-server.key",
            "--cidr", POD_CIDR, "--node-lease-duration-seconds", LEASE_SECONDS]


def kubectl(*args, input=None, check=True, attempts=30):
    """kubectl with the lab's admin kubeconfig; while the control plane is away for a moment (another change of the
    lab restarts it), wait and try again."""
    for attempt in range(attempts):
        result = run(kube_bin("kubectl"), "--kubeconfig", KUBECONFIG, "--request-timeout", "30s", *args,
                     input=input, capture_output=True, text=True, check=False)
        if result.returncode == 0 or not _unreachable(result.stderr) or attempt == attempts - 1:
            break
        time.sleep(2)
    if check and result.returncode:
        raise SystemExit("lab: kubectl %s failed:\n%s" % (" ".join(map(str, args[:3])), result.stderr[-2000:]))
    return result


def _unreachable(stderr):
    return any(text in stderr for text in ("connection refused", "connect: no route", "i/o timeout", "EOF",
                                           "ServiceUnavailable", "the server is currently unable",
                                           "TLS handshake timeout"))


def _json(*args):
    return json.loads(kubectl(*args, "-o", "json").stdout)


def fake_nodes():
    """The fake nodes the lab has (dicts), by name."""
    return {item["metadata"]["name"]: item for item in _json("get", "nodes", "-l", LABEL)["items"]}


def _pods_on(names):
    """(namespace, name) of the pods bound to the nodes ``names``."""
    pods = _json("get", "pods", "--all-namespaces")["items"]
    return sorted((pod["metadata"]["namespace"], pod["metadata"]["name"]) for pod in pods
                  if pod.get("spec", {}).get("nodeName") in names)


def _delete_pods(pods):
    by_namespace = {}
    for namespace, name in pods:
        by_namespace.setdefault(namespace, []).append(name)
    for namespace, names in sorted(by_namespace.items()):
        kubectl("-n", namespace, "delete", "pod", *names, "--grace-period=0", "--force", "--ignore-not-found",
                "--wait=false")


# ---------------------------------------------------------------- up, down

def node_name(arch, index):
    return "kwok-%s-%d" % (arch, index)


def node_manifest(name, arch):
    """A fake node: linux/``arch``, room for many pods, managed by kwok, tainted against every pod that does not
    ask for it."""
    room = {"cpu": "1k", "memory": "1Ti", "pods": "1k", "ephemeral-storage": "1Ti"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {ANNOTATION: "fake"},
                         "labels": {"kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
                                    "kubernetes.io/hostname": name, "type": "kwok", LABEL: "true"}},
            "spec": {"taints": [dict(TAINT)]},
            "status": {"allocatable": room, "capacity": room,
                       "nodeInfo": dict(dict.fromkeys(("machineID", "systemUUID", "bootID"), ""),
                                        architecture=arch, operatingSystem="linux", osImage="kwok",
                                        **dict.fromkeys(("kernelVersion", "containerRuntimeVersion", "kubeletVersion",
                                                         "kubeProxyVersion"), "kwok-" + VERSIONS["KWOK_VERSION"]))}}


def wanted_nodes(count, archs):
    """{name: arch} of ``count`` fake nodes, the architectures in turn."""
    per_arch = {}
    nodes = {}
    for index in range(count):
        arch = archs[index % len(archs)]
        per_arch[arch] = per_arch.get(arch, 0) + 1
        nodes[node_name(arch, per_arch[arch])] = arch
    return nodes


def _ready(node):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in node.get("status", {}).get("conditions", []))


def up(count, archs, running_ms=200, succeeded_ms=1000):
    """Exactly ``count`` fake nodes (of ``archs`` in turn), Ready, and kwok running."""
    started = time.monotonic()
    if not kwok_bin().exists():
        raise SystemExit("lab: %s is not built: run `lab.py go kwok` first" % kwok_bin())
    KWOK_DIR.mkdir(parents=True, exist_ok=True)
    pki._issue("kwok-server", "/CN=kiln-lab-kwok", server=True, sans=["IP:" + NET.node_ip])
    _identity()
    _write_config(running_ms, succeeded_ms)
    # Another command line or configuration (other stage delays) takes a new kwok.
    started_with, wanted = KWOK_DIR / "kwok.started", " ".join(map(str, command())) + "\n" + CONFIG.read_text()
    if procs.pid_of(PROCESS) and (not started_with.exists() or started_with.read_text() != wanted):
        procs.stop(PROCESS)
    if procs.start(PROCESS, command()):
        started_with.write_text(wanted)
    wanted = wanted_nodes(count, archs)
    have = set(fake_nodes())
    if have - set(wanted):
        _remove(have - set(wanted))
    missing = [node_manifest(name, arch) for name, arch in wanted.items() if name not in have]
    if missing:
        # Created, not applied: a Node keeps the status it is created with (allocatable, nodeInfo), which kwok's
        # node-initialize stage then keeps.
        kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": missing}))
    deadline = time.monotonic() + 120
    while True:
        if not procs.pid_of(PROCESS):
            raise SystemExit("lab: kwok exited; last lines of %s:\n%s" % (LOGS / "kwok.log", procs.log_tail(PROCESS)))
        nodes = fake_nodes()
        if all(name in nodes and _ready(nodes[name]) for name in wanted):
            break
        if time.monotonic() > deadline:
            raise SystemExit("lab: the fake nodes are not Ready after 120 s; kwok says:\n%s" % procs.log_tail(PROCESS))
        time.sleep(1)
    counts = {}
    for arch in wanted.values():
        counts[arch] = counts.get(arch, 0) + 1
    log("%d fake nodes Ready (%s) in %.1fs; a pod that tolerates %s=%s:%s runs there (kwok, log %s)"
        % (len(wanted), ", ".join("linux/%s: %d" % item for item in sorted(counts.items())),
           time.monotonic() - started, TAINT["key"], TAINT["value"], TAINT["effect"], LOGS / "kwok.log"))


def _remove(names):
    """Delete the fake nodes ``names`` and every pod bound to them (force: no kubelet will confirm)."""
    names = set(names)
    _delete_pods(_pods_on(names))
    for name in sorted(names):
        kubectl("delete", "node", name, "--ignore-not-found", "--wait=true")
        kubectl("-n", "kube-node-lease", "delete", "lease", name, "--ignore-not-found")
    # A pod the scheduler bound while the nodes went.
    _delete_pods(_pods_on(names))


def down():
    """No fake node, no pod bound to one, no kwok: what `up` made is gone."""
    started = time.monotonic()
    names = set(fake_nodes())
    if names:
        _remove(names)
    procs.stop(PROCESS)
    for item in _identity_objects():
        kubectl("delete", item["kind"].lower(), item["metadata"]["name"], "--ignore-not-found")
    left_nodes = sorted(fake_nodes())
    deadline = time.monotonic() + 60
    while left_nodes or (names and _pods_on(names)):
        if time.monotonic() > deadline:
            raise SystemExit("lab: left behind: nodes %s, pods %s" % (left_nodes, _pods_on(names)))
        time.sleep(1)
        left_nodes = sorted(fake_nodes())
    log("fake nodes down: %d nodes and their pods deleted, kwok stopped (%.1fs)"
        % (len(names), time.monotonic() - started))


def status():
    nodes = fake_nodes()
    pid = procs.pid_of(PROCESS)
    ready = sum(1 for node in nodes.values() if _ready(node))
    print("kwok  %s" % ("pid %d" % pid if pid else "not running"))
    print("fake nodes  %d (%d Ready)" % (len(nodes), ready))
    return 0 if pid and nodes and ready == len(nodes) else 1


def main(argv):
    parser = argparse.ArgumentParser(prog="lab.py kwok", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="register N fake nodes and start kwok")
    start.add_argument("count", type=int)
    start.add_argument("--arch", default="amd64", help="architectures, in turn (comma-separated; default amd64)")
    start.add_argument("--running-ms", type=int, default=200, help="a pod runs this long after it is bound")
    start.add_argument("--succeeded-ms", type=int, default=1000, help="and succeeds this long after it runs")
    commands.add_parser("down", help="delete the fake nodes and their pods, stop kwok")
    commands.add_parser("status", help="whether kwok runs and its nodes are Ready")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            archs = [arch.strip() for arch in args.arch.split(",") if arch.strip()]
            if args.count < 0 or not archs:
                parser.error("up takes a count of 0 or more and at least one architecture")
            up(args.count, archs, args.running_ms, args.succeeded_ms)
            return 0
        if args.command == "down":
            down()
            return 0
        return status()
    except subprocess.CalledProcessError as exc:
        raise SystemExit("lab: %s failed: %s" % (" ".join(map(str, exc.cmd[:3])), exc.stderr)) from exc
