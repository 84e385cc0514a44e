"""Scenario (g): hundreds of builds in one task, on kwok's fake nodes (tests/lab/kilnlab/kwok.py).

Everything that talks to the cluster talks to the lab's real API server; the only imitation is kwok's nodes:
100 of them, tainted (the builds tolerate the taint and select them through pod options), on which kwok moves
each build pod to Running and then Succeeded with the termination messages of a real build (a commit, a digest
per destination) and serves two log lines. So the module does all it does for a real build (creates the pod,
watches it, follows and reads its logs, concludes, deletes it) while no container runs and no image is pushed.

Measured, for one task with ``builds:`` of COUNT items against a loop of single builds (LOOP_COUNT, the loop
being slow) and a task of one build (the fixed cost):

- the module's CPU seconds and peak RSS: Ansible runs it with a Python of ours (bench/module_usage.py), which
  runs it as a child and reads its rusage when it exits;
- API requests per build, counted at the API server: apiserver_request_total by verb and resource, before and
  after; and the module's own, apart from kwok's, the scheduler's and other users': the module runs as a user of
  its own (kiln-bench, a client certificate of the lab's CA), whose writes, watches and other reads three
  FlowSchemas of their own count (apiserver_flowcontrol_dispatched_requests_total; reads of logs are long-running
  requests, which flow control passes by: CONNECT pods/log counts them), and kwok's writes on pods are counted by
  its own FlowSchema (tests/lab/kilnlab/kwok.py); all are exempt, as the admin user's are, so nothing queues;
- the watches on pods and the log streams the API server holds during the run (apiserver_longrunning_requests,
  sampled every SAMPLE seconds, less the count before the run);
- the result: its summary, its size, the log lines of each item.

One more run of the task runs the module under cProfile (every thread), for where its CPU goes.
"""

import json
import os
import pstats
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

from kilnlab import kwok, pki, procs
from kilnlab.config import NET, PKI, STATE

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "tests" / "lab" / "lab.py"
USAGE = REPO / "bench" / "module_usage.py"

COUNT = 500
NODES = 100
MAX_CONCURRENT = 100  # one build per fake node at a time
LOOP_COUNT = 20
SAMPLE = 2.0  # seconds between two reads of the API server's metrics (4 MB each)
GOALS = {"cpu_ms_per_build": 20, "max_rss_mb": 150, "writes_per_build": 6, "watches_per_namespace": 1}

