#!/usr/bin/env python3
"""kiln lab: `up [--nodes N]`, `down`, `status`, `env`, `build` for the cluster of tests/lab (one node, this machine,
unless asked for more: workers in network namespaces of their own); `node stop|start|cut|join NAME` for the fault
tests; `inventory` prints the nodes as Ansible hosts; `images supply|ee` builds and imports what only some tiers use
(cosign 2 and 3, syft and regctl, the execution environment), `images core` the core's images a running lab
lacks; `podman` loads its executor image into podman (kiln.kaniko.container_build); `kwok up N|down|status` adds
fake nodes of other architectures (kilnlab/kwok.py), for placement tests and the scale bench; `root REQUIREMENTS
COMMAND...` runs a command in the Debian root of a newer Python with a venv of REQUIREMENTS (kilnlab/coreroot.py:
the tests on the newest ansible-core)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kilnlab import build, cluster, coreroot, kwok, nodes, podman  # noqa: E402


def _node_back(node, start):
    """Start a node's processes again or join it to the network again; return once it is Ready and the node
    controller has lifted the taints it set while the node was gone (a pod would not be scheduled there before)."""
    if start:
        nodes.start(node)
    else:
        nodes.set_link(node, True)
    nodes.wait_ready(node, cluster.node_ready)
    cluster.wait_for("node %s without the node controller's taints" % node.name,
                     lambda: not cluster.node_taints(node.name, "node.kubernetes.io/"), 60)
    return 0


# For the fault tests: a node lost (its processes and containers killed: `stop`), back (`start`), cut off the lab
# network with its processes running (`cut`) and joined again (`join`).
NODE_ACTIONS = {"stop": lambda node: nodes.stop(node) or 0, "start": lambda node: _node_back(node, True),
                "cut": lambda node: nodes.set_link(node, False) or 0, "join": lambda node: _node_back(node, False)}


def main(argv):
    commands = {"up": cluster.up, "down": cluster.down, "status": cluster.status, "env": cluster.env,
                "vars": cluster.integration_vars,
                "build": build.build_all,
                "go": build.build_go,
                "toolchain": build.go_binary,
                "deps": build.ensure_packages,
                "podman": podman.load}
    if len(argv) == 4 and argv[1] == "up" and argv[2] == "--nodes" and argv[3].isdigit():
        cluster.up(int(argv[3]))
        return 0
    if len(argv) == 4 and argv[1] == "node" and argv[2] in NODE_ACTIONS:
        return NODE_ACTIONS[argv[2]](nodes.named(argv[3]))
    if len(argv) == 2 and argv[1] == "inventory":
        print(json.dumps(nodes.inventory(), indent=1))
        return 0
    if len(argv) == 3 and argv[1] == "stop" and argv[2] in cluster.COMPONENTS:
        # For fault tests: stop one component by its pid; `lab.py up` starts it again.
        return 0 if cluster.procs.stop(argv[2]) else 1
    if len(argv) >= 3 and argv[1] == "images" and all(name in build.EXTRAS or name == "core" for name in argv[2:]):
        # What some tiers need beyond the core: cosign, syft and regctl ("supply"), the execution environment ("ee");
        # or the core's images, those a running lab lacks.
        cluster.images(argv[2:])
        return 0
    if len(argv) == 3 and argv[1] == "go" and argv[2] in ("core", "registry", "supply", "kwok"):
        build.build_go(argv[2])
        return 0
    if len(argv) >= 3 and argv[1] == "root":
        return coreroot.enter(argv[2:])
    if len(argv) >= 3 and argv[1] == "kwok":
        return kwok.main(argv[2:])
    if len(argv) != 2 or argv[1] not in commands:
        print("usage: lab.py {%s} | lab.py up --nodes N | lab.py node {%s} NAME | lab.py inventory | "
              "lab.py go {core,registry,supply,kwok} | lab.py images {core,%s} ... | lab.py stop {%s} | "
              "lab.py kwok {up N [--arch A,B],down,status} | lab.py root REQUIREMENTS COMMAND..."
              % (",".join(commands), ",".join(NODE_ACTIONS), ",".join(build.EXTRAS), ",".join(cluster.COMPONENTS)),
              file=sys.stderr)
        return 2
    result = commands[argv[1]]()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
