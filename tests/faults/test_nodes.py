"""kiln.kaniko.build on a lab of several nodes (`lab.py up --nodes 3`): where build pods land, and that what a
build leaves for the next (the registry's layer cache, the build key the skip reads) serves it on any node.

Every test here needs three nodes and fails, not skips, when the lab has fewer: scripts/nodes.sh brings them up.
"""

import subprocess
import sys
import threading
import time

import pytest
from kubernetes import watch as k8s_watch

from conftest import LAB, _lab_env, build_task
from test_faults import left_behind, show, wait_for_marker

pytestmark = pytest.mark.nodes

HOSTNAME = "kubernetes.io/hostname"


@pytest.fixture(scope="module")
def nodes(lab):
    names = [name for name in lab.get("KILN_LAB_NODES", "").split(",") if name]
    if len(names) < 3:
        pytest.fail("these tests need a lab of three nodes, not %d (%s): run scripts/nodes.sh, or "
                    "`tests/lab/lab.py up --nodes 3`" % (len(names), ", ".join(names) or "none"))
    return names


class Placements(object):
    """The node of every pod that runs in a namespace while the block runs (a pod watch in a thread): the pods are
    gone when the task ends."""

    def __init__(self, kube, namespace):
        self.kube = kube
        self.namespace = namespace
        self.nodes = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        version = self.kube.core.list_namespaced_pod(self.namespace).metadata.resource_version
        while not self._stop.is_set():
            stream = k8s_watch.Watch().stream(self.kube.core.list_namespaced_pod, self.namespace,
                                              resource_version=version, timeout_seconds=2)
            for event in stream:
                pod = event["object"]
                version = pod.metadata.resource_version
                if pod.spec.node_name:
                    self.nodes[pod.metadata.name] = pod.spec.node_name

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def report(self):
        """pod -> node, one per line (pytest -rP shows it)."""
        lines = ["%s -> %s" % (pod, node) for pod, node in sorted(self.nodes.items())]
        print("\n".join(lines))
        return lines


def test_six_builds_run_on_several_nodes_at_once(kube, namespace, ansible, lab_build, nodes):
    builds = [dict(context_sub_path="wait", build_args={"PAUSE": "6"},
                   destinations=[lab_build("wait", "spread-%d" % index)["destinations"][0]]) for index in range(6)]
    args = lab_build("wait", "spread")
    del args["context_sub_path"], args["destinations"]
    with Placements(kube, namespace) as placed:
        result = ansible.run([build_task("built", builds=builds, **args)]).results()["built"]
    placed.report()

    assert not result.get("failed"), result.get("msg")
    assert [item["changed"] for item in result["results"]] == [True] * 6
    assert len(placed.nodes) == 6
    assert len(set(placed.nodes.values())) >= 2, placed.nodes


def test_skip_and_layer_cache_serve_a_build_on_another_node(kube, namespace, ansible, lab_build, nodes):
    """The first build runs on the second node; the same source pinned to the third is skipped (the build key is in
    the registry, not on a node), and a build of it under a new tag there takes its layers from the cache."""
    first = lab_build("wait", "cache-a", build_args={"PAUSE": "1"}, cache=True,
                      pod={"node_selector": {HOSTNAME: nodes[1]}})
    again = dict(first, pod={"node_selector": {HOSTNAME: nodes[2]}})
    other_tag = dict(again, destinations=[first["destinations"][0].rsplit(":", 1)[0] + ":cache-b"])
    with Placements(kube, namespace) as placed:
        play = ansible.run([build_task("first", **first), build_task("again", **again),
                            build_task("other_tag", **other_tag)])
    placed.report()
    results = play.results()

    assert not results["first"].get("failed"), results["first"].get("msg")
    assert results["first"]["changed"] is True
    assert results["again"]["changed"] is False, results["again"]
    assert results["again"]["skip_check"] == "found", results["again"]
    assert not results["other_tag"].get("failed"), results["other_tag"].get("msg")
    assert sorted(placed.nodes.values()) == sorted([nodes[1], nodes[2]])
    log = "\n".join(results["other_tag"]["log_lines"])
    assert "Using caching version of cmd" in log or "Found cached layer" in log, log