BENCH_USER = "kiln-bench"
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION")
_EVERY = {"apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": True}
# {name: (matching precedence, rules)}: the module's writes, its watches, the rest of its reads.
FLOW_SCHEMAS = {
    "kiln-bench-writes": (98, {"resourceRules": [dict(_EVERY, verbs=["create", "update", "patch", "delete",
                                                                     "deletecollection"])]}),
    "kiln-bench-watches": (99, {"resourceRules": [dict(_EVERY, verbs=["watch"])]}),
    "kiln-bench-reads": (100, {"resourceRules": [dict(_EVERY, verbs=["get", "list"])],
                               "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}),
}


# ---------------------------------------------------------------- the API server's own counts

def _labels(text):
    labels = {}
    for part in text.split('",'):
        key, _, value = part.partition('="')
        labels[key.strip(",")] = value.rstrip('"')
    return labels


class ApiServer:
    """The lab API server's /metrics, read with the admin client certificate."""

    def __init__(self):
        self.context = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
        self.context.load_cert_chain(str(PKI / "admin.crt"), str(PKI / "admin.key"))

    def samples(self, *names):
        """[(name, labels, value)] of the metrics ``names``."""
        with urllib.request.urlopen(NET.apiserver_url + "/metrics", context=self.context, timeout=30) as response:
            text = response.read().decode()
        found = []
        for line in text.splitlines():
            name, brace, rest = line.partition("{")
            if brace and name in names:
                labels, _, value = rest.rpartition("} ")
                found.append((name, _labels(labels), float(value)))
        return found

    def counters(self):
        """{"requests": {"VERB resource[/sub]": n}, "flows": {flow schema: n}}."""
        requests, flows = {}, {}
        for name, labels, value in self.samples("apiserver_request_total",
                                                "apiserver_flowcontrol_dispatched_requests_total"):
            if name == "apiserver_request_total":
                key = "%s %s%s" % (labels.get("verb"), labels.get("resource"),
                                   "/" + labels["subresource"] if labels.get("subresource") else "")
                requests[key] = requests.get(key, 0) + value
            else:
                flows[labels.get("flow_schema")] = flows.get(labels.get("flow_schema"), 0) + value
        return {"requests": requests, "flows": flows}

    def held(self):
        """(watches of pods, pod log streams) the API server holds now."""
        watches = streams = 0
        for _name, labels, value in self.samples("apiserver_longrunning_requests"):
            if labels.get("resource") == "pods" and labels.get("verb") == "WATCH" and not labels.get("subresource"):
                watches += value
            elif labels.get("resource") == "pods" and labels.get("subresource") == "log":
                streams += value
        return int(watches), int(streams)


class Sampler:
    """Samples ApiServer.held() every SAMPLE seconds in a thread: the peaks above what was held before."""

    def __init__(self, api):
        self.api = api
        self.base = api.held()
        self.peak = self.base
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.wait(SAMPLE):
            try:
                watches, streams = self.api.held()
            except OSError:
                continue
            self.peak = (max(self.peak[0], watches), max(self.peak[1], streams))

    def stop(self):
        self.stopping.set()
        self.thread.join(30)
        return {"pod_watches": self.peak[0] - self.base[0], "log_streams": self.peak[1] - self.base[1],
                "pod_watches_before": self.base[0]}


def delta(before, after):
    return {key: after.get(key, 0) - before.get(key, 0) for key in after if after.get(key, 0) != before.get(key, 0)}


def process_cpu(name):
    """CPU seconds so far of the lab's process ``name`` (kwok, kube-apiserver), or None."""
    pid = procs.pid_of(name)
    if not pid:
        return None
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the module's own user

def kubectl(*args, input=None):
    return kwok.kubectl(*args, input=input)


def bench_identity():
    """A kubeconfig of user kiln-bench (cluster-admin), whose requests the FlowSchemas count apart."""
    pki._issue(BENCH_USER, "/CN=" + BENCH_USER, client=True)
    path = STATE / "kwok" / (BENCH_USER + ".kubeconfig")
    path.parent.mkdir(parents=True, exist_ok=True)
    pki.kubeconfig(path, BENCH_USER)
    objects = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": BENCH_USER},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": BENCH_USER}]}]
    for name, (precedence, rules) in FLOW_SCHEMAS.items():
        rule = dict(rules, subjects=[{"kind": "User", "user": {"name": BENCH_USER}}])
        objects.append({"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
                        "metadata": {"name": name},
                        "spec": {"priorityLevelConfiguration": {"name": "exempt"}, "matchingPrecedence": precedence,
                                 "rules": [rule]}})
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return path


def drop_identity():
    kubectl("delete", "clusterrolebinding", BENCH_USER, "--ignore-not-found")
    kubectl("delete", "flowschema", *FLOW_SCHEMAS, "--ignore-not-found")


def interpreter(directory, record, profile=None):
    """An executable that Ansible takes for Python: it runs the module through bench/module_usage.py."""
    shim = Path(directory) / ("python-profiled" if profile else "python-measured")
    extra = " --profile %s" % profile if profile else ""
    shim.write_text('#!/bin/sh\nexec %s %s --record %s%s -- "$@"\n' % (sys.executable, USAGE, record, extra))
    shim.chmod(0o755)
    return str(shim)


# ---------------------------------------------------------------- one variant

def _task(namespace, name, count, loop, kubeconfig, lab_build_options):
    registry = NET.registry
    destinations = ["%s/bench/g-%s-%d:%s" % (registry, name, n, namespace) for n in range(count)]
    common = dict(lab_build_options(namespace, "smoke.git"), force=True, kubeconfig=str(kubeconfig),
                  pod={"tolerations": [kwok.TOLERATION], "node_selector": {kwok.LABEL: "true"}})
    if loop:
        return {"name": "build", "kiln.kaniko.build": dict(common, destinations=["{{ item }}"]), "loop": destinations,
                "register": "r"}
    return {"name": "build", "kiln.kaniko.build": dict(common, builds=[{"destinations": [d]} for d in destinations],
                                                       max_concurrent=MAX_CONCURRENT), "register": "r"}


def _readable(result, count):
    """What a user gets back from a task of ``count`` builds."""
    items = result.get("results") or []
    return {"msg": result.get("msg"), "items": len(items), "failed": sum(1 for item in items if item.get("failed")),
            "bytes": len(json.dumps(result)), "max_log_lines": max((len(item.get("log_lines") or ()) for item in items),
                                                                   default=0),
            "keys_per_item": max((len(item) for item in items), default=0), "expected": count}


