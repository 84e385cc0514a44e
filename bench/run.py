#!/usr/bin/env python3
"""Benchmarks of kiln.kaniko on the lab cluster, side by side with the usual way.

The usual way is kubernetes.core.k8s to create the same pod plus a kubernetes.core.k8s_info loop
with until/retries/delay 5 (kubernetes.core.k8s's own wait never ends for a finished pod).
Times come from the ansible.posix.json callback (task start/end) and from containerd's event
stream (nanosecond start/exit of the Kaniko container), so overhead = wall - executor run time
is measured, not estimated.

    (a) one build: kiln.kaniko.build vs k8s + k8s_info until/delay 5
    (b) 10 builds: one task with builds: vs a loop of 10 single builds
    (c) layer cache: cold build vs rebuild after a change to the last layer
    (d) 10 unchanged images built again: skipped (no pod) vs forced
    (e) peak memory of the module for a build that logs 100 MB
    (f) two platforms: one task with platforms vs two single builds one after the other
    (g) 500 builds in one task on 100 fake nodes (kwok): the module's CPU and memory, API requests and watches

    bash bench/run.sh            # all scenarios
    bash bench/run.sh a e        # some of them
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "lab"))

import scale  # noqa: E402
from kilnlab import cluster  # noqa: E402
from kilnlab.config import CONTAINERD_SOCK, KUBECONFIG, NET  # noqa: E402

RESULTS = REPO / "bench" / "results"


# ---------------------------------------------------------------- measuring

class ContainerdEvents:
    """Records /tasks/start and /tasks/exit events with containerd's own nanosecond timestamps."""

    def __init__(self):
        self.lines = []
        self.proc = subprocess.Popen(["ctr", "--address", str(CONTAINERD_SOCK), "events"],
                                     stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def close(self):
        self.proc.terminate()
        self.proc.wait()

    @staticmethod
    def _stamp(line):
        date, clock = line.split()[:2]
        whole, _, frac = clock.partition(".")
        base = datetime.datetime.fromisoformat("%sT%s+00:00" % (date, whole)).timestamp()
        return base + float("0." + (frac or "0"))

    def run_time(self, container_id, timeout=5.0):
        """Seconds between the container's start and exit events."""
        start, exit_ = self.span(container_id, timeout)
        return exit_ - start

    def span(self, container_id, timeout=5.0):
        """(start, exit) of the container, in seconds since the epoch."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            start = exit_ = None
            for line in list(self.lines):
                if container_id not in line:
                    continue
                if "/tasks/start" in line:
                    start = self._stamp(line)
                elif "/tasks/exit" in line and '"id":"%s"' % container_id in line.replace(" ", ""):
                    exit_ = self._stamp(line)
            if start is not None and exit_ is not None:
                return start, exit_
            time.sleep(0.05)
        raise RuntimeError("no start/exit events seen for container %s" % container_id)


def iso(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


# Runs that failed because the lab flapped (other work may restart its components) and were run again.
RETRIED = []


def wait_for_lab(limit=600):
    """Wait until tests/lab/lab.py status says that node, registry and git server answer."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if subprocess.run([sys.executable, str(REPO / "tests" / "lab" / "lab.py"), "status"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0:
            return
        time.sleep(5)
    raise RuntimeError("the lab did not come back within %d s" % limit)


def playbook(tasks, extra_vars, peak_rss_of=None, progress=False, attempts=3):
    """Run a one-play playbook; a run that fails is run again once the lab answers (RETRIED says so)."""
    for attempt in range(attempts):
        try:
            return _playbook(tasks, extra_vars, peak_rss_of, progress)
        except RuntimeError as exc:
            if attempt == attempts - 1:
                raise
            why = str(exc).splitlines()[0][:300]
            RETRIED.append({"tasks": [task.get("name") for task in tasks], "error": why})
            print("  (failed: %s; waiting for the lab, then running it again)" % why, flush=True)
            wait_for_lab()
    raise AssertionError("not reached")


def _playbook(tasks, extra_vars, peak_rss_of=None, progress=False):
    """Run a one-play playbook on localhost; returns ({task name: (duration, result)}, peak RSS in bytes).

    The build progress action plugin is off unless ``progress``: it runs the module as an async job and
    polls it every 2 s, which would be measured along with the module.
    """
    play = [{"name": "bench", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/kiln.kaniko.k8s": {"kubeconfig": str(KUBECONFIG)}},
             "tasks": tasks}]
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "play.yml"
        book.write_text(json.dumps(play))
        variables = Path(tmp) / "vars.json"
        # extra_vars may name another interpreter (scenario g's, which measures the module).
        variables.write_text(json.dumps(dict({"ansible_python_interpreter": sys.executable}, **extra_vars,
                                             kiln_kaniko_progress=progress)))
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        proc = subprocess.Popen(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@%s" % variables,
                                 str(book)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        peak = 0
        if peak_rss_of:
            peak = _watch_peak_rss(proc, peak_rss_of)
        out, err = proc.communicate()
    try:
        # What a plugin displays may come before the callback's document.
        report = json.loads(out[out.index("\n{") + 1:] if not out.startswith("{") else out)
    except ValueError as exc:
        raise RuntimeError("ansible-playbook printed no JSON:\n%s\n%s" % (out[-3000:], err[-3000:])) from exc
    timings = {}
    for task in report["plays"][0]["tasks"]:
        name = task["task"]["name"]
        duration = task["task"]["duration"]
        result = task["hosts"].get("localhost", {})
        timings[name] = (iso(duration["end"]) - iso(duration["start"]), result)
        if result.get("failed") and not result.get("_ansible_ignore_errors"):
            items = [item.get("msg") for item in result.get("results") or [] if item.get("failed")]
            raise RuntimeError("task %r failed: %s%s" % (name, result.get("msg"), "".join("\n  " + m for m in items)))
    return timings, peak


def _watch_peak_rss(proc, needle):
    """Peak resident memory (VmHWM) of the process whose command line contains `needle`."""
    peak = 0
    while proc.poll() is None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as handle:
                    if needle.encode() not in handle.read():
                        continue
                with open("/proc/%s/status" % pid) as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]) * 1024)
            except OSError:
                continue
        time.sleep(0.05)
    return peak


