"""Where the pods of ``platforms`` land, on nodes of other architectures: kwok's fake nodes on the lab.

The lab's real nodes are all amd64. ``lab.py kwok up`` adds fake nodes (tests/lab/kilnlab/kwok.py) of amd64,
arm64, s390x and ppc64le, registered with the lab's real API server and placed on by its real scheduler; only
their kubelet is kwok's. They are tainted, so a build reaches them only with a toleration of its own (pod
options). The pods on them never run a container: these tests look at where the scheduler bound each
platform's pod, then stop the build and check that nothing is left; no image is built or pushed.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import LAB, Creations, build_task, wait_until

# Mirrors tests/lab/kilnlab/kwok.py: the taint of the fake nodes, their label, and the pod annotation that
# holds a fake pod Running for as long as it says.
TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "fake", "effect": "NoSchedule"}
FAKE_LABEL = "kiln.lab/fake-node"
HOLD = {"kwok.kiln.lab/succeeded-after": "1h"}
ARCHS = ("amd64", "arm64", "s390x", "ppc64le")
PLATFORMS = ["linux/" + arch for arch in ARCHS]
ARCH_LABEL = "kubernetes.io/arch"

pytestmark = pytest.mark.fake_nodes


def _lab(*args, timeout=900):
    done = subprocess.run([sys.executable, str(LAB), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise AssertionError("lab.py %s failed:\n%s%s" % (" ".join(args), done.stdout[-2000:], done.stderr[-2000:]))
    return done.stdout


@pytest.fixture(scope="module")
def fake_nodes(lab, kube):
    """One fake node of each of ARCHS for the tests of this module: {name: arch}. kwok is built when missing (a
    cold build takes some 100 CPU-seconds); the nodes, their pods and kwok are gone afterwards."""
    _lab("go", "kwok")
    _lab("kwok", "up", str(len(ARCHS)), "--arch", ",".join(ARCHS))
    try:
        nodes = kube.core.list_node(label_selector=FAKE_LABEL).items
        yield {node.metadata.name: node.metadata.labels[ARCH_LABEL] for node in nodes}
    finally:
        _lab("kwok", "down")
        assert not kube.core.list_node(label_selector=FAKE_LABEL).items


def _platform(pod):
    """The platform a build pod builds (Kaniko's --custom-platform)."""
    kaniko = next(c for c in pod.spec.containers if c.name == "kaniko")
    return next(arg.split("=", 1)[1] for arg in kaniko.args if arg.startswith("--custom-platform="))


def test_each_platform_pod_is_bound_to_a_node_of_its_architecture(lab, kube, namespace, ansible, lab_build,
                                                                   fake_nodes):
    arch_of = dict(fake_nodes)
    arch_of.update((node.metadata.name, node.metadata.labels.get(ARCH_LABEL)) for node in kube.core.list_node().items)
    # node_selector keeps linux/amd64 off the real nodes too: no pod of this test runs a container.
    args = lab_build("wait", "placement", platforms=PLATFORMS, force=True,
                     pod={"tolerations": [TOLERATION], "node_selector": {FAKE_LABEL: "true"}, "annotations": HOLD})
    play = ansible.start([build_task("built", **args)])

    def bound():
        if play.proc.poll() is not None:
            raise AssertionError("the play ended before its pods were bound:\n" + play.output()[-3000:])
        pods = kube.pods(namespace, label_selector="app.kubernetes.io/managed-by=kiln.kaniko")
        return pods if len(pods) == len(PLATFORMS) and all(pod.spec.node_name for pod in pods) else None
    pods = wait_until(bound, 120, "a bound pod for each of " + ", ".join(PLATFORMS))

    placed = {_platform(pod): (pod.spec.node_name, arch_of.get(pod.spec.node_name)) for pod in pods}
    print("bound: " + json.dumps(placed, sort_keys=True))
    assert sorted(placed) == sorted(PLATFORMS)
    for platform, (node, arch) in placed.items():
        assert node in fake_nodes, (platform, node)
        assert arch == platform.split("/")[1], (platform, node, arch)
    for pod in pods:
        assert pod.spec.node_selector[ARCH_LABEL] == _platform(pod).split("/")[1]

    # Here the test stops: the fake pods would never build anything. SIGTERM to the module, as an interrupted
    # task: it deletes every pod of the run.
    pids = play.module_pids()
    assert pids, play.output()[-3000:]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    result = play.wait(120).results()["built"]
    print("stopped: " + str(result.get("msg")))
    assert result.get("failed") and "SIGTERM" in result["msg"]
    wait_until(lambda: not kube.names(namespace), 60, "the pods of the run to go", interval=1)


def test_a_platform_whose_nodes_are_all_tainted_is_refused_before_any_pod(lab, kube, namespace, ansible, lab_build,
                                                                          fake_nodes):
    # No toleration: the fake arm64 node does not count, and the lab has no other.
    args = lab_build("wait", "tainted", platforms=["linux/amd64", "linux/arm64"], force=True)
    with Creations(kube, namespace) as created:
        result = ansible.run([build_task("refused", **args)]).results()["refused"]
    print(result.get("msg"))
    assert result.get("failed")
    assert result["msg"].startswith("platforms[1]: no schedulable node is linux/arm64"), result["msg"]
    assert "linux/arm64 (1 node)" in result["msg"]
    assert created.seen == []