def run_variant(namespace, name, count, loop, kubeconfig, playbook, lab_build_options, profile=None):
    """One measured run: {wall, module CPU and memory, API requests and watches, the result}."""
    api = ApiServer()
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "usage.jsonl"
        shim = interpreter(tmp, record, profile)
        task = _task(namespace, name, count, loop, kubeconfig, lab_build_options)
        load = os.getloadavg()[0]
        before, cpu_before = api.counters(), {p: process_cpu(p) for p in ("kwok", "kube-apiserver")}
        sampler = Sampler(api)
        timings, _ = playbook([task], {"ansible_python_interpreter": shim})
        held = sampler.stop()
        after, cpu_after = api.counters(), {p: process_cpu(p) for p in ("kwok", "kube-apiserver")}
        usages = [json.loads(line) for line in record.read_text().splitlines()]
    wall, result = timings["build"]
    requests = delta(before["requests"], after["requests"])
    flows = delta(before["flows"], after["flows"])
    writes = sum(value for key, value in requests.items() if key.split()[0] in WRITE_VERBS)
    row = {"builds": count, "loop": loop, "wall": wall, "module_cpu": sum(u["cpu"] for u in usages),
           "module_processes": len(usages), "max_rss_mb": max(u["max_rss_mb"] for u in usages),
           "module_writes": flows.get("kiln-bench-writes", 0), "module_reads": flows.get("kiln-bench-reads", 0),
           "module_watch_requests": flows.get("kiln-bench-watches", 0), "load_before": load,
           "node_pod_writes": flows.get(kwok.POD_WRITES, 0), "bindings": requests.get("POST pods/binding", 0),
           "log_requests": requests.get("CONNECT pods/log", 0), "writes": writes, "requests": requests,
           "flows": flows, "held": held, "readable": None if loop else _readable(result, count),
           "cpu_seconds": {p: (cpu_after[p] - cpu_before[p]) if cpu_before[p] is not None and cpu_after[p] is not None
                           else None for p in cpu_before}}
    row["cpu_ms_per_build"] = 1000 * row["module_cpu"] / count
    for key in ("module_writes", "module_reads", "node_pod_writes", "bindings", "log_requests", "writes"):
        row[key + "_per_build"] = row[key] / count
    return row


def _lab(*args):
    subprocess.run([sys.executable, str(LAB), *args], check=True)


def _profile_top(path, limit=25):
    """Where the profiled run spent its CPU: the functions and files that took the most of their own, and the
    collection's functions by what they took with what they called."""
    stats = pstats.Stats(str(path))
    rows = []
    for (filename, line, function), (_cc, calls, own, cumulative, _callers) in stats.stats.items():
        short = filename.split("ansible_collections/")[-1].split("site-packages/")[-1].split("/lib/python3")[-1]
        rows.append({"function": "%s:%d(%s)" % (short, line, function), "file": short, "calls": calls,
                     "own": own, "cumulative": cumulative})
    by_file = {}
    for row in rows:
        by_file[row["file"]] = by_file.get(row["file"], 0) + row["own"]
    files = sorted(by_file.items(), key=lambda item: -item[1])[:limit]
    ours = sorted((row for row in rows if row["file"].startswith("kiln/kaniko/")), key=lambda row: -row["cumulative"])
    rows.sort(key=lambda row: -row["own"])
    return {"total_own": sum(row["own"] for row in rows), "functions": rows[:limit],
            "files": [{"file": name, "own": own} for name, own in files], "ours_by_cumulative": ours[:limit]}