def kubectl_json(*args):
    for attempt in range(3):
        try:
            return json.loads(cluster.kubectl(*args, "-o", "json").stdout)
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            RETRIED.append({"kubectl": list(args)})
            wait_for_lab()
    raise AssertionError("not reached")


def container_ids(namespace, pod):
    """{container name: containerd id} of a finished pod, init containers included."""
    status = kubectl_json("-n", namespace, "get", "pod", pod)["status"]
    return {cs["name"]: cs["containerID"].split("://", 1)[1]
            for cs in status.get("initContainerStatuses", []) + status.get("containerStatuses", [])
            if cs.get("containerID")}


def measure(events, namespace, pod, wall):
    """wall, the executor's run time, overhead = wall - executor, and the tool's own share: wall minus
    the pod's work (from the clone's start to the executor's exit)."""
    ids = container_ids(namespace, pod)
    k_start, k_exit = events.span(ids["kaniko"])
    c_start, _ = events.span(ids["clone"])
    executor = k_exit - k_start
    return {"wall": wall, "executor": executor, "overhead": wall - executor,
            "pod_work": k_exit - c_start, "tool_overhead": wall - (k_exit - c_start)}


# ---------------------------------------------------------------- scenarios

def lab_build_options(namespace, repo, **extra):
    registry = NET.registry
    options = {
        "namespace": namespace,
        "git": {"repo": "%s/%s" % (NET.git_url, repo)},
        "registry_mirrors": [registry],
        "insecure_registries": [registry],
        "insecure": True,
    }
    options.update(extra)
    return options