def test_node_selector_tolerations_and_affinity_on_a_real_scheduler(kube, namespace, ansible, lab_build, nodes):
    """With a taint on the third node, builds that tolerate it and require it by node affinity run there; builds
    without the toleration never do; a node selector picks the second."""
    taint = {"key": "kiln.test/dedicated", "value": namespace, "effect": "NoSchedule"}
    kube.core.patch_node(nodes[2], {"spec": {"taints": [taint]}})
    try:
        on_third = {"tolerations": [{"key": taint["key"], "operator": "Equal", "value": namespace,
                                     "effect": "NoSchedule"}],
                    "affinity": {"node_affinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [
                            {"key": HOSTNAME, "operator": "In", "values": [nodes[2]]}]}]}}}}
        builds = ([dict(pod=on_third, destinations=[lab_build("wait", "tolerating-%d" % i)["destinations"][0]])
                   for i in range(2)]
                  + [dict(pod={}, destinations=[lab_build("wait", "plain-%d" % i)["destinations"][0]])
                     for i in range(3)]
                  + [dict(pod={"node_selector": {HOSTNAME: nodes[1]}},
                          destinations=[lab_build("wait", "selected")["destinations"][0]])])
        args = lab_build("wait", "placed", build_args={"PAUSE": "1"})
        del args["destinations"]
        with Placements(kube, namespace) as placed:
            result = ansible.run([build_task("built", builds=builds, **args)]).results()["built"]
        lines = placed.report()
    finally:
        kube.core.patch_node(nodes[2], {"spec": {"taints": None}})

    assert not result.get("failed"), result.get("msg")
    tags = [build["destinations"][0].rsplit(":", 1)[1] for build in builds]  # results come in the order of builds
    node_of = {tag: placed.nodes.get(item["pod_name"]) for tag, item in zip(tags, result["results"], strict=True)}
    assert node_of["tolerating-0"] == node_of["tolerating-1"] == nodes[2], lines
    assert all(node_of["plain-%d" % i] != nodes[2] for i in range(3)), lines
    assert node_of["selected"] == nodes[1], lines


# ---------------------------------------------------------------- a node lost, cut off or drained mid-build

NODE_LOST_WITHIN = 90  # seconds from the loss to the task's answer


def lab_node(action, name):
    subprocess.run([sys.executable, str(LAB), "node", action, name], check=True, capture_output=True)


def on_workers(nodes, prefer):
    """Pod options that keep a build off this machine's node (which runs the control plane, not to be lost) and
    put it on ``prefer`` when it can."""
    return {"affinity": {"node_affinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": HOSTNAME, "operator": "In", "values": nodes[1:]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {"matchExpressions": [
            {"key": HOSTNAME, "operator": "In", "values": [prefer]}]}}]}}}