def scenario_g(namespace, runs, playbook, lab_build_options):
    """COUNT builds in one task on NODES fake nodes (kwok), against a loop of single builds."""
    _lab("go", "kwok")
    _lab("kwok", "up", str(NODES))
    kubeconfig = bench_identity()
    rows = {"task": [], "task_small": [], "loop_small": [], "task_one": []}
    variants = (("task", COUNT, False), ("task_small", LOOP_COUNT, False), ("loop_small", LOOP_COUNT, True),
                ("task_one", 1, False))
    profile = None
    try:
        for i in range(runs):
            for variant, count, loop in variants:
                row = run_variant(namespace, "%s%d" % (variant, i), count, loop, kubeconfig, playbook,
                                  lab_build_options)
                rows[variant].append(row)
                print("  g run %d %-10s: %d builds, wall %.1fs, module CPU %.2fs (%.1f ms a build), peak RSS %.0f MB; "
                      "a build: module writes %.2f, reads %.2f + %.2f of logs, kwok's writes %.2f, all writes %.2f; "
                      "pod watches +%d (%d watch requests), log streams +%d; load %.1f"
                      % (i + 1, variant, count, row["wall"], row["module_cpu"], row["cpu_ms_per_build"],
                         row["max_rss_mb"], row["module_writes_per_build"], row["module_reads_per_build"],
                         row["log_requests_per_build"], row["node_pod_writes_per_build"], row["writes_per_build"],
                         row["held"]["pod_watches"], row["module_watch_requests"], row["held"]["log_streams"],
                         row["load_before"]), flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            stats = Path(tmp) / "module.prof"
            profiled = run_variant(namespace, "profiled", COUNT, False, kubeconfig, playbook, lab_build_options,
                                   profile=stats)
            profile = dict(_profile_top(stats), wall=profiled["wall"], module_cpu=profiled["module_cpu"])
        print("  g profiled run: %.2fs of CPU under cProfile; most of its own time:" % profile["module_cpu"])
        for entry in profile["files"][:12]:
            print("    %6.2fs  %s" % (entry["own"], entry["file"]))
    finally:
        drop_identity()
        _lab("kwok", "down")
    return {"runs": rows, "median": summarize(rows), "count": COUNT, "loop_count": LOOP_COUNT, "nodes": NODES,
            "max_concurrent": MAX_CONCURRENT, "goals": GOALS, "profile": profile}


PER_BUILD = ("cpu_ms_per_build", "module_writes_per_build", "module_reads_per_build", "log_requests_per_build",
             "node_pod_writes_per_build", "bindings_per_build", "writes_per_build")


def summarize(rows):
    """Medians of each variant, the cost of a build beyond the fixed cost of a task, and the ratios to the loop."""
    keys = ("wall", "module_cpu", "max_rss_mb", "module_watch_requests") + PER_BUILD
    summary = {variant: {key: statistics.median(row[key] for row in samples) for key in keys}
               for variant, samples in rows.items() if samples}
    for variant, samples in rows.items():
        if samples:
            summary[variant]["pod_watches"] = max(row["held"]["pod_watches"] for row in samples)
            summary[variant]["log_streams"] = statistics.median(row["held"]["log_streams"] for row in samples)
    task, one = summary["task"], summary["task_one"]
    count = rows["task"][0]["builds"]
    summary["marginal_cpu_ms_per_build"] = 1000 * (task["module_cpu"] - one["module_cpu"]) / (count - 1)
    summary["loop_wall_ratio"] = summary["loop_small"]["wall"] / summary["task_small"]["wall"]
    summary["loop_cpu_ratio"] = summary["loop_small"]["module_cpu"] / summary["task_small"]["module_cpu"]
    return summary


def table_rows(g):
    m = g["median"]
    task, small, loop = m["task"], m["task_small"], m["loop_small"]
    goals = g["goals"]
    return [
        "| (g) %d builds in one task on %d fake nodes (kwok), max_concurrent %d: median wall | %.1f s | - | - |" % (
            g["count"], g["nodes"], g["max_concurrent"], task["wall"]),
        "| (g) module CPU per build: all / beyond a task of one (goal <= %d ms) | %.1f ms / %.1f ms | - | - |" % (
            goals["cpu_ms_per_build"], task["cpu_ms_per_build"], m["marginal_cpu_ms_per_build"]),
        "| (g) peak RSS of the module (goal <= %d MB) | %.0f MB | - | - |" % (goals["max_rss_mb"], task["max_rss_mb"]),
        "| (g) API writes per build: the module's (goal <= %d) / kwok's on pods / bindings / everyone's "
        "| %.2f / %.2f / %.2f / %.2f | - | - |" % (
            goals["writes_per_build"], task["module_writes_per_build"], task["node_pod_writes_per_build"],
            task["bindings_per_build"], task["writes_per_build"]),
        "| (g) the module's reads per build: log requests / other reads | %.2f / %.2f | - | - |" % (
            task["log_requests_per_build"], task["module_reads_per_build"]),
        "| (g) pod watches held by the run above those before (one namespace; goal %d); the module's watch requests "
        "| %d; %d | - | - |" % (goals["watches_per_namespace"], task["pod_watches"], task["module_watch_requests"]),
        "| (g) %d builds: one task with builds: vs a loop of single builds, median wall | %.1f s | %.1f s | %.1fx |" % (
            g["loop_count"], small["wall"], loop["wall"], m["loop_wall_ratio"]),
        "| (g) the same, module CPU | %.1f s | %.1f s | %.1fx |" % (
            small["module_cpu"], loop["module_cpu"], m["loop_cpu_ratio"]),
    ]