def scenario_a(namespace, runs):
    """One build: kiln.kaniko.build vs kubernetes.core.k8s + k8s_info until/delay 5, same pod."""
    registry = NET.registry
    rows = {"kiln": [], "k8s_loop": []}
    events = ContainerdEvents()
    try:
        for i in range(runs):
            dest = "%s/bench/a:%s-%d" % (registry, namespace, i)
            kiln, _ = playbook([{"name": "build", "kiln.kaniko.build": dict(
                lab_build_options(namespace, "smoke.git", destinations=[dest]), keep_pod="always"),
                "register": "b"}], {})
            wall, result = kiln["build"]
            rows["kiln"].append(measure(events, namespace, result["pod_name"], wall))

            rendered, _ = playbook([{"name": "render", "kiln.kaniko.build": dict(
                lab_build_options(namespace, "smoke.git", destinations=[dest + "-loop"])),
                "check_mode": True}], {})
            pod = rendered["render"][1]["pod"]
            pod["metadata"].pop("generateName", None)
            pod["metadata"]["name"] = "loop-%d-%s" % (i, uuid.uuid4().hex[:5])
            pod["metadata"]["namespace"] = namespace
            manifest = Path(tempfile.mkdtemp()) / "pod.json"  # src, not definition: the script holds {# #}
            manifest.write_text(json.dumps(pod))
            loop, _ = playbook([
                {"name": "create", "kubernetes.core.k8s": {"src": str(manifest)}},
                {"name": "wait", "kubernetes.core.k8s_info": {
                    "kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"]},
                 "register": "p",
                 "until": "p.resources | length > 0 and p.resources[0].status.phase in ['Succeeded', 'Failed']",
                 "retries": 120, "delay": 5},
            ], {})
            wall = loop["create"][0] + loop["wait"][0]
            rows["k8s_loop"].append(measure(events, namespace, pod["metadata"]["name"], wall))
            cluster.kubectl("-n", namespace, "delete", "pod", pod["metadata"]["name"], "--wait=false")
            cluster.kubectl("-n", namespace, "delete", "pod", result["pod_name"], "--wait=false")
            k, lp = rows["kiln"][-1], rows["k8s_loop"][-1]
            print("  a run %d: kiln wall %.2fs overhead %.2fs (own %.2fs) | k8s loop wall %.2fs overhead %.2fs "
                  "(own %.2fs)" % (i + 1, k["wall"], k["overhead"], k["tool_overhead"], lp["wall"], lp["overhead"],
                                   lp["tool_overhead"]), flush=True)
    finally:
        events.close()
    summary = {}
    for tool, samples in rows.items():
        summary[tool] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    summary["overhead_ratio"] = summary["k8s_loop"]["overhead"] / max(summary["kiln"]["overhead"], 1e-6)
    summary["tool_overhead_ratio"] = (summary["k8s_loop"]["tool_overhead"]
                                      / max(summary["kiln"]["tool_overhead"], 1e-6))
    summary["wall_ratio"] = summary["k8s_loop"]["wall"] / summary["kiln"]["wall"]
    return {"runs": rows, "median": summary}


def scheduled_pods(namespace):
    """How many pods the scheduler has placed in the namespace so far (one Scheduled event per pod)."""
    events = kubectl_json("-n", namespace, "get", "events", "--field-selector", "reason=Scheduled")
    return len(set(item["involvedObject"]["name"] for item in events["items"]))


def executor_spans(events, namespace, pods):
    """(start, exit) of the Kaniko container of each pod, from containerd's events."""
    return [events.span(container_ids(namespace, pod)["kaniko"]) for pod in pods]


def busy_seconds(spans):
    """Seconds during which at least one of the spans ran (their union)."""
    total, end = 0.0, None
    for start, stop in sorted(spans):
        if end is None or start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def medians(rows):
    """{variant: {measure: the median of its samples}} of ``rows`` ({variant: [sample dict, ...]})."""
    return {variant: {k: statistics.median(sample[k] for sample in samples) for k in samples[0]}
            for variant, samples in rows.items()}


def executor_row(events, namespace, pods, wall):
    """One sample of a run of ``pods``: the wall time, their executors' time in all and while any ran, and how
    many ran at once on average; the pods are deleted once their spans are read."""
    spans = executor_spans(events, namespace, pods)
    executor = sum(stop - start for start, stop in spans)
    delete_pods(namespace, pods)
    return {"wall": wall, "executor_sum": executor, "executor_busy": busy_seconds(spans),
            "parallelism": executor / wall}


def delete_pods(namespace, pods):
    if pods:
        cluster.kubectl("-n", namespace, "delete", "pod", *pods, "--wait=false", check=False)


MAX_CONCURRENT = 4  # the module's default; --max-concurrent changes it for (b)