def lose_node_mid_build(kube, namespace, ansible, lab_build, nodes, how, retries, pause="240"):
    """Start a build on the third node, lose that node ``how`` once the build step runs, and return
    (result, seconds from the loss to the task's answer, node of each pod). The node is back afterwards."""
    args = lab_build("wait", "%s-%d" % (how, retries), build_args={"PAUSE": pause}, retries=retries,
                     pod=on_workers(nodes, nodes[2]))
    lost = nodes[2]
    with Placements(kube, namespace) as placed:
        play = ansible.start([build_task("built", **args)])
        pod = wait_for_marker(kube, namespace, play)
        assert placed.nodes.get(pod) == lost, placed.nodes
        started = time.monotonic()
        try:
            if how == "drain":
                drain = subprocess.Popen(kubectl("drain", lost, "--ignore-daemonsets", "--delete-emptydir-data",
                                                 "--force", "--timeout=120s"),
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            else:
                lab_node(how, lost)
            play.wait(timeout=600)
            seconds = time.monotonic() - started
        finally:
            if how == "drain":
                print("kubectl drain: %s" % drain.communicate(timeout=150)[0])
                uncordon(lost)
            else:
                lab_node("join" if how == "cut" else "start", lost)
    placed.report()
    result = show(play.results()["built"])
    print("answered %.1f s after the node was lost (%s)" % (seconds, how))
    return result, seconds, placed


def uncordon(name):
    """`kubectl uncordon`, again when the node was changed under it (the node controller writes it too)."""
    for _ in range(5):
        done = subprocess.run(kubectl("uncordon", name), capture_output=True, text=True)
        if done.returncode == 0:
            return
        time.sleep(2)
    raise AssertionError("kubectl uncordon %s: %s" % (name, done.stderr))


def kubectl(*args):
    """The lab's kubectl with its admin kubeconfig (the tests' environment names none)."""
    env = _lab_env()
    return [env["KILN_LAB_KUBECTL"], "--kubeconfig", env["KUBECONFIG"], *args]


@pytest.mark.parametrize("how", ["stop", "cut"])
def test_node_lost_mid_build_fails_naming_the_node(kube, namespace, ansible, lab_build, nodes, how):
    result, seconds, _placed = lose_node_mid_build(kube, namespace, ansible, lab_build, nodes, how, retries=0)

    assert result.get("failed")
    assert nodes[2] in result["msg"] and "retries" in result["msg"], result["msg"]
    assert seconds < NODE_LOST_WITHIN, seconds
    assert left_behind(kube, namespace) == set()


def test_node_lost_mid_build_with_retries_builds_again_on_another_node(lab, kube, namespace, ansible, lab_build,
                                                                        nodes):
    result, seconds, placed = lose_node_mid_build(kube, namespace, ansible, lab_build, nodes, "stop", retries=1,
                                                  pause="5")

    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and result["digest"]
    assert [attempt["node"] for attempt in result["attempts"]] == [nodes[2], nodes[1]], result["attempts"]
    assert sorted(set(placed.nodes.values())) == sorted([nodes[1], nodes[2]])
    assert left_behind(kube, namespace) == set()


def test_drain_mid_build_with_retries_builds_again_on_another_node(kube, namespace, ansible, lab_build, nodes):
    result, seconds, _placed = lose_node_mid_build(kube, namespace, ansible, lab_build, nodes, "drain", retries=1,
                                                   pause="5")

    assert not result.get("failed"), result.get("msg")
    assert [attempt["node"] for attempt in result["attempts"]] == [nodes[2], nodes[1]], result["attempts"]
    assert seconds < NODE_LOST_WITHIN, seconds
    assert left_behind(kube, namespace) == set()


def test_drain_mid_build_without_retries_fails_naming_the_drain(kube, namespace, ansible, lab_build, nodes):
    result, seconds, _placed = lose_node_mid_build(kube, namespace, ansible, lab_build, nodes, "drain", retries=0)

    assert result.get("failed")
    assert nodes[2] in result["msg"] and "evict" in result["msg"].lower(), result["msg"]
    assert seconds < NODE_LOST_WITHIN, seconds
    assert left_behind(kube, namespace) == set()


def test_a_build_that_fails_on_its_own_is_never_retried(kube, namespace, ansible, lab_build, nodes):
    args = lab_build("wait", "own-failure", build_args={"PAUSE": "not-a-number"}, retries=2)  # sleep exits 1
    with Placements(kube, namespace) as placed:
        result = show(ansible.run([build_task("built", **args)]).results()["built"])

    assert result.get("failed") and result["rc"] == 1, result
    assert len(placed.nodes) == 1, placed.report()
    assert len(result.get("attempts") or [None]) == 1, result.get("attempts")
    assert left_behind(kube, namespace, keep={"pod/" + pod for pod in placed.nodes}) == set()
