"""The lab's nodes: the containerd, kubelet, kube-proxy and sshd of each, their configuration, network and cgroups.

The first node is this machine (it also runs the control plane, tests/lab/kilnlab/cluster.py). Every further
node is a worker in a network namespace of its own, joined to the lab bridge by a veth pair, with the next address
of the lab network and a /24 of pod addresses that the machine routes to it. Its processes are started with
`nsenter --net` only: they share this machine's mount namespace, so that the kubelet's volume mounts are the ones
its containerd hands to runc, and they keep apart by paths (root, state, socket, certs.d, pod logs) and by a cgroup
root of their own. Pods on any node reach the Services, CoreDNS and the lab registry on the first.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import build, pki, procs
from .cmd import log, run, write_file
from .config import (CONF, LOGS, MAX_NODES, NET, NODES_FILE, PKI, POD_SUPERNET, SSH_DIR, Node, kube_bin,
                     node_by_name)

# A node's own processes, in start order; `stop` stops them in the reverse order.
NODE_COMPONENTS = ("containerd", "kubelet", "kube-proxy", "node-ssh")
KUBELET_STARTS = 4
CGROUP = Path("/sys/fs/cgroup")
# The lab registry answers for itself and for the public registries the lab's images are named after, over
# plain HTTP; there is no fallback to the real hosts, so nothing is fetched from outside. kiln.lab names the
# lab's own images: one that is missing is looked for in the lab registry too.
MIRRORED = (NET.registry, "docker.io", "registry.k8s.io", "ghcr.io", "gcr.io", "quay.io", "kiln.lab")


def count():
    """How many nodes the lab keeps: what `up --nodes N` last said, else $KILN_LAB_NODE_COUNT, else 1. (The lab's
    environment names its nodes in KILN_LAB_NODES, which a shell that read `lab.py env` hands on to this.)"""
    try:
        wanted = int(NODES_FILE.read_text())
    except (OSError, ValueError):
        wanted = int(os.environ.get("KILN_LAB_NODE_COUNT") or 1)
    return max(1, min(wanted, MAX_NODES))


def set_count(number):
    if not 1 <= number <= MAX_NODES:
        raise SystemExit("lab: --nodes takes 1 to %d, not %d" % (MAX_NODES, number))
    NODES_FILE.parent.mkdir(parents=True, exist_ok=True)
    NODES_FILE.write_text("%d\n" % number)


def all_nodes(number=None):
    return [Node(index) for index in range(1, (number or count()) + 1)]


def workers_present():
    """The worker nodes of which something is still on this machine (state, network namespace or a process)."""
    return [node for node in all_nodes(MAX_NODES)[1:]
            if node.state.exists() or Path("/run/netns", node.name).exists()
            or any(procs.pid_of(node.component(name)) for name in NODE_COMPONENTS)]


def named(name):
    node = node_by_name(name)
    if node is None:
        raise SystemExit("lab: no node %s (nodes are %s)" % (name, ", ".join(n.name for n in all_nodes())))
    return node


def _in_node(node, argv):
    return ["nsenter", "--net=/run/netns/" + node.netns, *argv] if node.worker else list(argv)


def ctr(node, *args, check=True):
    return run("ctr", "--address", node.containerd_sock, "--namespace", "k8s.io", *args, check=check,
               capture_output=True, text=True)


# ---------------------------------------------------------------- network

def _links():
    return {link["ifname"] for link in json.loads(run("ip", "-j", "link", capture_output=True, text=True).stdout)}


def network_up(node):
    """A worker's namespace, its link to the lab bridge, its address, its default route through this machine, and
    this machine's route to its pods."""
    if not node.worker:
        return
    if not Path("/run/netns", node.netns).exists():
        run("ip", "netns", "add", node.netns)
    if node.veth not in _links():
        run("ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", node.netns)
    run("ip", "link", "set", node.veth, "master", NET.bridge, "up")
    inside = ("ip", "-n", node.netns)
    addrs = run(*inside, "-j", "-4", "addr", "show", "dev", "eth0", capture_output=True, text=True).stdout
    if node.ip not in {a["local"] for link in json.loads(addrs or "[]") for a in link.get("addr_info", [])}:
        run(*inside, "addr", "add", "%s/%d" % (node.ip, NET.node_prefix), "dev", "eth0")
    run(*inside, "link", "set", "lo", "up")
    run(*inside, "link", "set", "eth0", "up")
    run(*inside, "route", "replace", "default", "via", NET.node_ip)
    run("ip", "route", "replace", node.pod_cidr, "via", node.ip, "dev", NET.bridge)
    # Per network namespace: forwarding, and iptables on bridged traffic (kube-proxy's Services between two pods of
    # the node's own bridge).
    sysctls = "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables"
    run(*_in_node(node, ["sh", "-c", sysctls]))