def scenario_b(namespace, runs, count=10):
    """10 builds: one task with builds: (max_concurrent 4, the default) vs a loop of 10 single builds."""
    registry = NET.registry
    rows = {"builds": [], "loop": []}
    events = ContainerdEvents()
    try:
        for i in range(runs):
            for variant in ("builds", "loop"):
                destinations = ["%s/bench/b%d-%s-%d:%s" % (registry, i, variant, n, namespace) for n in range(count)]
                common = dict(lab_build_options(namespace, "smoke.git"), keep_pod="always", force=True)
                if variant == "builds":
                    task = {"name": "build", "kiln.kaniko.build": dict(
                        common, builds=[{"destinations": [d]} for d in destinations], max_concurrent=MAX_CONCURRENT),
                        "register": "r"}
                else:
                    task = {"name": "build", "kiln.kaniko.build": dict(common, destinations=["{{ item }}"]),
                            "loop": destinations, "register": "r"}
                timings, _ = playbook([task], {})
                wall, result = timings["build"]
                pods = [item["pod_name"] for item in result["results"]]
                row = executor_row(events, namespace, pods, wall)
                rows[variant].append(row)
                print("  b run %d %-6s: wall %.1fs, executor time %.1fs in total, %.2f builds at once on average"
                      % (i + 1, variant, wall, row["executor_sum"], row["parallelism"]), flush=True)
    finally:
        events.close()
    summary = medians(rows)
    summary["wall_ratio"] = summary["loop"]["wall"] / summary["builds"]["wall"]
    return {"runs": rows, "median": summary, "count": count, "max_concurrent": MAX_CONCURRENT}


def scenario_c(namespace, runs):
    """Layer cache on: cold build vs rebuild after a change to the last layer (bench.git layers, build arg LAST)."""
    registry = NET.registry
    rows = {"cold": [], "rebuild": [], "rebuild_without_cache": []}
    events = ContainerdEvents()
    try:
        for i in range(runs):
            repo = "%s/bench/c%d-%s" % (registry, i, namespace)
            for variant, last, cache in (("cold", "%d-1" % i, True), ("rebuild", "%d-2" % i, True),
                                         ("rebuild_without_cache", "%d-3" % i, False)):
                options = dict(lab_build_options(namespace, "bench.git", context_sub_path="layers",
                                                 destinations=["%s:%s" % (repo, variant)], build_args={"LAST": last}),
                               keep_pod="always", cache=cache)
                if cache:
                    options["cache_repo"] = repo + "/cache"
                timings, _ = playbook([{"name": "build", "kiln.kaniko.build": options, "register": "r"}], {})
                wall, result = timings["build"]
                row = measure(events, namespace, result["pod_name"], wall)
                rows[variant].append(row)
                delete_pods(namespace, [result["pod_name"]])
                print("  c run %d %-21s: wall %.1fs, executor %.1fs" % (i + 1, variant, row["wall"], row["executor"]),
                      flush=True)
    finally:
        events.close()
    summary = medians(rows)
    summary["executor_ratio"] = summary["cold"]["executor"] / summary["rebuild"]["executor"]
    summary["wall_ratio"] = summary["cold"]["wall"] / summary["rebuild"]["wall"]
    return {"runs": rows, "median": summary}


def scenario_d(namespace, runs, count=10):
    """10 unchanged images built again: skipped by their build key (no pod) vs forced (what every run cost before)."""
    registry = NET.registry
    destinations = ["%s/bench/d-%d:%s" % (registry, n, namespace) for n in range(count)]
    options = dict(lab_build_options(namespace, "smoke.git"), builds=[{"destinations": [d]} for d in destinations])
    playbook([{"name": "prime", "kiln.kaniko.build": options}], {})
    rows = {"skipped": [], "forced": [], "skipped_with_progress": []}
    for i in range(runs):
        for variant in ("skipped", "forced", "skipped_with_progress"):
            before = scheduled_pods(namespace)
            timings, _ = playbook([{"name": "build", "kiln.kaniko.build": dict(options, force=variant == "forced"),
                                    "register": "r"}], {}, progress=variant == "skipped_with_progress")
            wall, result = timings["build"]
            time.sleep(1)  # let the Scheduled events of the last pods arrive
            pods = scheduled_pods(namespace) - before
            rows[variant].append({"wall": wall, "pods": pods, "changed": bool(result.get("changed"))})
            print("  d run %d %-21s: wall %.1fs, %d pods created, changed=%s"
                  % (i + 1, variant, wall, pods, result.get("changed")), flush=True)
    summary = {variant: {"wall": statistics.median(s["wall"] for s in samples),
                         "pods": statistics.median(s["pods"] for s in samples)}
               for variant, samples in rows.items()}
    summary["wall_ratio"] = summary["forced"]["wall"] / summary["skipped"]["wall"]
    return {"runs": rows, "median": summary, "count": count}


