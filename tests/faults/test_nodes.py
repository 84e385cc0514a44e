"""kiln.kaniko.build on a lab of several nodes (`lab.py up --nodes 3`): where build pods land, and that what a
build leaves for the next (the registry's layer cache, the build key the skip reads) serves it on any node.

Every test here needs three nodes and fails, not skips, when the lab has fewer: scripts/nodes.sh brings them up.
"""

import threading

import pytest
from kubernetes import watch as k8s_watch

from conftest import build_task

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
                  + [dict(pod={}, destinations=[lab_build("wait", "plain-%d" % i)["destinations"][0]]) for i in range(3)]
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
    tags = [build["destinations"][0].rsplit(":", 1)[1] for build in builds]
    node_of = {tag: placed.nodes.get(item["pod_name"]) for tag, item in zip(tags, result["results"])}  # in order
    assert node_of["tolerating-0"] == node_of["tolerating-1"] == nodes[2], lines
    assert all(node_of["plain-%d" % i] != nodes[2] for i in range(3)), lines
    assert node_of["selected"] == nodes[1], lines