def set_link(node, up):
    """Cut a worker off the lab network, or join it again: its processes run on, unreachable."""
    run("ip", "link", "set", node.veth, "up" if up else "down")


def network_down(node):
    if not node.worker:
        return
    run("ip", "route", "del", node.pod_cidr, check=False, stderr=subprocess.DEVNULL)
    run("ip", "link", "del", node.veth, check=False, stderr=subprocess.DEVNULL)
    run("ip", "netns", "del", node.netns, check=False, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- cgroups

def _cgroup_dirs(node):
    if (CGROUP / "cgroup.controllers").exists():  # cgroup v2: one tree
        return [CGROUP / node.name]
    return [hierarchy / node.name for hierarchy in sorted(CGROUP.iterdir())
            if hierarchy.is_dir() and not hierarchy.is_symlink() and (hierarchy / "cgroup.procs").exists()]


def cgroups_up(node):
    """The cgroup root of a worker's kubelet (kubepods and the QoS classes below it): it must exist in every
    hierarchy before the kubelet starts. cpuset's own files start empty in cgroup v1, and a cgroup without CPUs
    takes no process: they are copied from the parent."""
    if not node.worker:
        return
    for path in _cgroup_dirs(node):
        path.mkdir(exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):
            if (path / name).exists() and not (path / name).read_text().strip():
                (path / name).write_text((path.parent / name).read_text())
    v2 = CGROUP / "cgroup.controllers"
    if v2.exists():
        wanted = set(v2.read_text().split()) & {"cpu", "cpuset", "io", "memory", "pids", "hugetlb"}
        (CGROUP / node.name / "cgroup.subtree_control").write_text(" ".join("+" + c for c in sorted(wanted)))


def cgroups_down(node):
    if not node.worker:
        return
    for top in _cgroup_dirs(node):
        if not top.exists():
            continue
        for path in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                path.rmdir()
            except OSError:
                pass
        try:
            top.rmdir()
        except OSError:
            pass


# ---------------------------------------------------------------- configuration

def write_configs(node):
    """containerd's, the CNI's, the kubelet's and kube-proxy's configuration of ``node``, and its certs.d."""
    conf = node.conf
    run_dir = node.run_dir
    write_file(conf / "containerd.toml", f"""version = 2
root = "{node.containerd_root}"
state = "{run_dir / 'containerd'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{node.containerd_sock}"
[ttrpc]
  address = "{run_dir / 'containerd' / 'containerd.sock.ttrpc'}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{node.containerd_root / 'opt'}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{build.PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      base_runtime_spec = "{CONF / 'base-runtime-spec.json'}"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{conf / 'cni'}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{node.certs_d}"
""")
    write_file(conf / "cni" / "10-kiln.conflist", json.dumps({
        "cniVersion": "1.0.0",
        "name": "kiln",
        "plugins": [
            {"type": "bridge", "bridge": NET.cni_bridge, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(run_dir / "cni-ipam"),
                      "ranges": [[{"subnet": node.pod_cidr, "gateway": node.pod_gateway}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }, indent=1))
    lab = "http://" + NET.registry
    for host in MIRRORED:
        write_file(node.certs_d / host / "hosts.toml",
               f'server = "{lab}"\n\n[host."{lab}"]\n  capabilities = ["pull", "resolve", "push"]\n')
    _write_kubelet_config(node)
    write_file(conf / "kube-proxy.yaml", f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {{kubeconfig: {PKI / 'kube-proxy.kubeconfig'}}}
mode: iptables
clusterCIDR: {POD_SUPERNET}
hostnameOverride: {node.name}
bindAddress: {node.ip}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["{node.ip}/32"]
conntrack: {{maxPerCore: 0}}
""")
    if node.worker:
        pki.ensure_node(node)


def _write_kubelet_config(node):
    eviction_hard = json.dumps({"memory.available": "200Mi", "nodefs.available": "2%", "imagefs.available": "2%",
                                "nodefs.inodesFree": "2%"})
    cert = pki.node_cert_name(node, "kubelet-server")
    # A worker's pods log under its own directory: two kubelets would each clean up the other's pod logs.
    pod_logs = "podLogsDir: %s\n" % (node.state / "pod-logs") if node.worker else ""
    write_file(node.conf / "kubelet.yaml", f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {node.ip}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {PKI / 'ca.crt'}}}
authorization: {{mode: Webhook}}
tlsCertFile: {PKI / (cert + '.crt')}
tlsPrivateKeyFile: {PKI / (cert + '.key')}
containerRuntimeEndpoint: unix://{node.containerd_sock}
cgroupDriver: cgroupfs
cgroupRoot: {node.cgroup_root}
failCgroupV1: false
failSwapOn: false
clusterDNS: [{NET.node_ip}]
clusterDomain: {NET.cluster_domain}
resolvConf: {CONF / 'resolv.conf'}
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {eviction_hard}
maxPods: 110
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
fileCheckFrequency: 10s
{pod_logs}""")


def write_ssh_config(node):
    """An sshd for root on the node's address, port 22, with the lab's node key: each node is an Ansible host."""
    SSH_DIR.mkdir(parents=True, exist_ok=True)
    for key in ("node_host_ed25519", "node_ed25519"):
        if not (SSH_DIR / key).exists():
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kiln-lab-" + key, "-f", SSH_DIR / key)
    write_file(SSH_DIR / "node_authorized_keys", (SSH_DIR / "node_ed25519.pub").read_text(), 0o600)
    write_file(node.conf / "node-sshd_config", f"""Port 22
ListenAddress {node.ip}
HostKey {SSH_DIR / 'node_host_ed25519'}
PidFile none
AuthorizedKeysFile {SSH_DIR / 'node_authorized_keys'}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AllowUsers root
X11Forwarding no
""")
    host_pub = (SSH_DIR / "node_host_ed25519.pub").read_text().split()
    lines = "".join("%s %s %s\n" % (other.ip, host_pub[0], host_pub[1]) for other in all_nodes(MAX_NODES))
    write_file(SSH_DIR / "node_known_hosts", lines)
    Path("/run/sshd").mkdir(exist_ok=True)


# ---------------------------------------------------------------- processes

def start(node):
    """Start whatever of ``node``'s processes does not run (all of them on a new node)."""
    start_containerd(node)
    start_kubelet(node)
    start_proxy_and_ssh(node)


def start_containerd(node):
    (node.run_dir / "containerd").mkdir(parents=True, exist_ok=True)
    procs.start(node.component("containerd"),
                _in_node(node, ["containerd", "--config", node.conf / "containerd.toml"]))
    procs.wait_for("containerd of " + node.name,
                   lambda: node.containerd_sock.exists() and ctr(node, "version", check=False).returncode == 0, 60,
                   node.component("containerd"))


def start_proxy_and_ssh(node):
    procs.start(node.component("kube-proxy"),
                _in_node(node, [kube_bin("kube-proxy"), "--config", node.conf / "kube-proxy.yaml"]))
    procs.start(node.component("node-ssh"),
                _in_node(node, ["/usr/sbin/sshd", "-D", "-e", "-f", node.conf / "node-sshd_config"]))


def start_kubelet(node):
    node.kubelet_root.mkdir(parents=True, exist_ok=True)
    kubeconfig = PKI / (pki.node_cert_name(node, "kubelet-client") + ".kubeconfig")
    procs.start(node.component("kubelet"), _in_node(node, [
        kube_bin("kubelet"), "--config", node.conf / "kubelet.yaml", "--kubeconfig", kubeconfig,
        "--node-ip", node.ip, "--hostname-override", node.name, "--root-dir", node.kubelet_root, "--v", "1",
    ]))


def wait_ready(node, ready, timeout=120):
    """Wait for ``node`` to be Ready (``ready(name)`` asks the API server), starting its kubelet again when it
    exits, as systemd's Restart= does on a real node: the kubelet exits by design when the CRI is not there yet
    (containerd serves its socket before the CRI plugin has recovered its state)."""
    deadline = time.monotonic() + timeout
    starts = 1
    kubelet = node.component("kubelet")
    while time.monotonic() < deadline:
        if ready(node.name):
            return
        if not procs.pid_of(kubelet):
            if starts == KUBELET_STARTS:
                raise SystemExit("lab: the kubelet of %s exited %d times while waiting for it to be Ready; last lines "
                                 "of %s:\n%s" % (node.name, starts, LOGS / (kubelet + ".log"), procs.log_tail(kubelet)))
            log("the kubelet of %s exited (%s); starting it again"
                % (node.name, procs.log_tail(kubelet, lines=1).strip()[-200:]))
            time.sleep(1)
            start_kubelet(node)
            starts += 1
        time.sleep(0.5)
    raise SystemExit("lab: timed out after %ds waiting for node %s Ready\n%s"
                     % (timeout, node.name, procs.log_tail(kubelet)))


def import_images(node, images):
    listed = ctr(node, "images", "ls").stdout.splitlines()[1:]
    have = {line.split()[0]: line.split()[2] for line in listed if line.split()}
    for archive, digest, names in images.values():
        if all(have.get(ref) == digest for ref in names):
            continue
        log("importing image %s into %s" % (names[0], node.name))
        ctr(node, "images", "import", "--snapshotter", "overlayfs", archive)


def _task_pids(node):
    """(container process, its shim) of every task the node's containerd state still lists. containerd 1.6 keeps
    no shim.pid in a task's bundle, only init.pid: the shim is that process's parent."""
    pairs = []
    for pidfile in (node.run_dir / "containerd").glob("io.containerd.runtime.v2.task/*/*/init.pid"):
        try:
            init = int(pidfile.read_text().strip())
            with open("/proc/%d/stat" % init) as handle:
                shim = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the container has exited, and its shim with it
        pairs.append((init, shim))
    return pairs


def stop(node, containers=True):
    """Stop ``node``'s processes, as a machine that lost power: with ``containers``, its containers and their
    shims go too (SIGKILL, nothing is torn down); the node's objects stay in the API server, which hears no more
    from it. `start` brings it back; its kubelet then finds its pods gone."""
    for name in reversed(NODE_COMPONENTS):
        if name == "containerd":
            tasks = _task_pids(node)
            procs.stop(node.component(name))
            if containers:
                for init, _shim in tasks:
                    procs.stop_pid(init, timeout=5, sig=signal.SIGKILL)
                for shim in sorted(set(shim for _init, shim in tasks)):
                    procs.stop_pid(shim, timeout=5)
        else:
            procs.stop(node.component(name))


def clear_containers(node):
    """Kill and remove every container of the node's containerd (still running), by its own ids."""
    if not procs.pid_of(node.component("containerd")):
        return
    for task in ctr(node, "tasks", "ls", "-q", check=False).stdout.split():
        ctr(node, "tasks", "kill", "--all", "--signal", "SIGKILL", task, check=False)
    time.sleep(0.5)
    for task in ctr(node, "tasks", "ls", "-q", check=False).stdout.split():
        ctr(node, "tasks", "rm", "-f", task, check=False)
    for container in ctr(node, "containers", "ls", "-q", check=False).stdout.split():
        ctr(node, "containers", "rm", container, check=False)


def mounts_below(prefixes):
    points = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if any(point == p or point.startswith(p.rstrip("/") + "/") for p in prefixes):
                points.append(point)
    return points


def remove(node):
    """Take a worker away for good: its containers, processes, mounts, network, cgroups and state. The caller
    deletes its Node object while the API server runs."""
    clear_containers(node)
    stop(node)
    for point in reversed(mounts_below([str(node.state), str(node.run_dir)])):
        run("umount", "-l", point, check=False, stderr=subprocess.DEVNULL)
    network_down(node)
    cgroups_down(node)
    for path in (node.state, node.run_dir):
        shutil.rmtree(path, ignore_errors=True)
        try:
            path.parent.rmdir()  # nodes/, once the last worker is gone
        except OSError:
            pass
    left = mounts_below([str(node.state), str(node.run_dir)])
    if left:
        raise SystemExit("lab: mounts of %s left behind: %s" % (node.name, left))


def healthy(node, node_ready):
    result = {node.component(name): bool(procs.pid_of(node.component(name))) for name in NODE_COMPONENTS}
    result[node.name + " ready"] = node_ready(node.name)
    return result


def inventory():
    """An Ansible inventory (YAML) of the lab's nodes: group kiln_nodes, reached as root over SSH on each node's
    address, with the certs.d its containerd reads on every pull (so no restart is needed)."""
    hosts = {}
    for node in all_nodes():
        hosts[node.name] = {
            "ansible_host": node.ip,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(SSH_DIR / "node_ed25519"),
            "ansible_ssh_common_args": "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes"
                                       % (SSH_DIR / "node_known_hosts"),
            "ansible_python_interpreter": "/usr/bin/python3",
            "kiln_registry_trust_certs_d": str(node.certs_d),
            "kiln_registry_trust_restart_command": "",
        }
    return {"all": {"children": {"kiln_nodes": {"hosts": hosts}}}}