def scenario_e(namespace, runs):
    """Peak RSS of the module process for a build that logs about 100 MB (logs streamed to log_path)."""
    rows = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            log_path = Path(tmp) / "build.log"
            timings, peak = playbook([{"name": "build", "kiln.kaniko.build": lab_build_options(
                namespace, "bench.git", context_sub_path="loud", push=False, log_path=str(log_path))}],
                {}, peak_rss_of="AnsiballZ_build")
            size = log_path.stat().st_size
        rows.append({"peak_rss_mb": peak / 2 ** 20, "log_mb": size / 2 ** 20, "wall": timings["build"][0]})
        print("  e run %d: peak RSS %.1f MB for a %.1f MB log (%.1fs)" % (
            i + 1, rows[-1]["peak_rss_mb"], rows[-1]["log_mb"], rows[-1]["wall"]), flush=True)
    return {"runs": rows, "median": {"peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rows),
                                     "log_mb": statistics.median(r["log_mb"] for r in rows)}}


PLATFORMS = ["linux/amd64", "linux/arm64"]


def scenario_f(namespace, runs):
    """Two platforms: one task with platforms (cross_build) vs two single builds (platform) one after the other.

    bench.git's context layers (three RUN steps of 2 s and 8 MB each), force: true and cache: false, so that
    every run really builds both. The lab has one amd64 node: arm64 is a cross build there (Kaniko takes the
    lab's amd64 busybox for any --custom-platform), in both variants. The two variants take turns going first.
    """
    registry = NET.registry
    rows = {"platforms": [], "singles": []}
    events = ContainerdEvents()
    try:
        for i in range(runs):
            order = ("platforms", "singles") if i % 2 == 0 else ("singles", "platforms")
            for variant in order:
                repo = "%s/bench/f%d-%s-%s" % (registry, i, variant, namespace)
                common = dict(lab_build_options(namespace, "bench.git", context_sub_path="layers"),
                              keep_pod="always", force=True, cache=False)
                if variant == "platforms":
                    tasks = [{"name": "build", "kiln.kaniko.build": dict(
                        common, destinations=["%s:1" % repo], platforms=PLATFORMS, cross_build=True),
                        "register": "r"}]
                else:
                    tasks = [{"name": "build %s" % platform, "kiln.kaniko.build": dict(
                        common, destinations=["%s:1-%s" % (repo, platform.replace("/", "-"))], platform=platform),
                        "register": "r"} for platform in PLATFORMS]
                timings, _ = playbook(tasks, {})
                if variant == "platforms":
                    wall, result = timings["build"]
                    pods = [entry["pod_name"] for entry in result["manifests"]]
                else:
                    wall = sum(timings["build %s" % platform][0] for platform in PLATFORMS)
                    pods = [timings["build %s" % platform][1]["pod_name"] for platform in PLATFORMS]
                row = executor_row(events, namespace, pods, wall)
                rows[variant].append(row)
                print("  f run %d %-9s: wall %.1fs, executor time %.1fs in total, %.2f builds at once on average"
                      % (i + 1, variant, wall, row["executor_sum"], row["parallelism"]), flush=True)
    finally:
        events.close()
    summary = medians(rows)
    summary["wall_ratio"] = summary["singles"]["wall"] / summary["platforms"]["wall"]
    return {"runs": rows, "median": summary, "platforms": PLATFORMS}


def scenario_g(namespace, runs):
    """500 builds in one task on 100 fake nodes (kwok): the module's CPU and memory, API requests and watches.

    bench/scale.py says how; kwok's nodes are the only imitation, everything else is the lab's real cluster.
    """
    return scale.scenario_g(namespace, runs, playbook, lab_build_options)


SCENARIOS = {"a": scenario_a, "b": scenario_b, "c": scenario_c, "d": scenario_d, "e": scenario_e, "f": scenario_f,
             "g": scenario_g}


