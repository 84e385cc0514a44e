"""Where the lab keeps things, which versions it pins and which addresses it owns."""

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = LAB_DIR.parent.parent


def read_versions(path=LAB_DIR / "versions"):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = " ".join(shlex.split(value))
    return values


VERSIONS = read_versions()
# Where debootstrap fetches the Debian packages of the images that are made from a root filesystem.
DEBIAN_MIRROR = "http://deb.debian.org/debian"

CACHE = Path(os.environ.get("KILN_CACHE") or Path.home() / ".cache" / "kiln")
STATE = Path(os.environ.get("KILN_LAB_STATE") or "/var/lib/kiln-lab")
RUN = Path(os.environ.get("KILN_LAB_RUN") or "/run/kiln-lab")


@dataclass(frozen=True)
class Net:
    """Addresses the lab creates for itself. None of them is the machine's external address.

    The node lives on a bridge of the lab's own (TEST-NET-2 by default); pods on the CNI bridge;
    the service range is routed onto the lab bridge so that traffic to a ClusterIP never picks
    the external interface's default route.
    """

    bridge: str = os.environ.get("KILN_LAB_BRIDGE", "kiln0")
    node_ip: str = os.environ.get("KILN_LAB_NODE_IP", "198.51.100.2")
    node_prefix: int = 24
    cni_bridge: str = "kilncni0"
    pod_cidr: str = "10.244.0.0/24"
    pod_gateway: str = "10.244.0.1"
    service_cidr: str = "10.96.0.0/16"
    kubernetes_service_ip: str = "10.96.0.1"
    cluster_domain: str = "cluster.local"
    apiserver_port: int = 6443
    registry_port: int = 5000
    git_http_port: int = 9080
    git_ssh_port: int = 2222
    dns_port: int = 53

    @property
    def node_cidr(self):
        parts = self.node_ip.split(".")
        return ".".join(parts[:3] + ["0"]) + "/%d" % self.node_prefix

    @property
    def registry(self):
        return "%s:%d" % (self.node_ip, self.registry_port)

    @property
    def git_url(self):
        return "http://%s:%d" % (self.node_ip, self.git_http_port)

    @property
    def apiserver_url(self):
        return "https://%s:%d" % (self.node_ip, self.apiserver_port)


NET = Net()
NODE_NAME = "kiln-node"
# At most this many nodes: this machine and workers in network namespaces of their own (tests/lab/kilnlab/nodes.py).
MAX_NODES = 9
POD_SUPERNET = "10.244.0.0/16"


@dataclass(frozen=True)
class Node:
    """A node of the lab. The first is this machine (control plane and worker); each further one is a worker in a
    network namespace of its own, on the lab bridge with the next address, with its own containerd (root, state,
    socket, certs.d), kubelet (root dir, pod logs, cgroup root), kube-proxy, sshd and a /24 of pod addresses."""

    index: int  # 1 is this machine

    @property
    def name(self):
        return NODE_NAME if self.index == 1 else "%s-%d" % (NODE_NAME, self.index)

    @property
    def worker(self):
        """True for a node in a network namespace of its own, False for this machine."""
        return self.index > 1

    @property
    def ip(self):
        parts = NET.node_ip.split(".")
        return ".".join(parts[:3] + [str(int(parts[3]) + self.index - 1)])

    @property
    def pod_cidr(self):
        return "10.244.%d.0/24" % (self.index - 1)

    @property
    def pod_gateway(self):
        return "10.244.%d.1" % (self.index - 1)

    @property
    def netns(self):
        return self.name if self.worker else None

    @property
    def veth(self):
        """The host end of the worker's link to the lab bridge (its own end is eth0)."""
        return "kv-%d" % self.index

    @property
    def state(self):
        return STATE if not self.worker else STATE / "nodes" / self.name

    @property
    def run_dir(self):
        return RUN if not self.worker else RUN / "nodes" / self.name

    @property
    def conf(self):
        return self.state / "conf"

    @property
    def containerd_root(self):
        return self.state / "containerd"

    @property
    def containerd_sock(self):
        return self.run_dir / "containerd" / "containerd.sock"

    @property
    def kubelet_root(self):
        return self.state / "kubelet"

    @property
    def certs_d(self):
        return Path(os.environ.get("KILN_LAB_CERTS_D", "/etc/containerd/certs.d")) if not self.worker \
            else self.state / "certs.d"

    @property
    def cgroup_root(self):
        return "/" if not self.worker else "/" + self.name

    def component(self, name):
        """The name under which the lab records this node's process ``name`` (pid file, log)."""
        return name if not self.worker else "%s.%s" % (self.name, name)


def node_by_name(name):
    for index in range(1, MAX_NODES + 1):
        if Node(index).name == name:
            return Node(index)
    return None

# Layout of the cache (kept by lab-down, keyed by version) and of the state (the running cluster).
BIN = CACHE / "bin"
IMAGES = CACHE / "images"
SRC = CACHE / "src"
ROOTFS = CACHE / "rootfs"

PKI = STATE / "pki"
LOGS = STATE / "logs"
ETCD_DATA = STATE / "etcd"
CONTAINERD_ROOT = STATE / "containerd"
SSH_DIR = STATE / "ssh"  # keys of the git server's sshd and of the nodes' own
NODES_FILE = STATE / "nodes.count"  # how many nodes `up` keeps, as `up --nodes N` last set it
KUBELET_ROOT = STATE / "kubelet"
REGISTRY_DATA = STATE / "registry"
GIT_ROOT = Path(os.environ.get("KILN_LAB_GIT_ROOT") or STATE / "git")
HOSTPATH_PV = STATE / "hostpath"
CONF = STATE / "conf"
PIDS = RUN / "pids"
CONTAINERD_SOCK = RUN / "containerd" / "containerd.sock"
KUBECONFIG = STATE / "admin.kubeconfig"
ENV_FILE = STATE / "lab.env"


def core_bin_dir():
    """Kubernetes, CoreDNS and Kaniko come out of one `go build` (tests/lab/kilnlab/build.py), keyed by all three."""
    return BIN / ("core-kubernetes-%s-coredns-%s-kaniko-%s" % (
        VERSIONS["KUBERNETES_VERSION"], VERSIONS["COREDNS_VERSION"], VERSIONS["KANIKO_VERSION"]))


def kube_bin(name):
    return core_bin_dir() / name


def coredns_bin():
    return core_bin_dir() / "coredns"


def kaniko_bin():
    return core_bin_dir() / "executor"


def cosign_bin():
    return BIN / ("cosign-" + VERSIONS["COSIGN_VERSION"]) / "cosign"


def cosign3_bin():
    return BIN / ("cosign-" + VERSIONS["COSIGN3_VERSION"]) / "cosign"


def regctl_bin():
    return BIN / ("regctl-" + VERSIONS["REGCLIENT_VERSION"]) / "regctl"


def syft_bin():
    return BIN / ("syft-" + VERSIONS["SYFT_VERSION"]) / "syft"