def main():
    global MAX_CONCURRENT  # a command-line setting of scenario (b)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", default=sorted(SCENARIOS), choices=sorted(SCENARIOS))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-concurrent", type=int, default=MAX_CONCURRENT, help="max_concurrent for (b)")
    parser.add_argument("--output", help="results file (default bench/results/<date>.json)")
    args = parser.parse_args()
    MAX_CONCURRENT = args.max_concurrent
    namespace = "kiln-bench-" + uuid.uuid4().hex[:6]
    cluster.kubectl("create", "namespace", namespace)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()}, "runs": args.runs,
               "scenarios": {}}
    out = Path(args.output) if args.output else RESULTS / ("%s.json" % datetime.date.today().isoformat())
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for key in args.scenarios:
            print("scenario %s: %s" % (key, SCENARIOS[key].__doc__.splitlines()[0]), flush=True)
            results["scenarios"][key] = SCENARIOS[key](namespace, args.runs)
            # Written after each scenario, so that a later one that fails loses only itself.
            results["machine"]["load_after"] = os.getloadavg()
            results["retried"] = RETRIED
            out.write_text(json.dumps(results, indent=1) + "\n")
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    print()
    print(table(results))
    print("\nwritten to %s" % out)


def table(results):
    lines = ["| scenario | kiln.kaniko | usual way | ratio |", "|---|---|---|---|"]
    a = results["scenarios"].get("a")
    if a:
        m = a["median"]
        lines.append("| (a) one build, median wall | %.2f s | %.2f s | %.1fx |" % (
            m["kiln"]["wall"], m["k8s_loop"]["wall"], m["wall_ratio"]))
        lines.append("| (a) overhead = wall - executor run | %.2f s | %.2f s | %.1fx less |" % (
            m["kiln"]["overhead"], m["k8s_loop"]["overhead"], m["overhead_ratio"]))
        lines.append("| (a) own overhead = wall - pod work (clone start to executor exit) | %.2f s | %.2f s "
                     "| %.1fx less |" % (m["kiln"]["tool_overhead"], m["k8s_loop"]["tool_overhead"],
                                         m["tool_overhead_ratio"]))
    b = results["scenarios"].get("b")
    if b:
        m = b["median"]
        lines.append("| (b) %d builds, median wall: builds: (max_concurrent %d) vs a loop of single builds "
                     "| %.1f s | %.1f s | %.1fx |" % (b["count"], b["max_concurrent"], m["builds"]["wall"],
                                                     m["loop"]["wall"], m["wall_ratio"]))
        lines.append("| (b) builds running at once on average (executor time / wall) | %.2f | %.2f | - |" % (
            m["builds"]["parallelism"], m["loop"]["parallelism"]))
    c = results["scenarios"].get("c")
    if c:
        m = c["median"]
        lines.append("| (c) cache on: rebuild after a last-layer change vs cold build, median executor run "
                     "| %.1f s | %.1f s | %.1fx |" % (
                         m["rebuild"]["executor"], m["cold"]["executor"], m["executor_ratio"]))
        lines.append("| (c) the same, median wall | %.1f s | %.1f s | %.1fx |" % (
            m["rebuild"]["wall"], m["cold"]["wall"], m["wall_ratio"]))
        lines.append("| (c) rebuild with cache false, median executor run / wall | %.1f s / %.1f s | - | - |" % (
            m["rebuild_without_cache"]["executor"], m["rebuild_without_cache"]["wall"]))
    d = results["scenarios"].get("d")
    if d:
        m = d["median"]
        lines.append("| (d) %d unchanged images again: skipped vs forced, median wall | %.1f s | %.1f s | %.1fx |" % (
            d["count"], m["skipped"]["wall"], m["forced"]["wall"], m["wall_ratio"]))
        lines.append("| (d) pods created | %d | %d | - |" % (m["skipped"]["pods"], m["forced"]["pods"]))
        lines.append("| (d) skipped, with the build progress plugin on, median wall | %.1f s "
                     "| - | - |" % m["skipped_with_progress"]["wall"])
    e = results["scenarios"].get("e")
    if e:
        lines.append("| (e) peak RSS of the module, %.0f MB of build log | %.1f MB | - | - |" % (
            e["median"]["log_mb"], e["median"]["peak_rss_mb"]))
    f = results["scenarios"].get("f")
    if f:
        m = f["median"]
        lines.append("| (f) %s: one task with platforms (cross_build) vs two single builds one after the other, "
                     "median wall | %.1f s | %.1f s | %.2fx |" % (" + ".join(f["platforms"]), m["platforms"]["wall"],
                                                                 m["singles"]["wall"], m["wall_ratio"]))
        lines.append("| (f) builds running at once on average (executor time / wall) | %.2f | %.2f | - |" % (
            m["platforms"]["parallelism"], m["singles"]["parallelism"]))
    g = results["scenarios"].get("g")
    if g:
        lines.extend(scale.table_rows(g))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
