"""Bring the lab cluster up, take it down, say how it is."""

import json
import os
import pwd
import resource
import secrets
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import build, ee, kwok, nodes, pki, procs
from .cmd import log, run, write_file
from .procs import wait_for
from .config import (CONF, ENV_FILE, ETCD_DATA, GIT_ROOT, KUBECONFIG, KUBELET_ROOT, LAB_DIR, LOGS, NET, NODE_NAME,
                     NODES_FILE, PIDS, PKI, REGISTRY_DATA, RUN, SSH_DIR, STATE, Node, coredns_bin, cosign3_bin,
                     cosign_bin, kube_bin, regctl_bin, syft_bin)

INVENTORY = STATE / "inventory.yml"  # the nodes as Ansible hosts (`lab.py inventory`); JSON is YAML
HOSTPATH_PV = Path("/tmp/hostpath_pv")  # where kube-controller-manager's hostPath provisioner puts volumes
CERTS_D = Node(1).certs_d
ISOLATE_CHAIN = "KILN-LAB-ISOLATE"
GIT_SSH_USER = "kiln-git"
SECRETS_DIR = STATE / "secrets"
REPOS_DIR = LAB_DIR / "repos"

# Start order; lab-down stops in the reverse order.
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "coredns", "registry",
                 "git-http", "git-ssh")
# What `lab.py stop NAME` stops: the control plane's processes and the first node's (containerd, kubelet, ...).
COMPONENTS = CONTROL_PLANE + nodes.NODE_COMPONENTS


# ---------------------------------------------------------------- helpers

def kubectl(*args, check=True, capture=True, input=None):
    return run(kube_bin("kubectl"), "--kubeconfig", KUBECONFIG, *args, check=check, input=input,
               capture_output=capture, text=True)


def _ssl_context():
    ctx = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
    ctx.load_cert_chain(str(PKI / "admin.crt"), str(PKI / "admin.key"))
    return ctx


def http_status(url, context=None, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except (OSError, urllib.error.URLError):
        return None


def dns_answers(name="kubernetes.default.svc." + NET.cluster_domain, server=NET.node_ip):
    """Ask the lab's CoreDNS for an A record; returns the addresses (empty when none)."""
    query_id = secrets.randbits(16)
    header = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    packet = header + qname + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.sendto(packet, (server, NET.dns_port))
            data, _ = sock.recvfrom(2048)
        except OSError:
            return []
    rid, flags, _qd, ancount = struct.unpack(">HHHH", data[:8])
    if rid != query_id or flags & 0x000F:
        return []
    pos = 12 + len(qname) + 4
    answers = []
    for _ in range(ancount):
        if data[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            answers.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    return answers


# ---------------------------------------------------------------- network

def external_interface():
    out = run("ip", "-j", "route", "show", "default", capture_output=True, text=True, check=False).stdout
    routes = json.loads(out or "[]")
    return routes[0].get("dev") if routes else None


def _addresses_in_use():
    out = run("ip", "-j", "-4", "addr", capture_output=True, text=True).stdout
    return {(a["local"], link["ifname"]) for link in json.loads(out) for a in link.get("addr_info", [])}


def _shared_netns_dir():
    """/run/netns, where the pods' network namespaces are mounted, as a shared mount point of its own before
    the first pod. Otherwise podman (container_build) makes it one at its first network namespace: it
    bind-mounts the directory onto itself with every pod's namespace in it (as `ip netns add` does), the
    copies hide the originals, and containerd can remove none of those any more (unlinkat: device or resource
    busy): their pods never finish terminating, and a Deployment with the Recreate strategy never rolls out."""
    netns = Path("/run/netns")
    netns.mkdir(parents=True, exist_ok=True)
    if run("mountpoint", "-q", netns, check=False).returncode != 0:
        run("mount", "--bind", netns, netns)
    run("mount", "--make-shared", netns)


def network_up():
    _shared_netns_dir()
    for (addr, ifname) in _addresses_in_use():
        if addr == NET.node_ip and ifname != NET.bridge:
            raise SystemExit("lab: %s is already used by %s; set KILN_LAB_NODE_IP to a free address"
                             % (addr, ifname))
    run("modprobe", "br_netfilter", check=False, stderr=subprocess.DEVNULL)
    run("modprobe", "overlay", check=False, stderr=subprocess.DEVNULL)
    links = json.loads(run("ip", "-j", "link", capture_output=True, text=True).stdout)
    if NET.bridge not in {link["ifname"] for link in links}:
        run("ip", "link", "add", NET.bridge, "type", "bridge")
    if (NET.node_ip, NET.bridge) not in _addresses_in_use():
        run("ip", "addr", "add", "%s/%d" % (NET.node_ip, NET.node_prefix), "dev", NET.bridge)
    run("ip", "link", "set", NET.bridge, "up")
    run("ip", "route", "replace", NET.service_cidr, "dev", NET.bridge, "src", NET.node_ip)
    for key, value in (("net/ipv4/ip_forward", "1"), ("net/bridge/bridge-nf-call-iptables", "1")):
        Path("/proc/sys", key).write_text(value)
    # Nothing of the cluster's ranges may leave through the external interface.
    ext = external_interface()
    run("iptables", "-w", "-N", ISOLATE_CHAIN, check=False, stderr=subprocess.DEVNULL)
    run("iptables", "-w", "-F", ISOLATE_CHAIN)
    if ext and ext not in (NET.bridge, NET.cni_bridge):
        for cidr in (NET.pod_cidr, NET.service_cidr, NET.node_cidr):
            run("iptables", "-w", "-A", ISOLATE_CHAIN, "-o", ext, "-s", cidr, "-j", "DROP")
            run("iptables", "-w", "-A", ISOLATE_CHAIN, "-o", ext, "-d", cidr, "-j", "DROP")
            run("iptables", "-w", "-A", ISOLATE_CHAIN, "-i", ext, "-d", cidr, "-j", "DROP")
    for chain in ("FORWARD", "OUTPUT"):
        if run("iptables", "-w", "-C", chain, "-j", ISOLATE_CHAIN, check=False, stderr=subprocess.DEVNULL).returncode:
            run("iptables", "-w", "-I", chain, "1", "-j", ISOLATE_CHAIN)


def _remove_kube_chains():
    """The kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY) outlive it and kube-proxy --cleanup."""
    for save, restore in (("iptables-save", "iptables-restore"), ("ip6tables-save", "ip6tables-restore")):
        rules = run(save, capture_output=True, text=True, check=False).stdout
        if "KUBE-" not in rules:
            continue
        kept = "".join(line for line in rules.splitlines(True) if "KUBE-" not in line)
        run(restore, "-w", input=kept, text=True, check=False)


def network_down():
    _remove_kube_chains()
    for chain in ("FORWARD", "OUTPUT"):
        while run("iptables", "-w", "-D", chain, "-j", ISOLATE_CHAIN, check=False,
                  stderr=subprocess.DEVNULL).returncode == 0:
            pass
    run("iptables", "-w", "-F", ISOLATE_CHAIN, check=False, stderr=subprocess.DEVNULL)
    run("iptables", "-w", "-X", ISOLATE_CHAIN, check=False, stderr=subprocess.DEVNULL)
    for link in (NET.cni_bridge, NET.bridge):
        run("ip", "link", "del", link, check=False, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- configuration files

def write_configs():
    CONF.mkdir(parents=True, exist_ok=True)
    # containerd: cgroupfs (cgroup v1 hybrid host), runc, CNI bridge, certs.d for registry hosts.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    spec = json.loads(run("ctr", "oci", "spec", capture_output=True, text=True).stdout)
    nofile = min(hard if hard != resource.RLIM_INFINITY else 1048576, 1048576)
    spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}]
    write_file(CONF / "base-runtime-spec.json", json.dumps(spec, indent=1))
    write_file(CONF / "resolv.conf", "nameserver %s\n" % NET.node_ip)
    write_file(CONF / "Corefile", f""".:{NET.dns_port} {{
    bind {NET.node_ip}
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes {NET.cluster_domain} in-addr.arpa ip6.arpa {{
        kubeconfig {PKI / 'coredns.kubeconfig'} kiln-lab
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
}}
""")
    SECRETS_DIR.mkdir(parents=True, exist_ok=True)
    SECRETS_DIR.chmod(0o700)
    http_secret = SECRETS_DIR / "registry-http-secret"
    if not http_secret.exists():
        write_file(http_secret, secrets.token_hex(16), 0o600)
    write_file(CONF / "registry.yml", f"""version: 0.1
log:
  level: info
  fields: {{service: kiln-lab-registry}}
storage:
  filesystem: {{rootdirectory: {REGISTRY_DATA}}}
  delete: {{enabled: true}}
http:
  addr: {NET.registry}
  secret: {http_secret.read_text()}
""")
    git_auth = SECRETS_DIR / "git-http-auth"
    if not git_auth.exists():
        write_file(git_auth, "kiln:%s\n" % secrets.token_urlsafe(18), 0o600)


def ensure_git_ssh():
    """sshd on the lab address for the git user (git-shell only), with a key pair for tests."""
    SSH_DIR.mkdir(parents=True, exist_ok=True)
    SSH_DIR.chmod(0o755)
    GIT_ROOT.mkdir(parents=True, exist_ok=True)
    try:
        pwd.getpwnam(GIT_SSH_USER)
    except KeyError:
        run("useradd", "--system", "--home-dir", GIT_ROOT, "--no-create-home", "--shell", "/usr/bin/git-shell",
            GIT_SSH_USER)
    # useradd leaves the account locked ("!"), which sshd without PAM refuses even for keys;
    # "*" means no password can match, and keys still work.
    run("usermod", "-p", "*", GIT_SSH_USER)
    for key in ("host_ed25519", "client_ed25519"):
        if not (SSH_DIR / key).exists():
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kiln-lab-" + key, "-f", SSH_DIR / key)
    write_file(SSH_DIR / "authorized_keys", (SSH_DIR / "client_ed25519.pub").read_text(), 0o644)
    host_pub = (SSH_DIR / "host_ed25519.pub").read_text().split()
    write_file(SSH_DIR / "known_hosts", "[%s]:%d %s %s\n" % (NET.node_ip, NET.git_ssh_port, host_pub[0], host_pub[1]))
    write_file(GIT_ROOT / ".gitconfig", "[safe]\n\tdirectory = *\n[uploadpack]\n\tallowAnySHA1InWant = true\n")
    write_file(CONF / "sshd_config", f"""Port {NET.git_ssh_port}
ListenAddress {NET.node_ip}
HostKey {SSH_DIR / 'host_ed25519'}
PidFile none
AuthorizedKeysFile {SSH_DIR / 'authorized_keys'}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers {GIT_SSH_USER}
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
""")
    Path("/run/sshd").mkdir(exist_ok=True)


# ---------------------------------------------------------------- components

def _kubeconfig(name):
    return PKI / (name + ".kubeconfig")


def start_components():
    PIDS.mkdir(parents=True, exist_ok=True)
    pki_ = PKI
    procs.start("etcd", ["etcd", "--name", "kiln", "--data-dir", ETCD_DATA,
                         "--listen-client-urls", "http://127.0.0.1:2379",
                         "--advertise-client-urls", "http://127.0.0.1:2379",
                         "--listen-peer-urls", "http://127.0.0.1:2380",
                         "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                         "--initial-cluster", "kiln=http://127.0.0.1:2380",
                         "--listen-metrics-urls", "http://127.0.0.1:2381",
                         "--snapshot-count", "10000", "--quota-backend-bytes", str(4 << 30)])
    wait_for("etcd", lambda: http_status("http://127.0.0.1:2379/health") == 200, 60, "etcd")

    procs.start("kube-apiserver", [
        kube_bin("kube-apiserver"),
        "--advertise-address", NET.node_ip, "--bind-address", NET.node_ip, "--secure-port", NET.apiserver_port,
        "--etcd-servers", "http://127.0.0.1:2379",
        "--service-cluster-ip-range", NET.service_cidr,
        "--client-ca-file", pki_ / "ca.crt",
        "--tls-cert-file", pki_ / "apiserver.crt", "--tls-private-key-file", pki_ / "apiserver.key",
        "--kubelet-client-certificate", pki_ / "apiserver-kubelet-client.crt",
        "--kubelet-client-key", pki_ / "apiserver-kubelet-client.key",
        "--kubelet-certificate-authority", pki_ / "ca.crt",
        "--kubelet-preferred-address-types", "InternalIP",
        "--service-account-issuer", "https://kubernetes.default.svc." + NET.cluster_domain,
        "--service-account-key-file", pki_ / "sa.pub",
        "--service-account-signing-key-file", pki_ / "sa.key",
        "--authorization-mode", "Node,RBAC",
        "--enable-admission-plugins", "NodeRestriction",
        # Watch-lists (a watch from resourceVersion "0" with its initial events, as kwok 0.7+ asks for) need etcd's
        # watch progress requests, which Debian's etcd 3.4 does not have: the API server then falls back to a list
        # and a watch, as it does for every client, instead of failing the request.
        "--feature-gates", "WatchList=false",
        "--profiling=false",
    ])
    ctx = _ssl_context()
    wait_for("kube-apiserver /readyz", lambda: http_status(NET.apiserver_url + "/readyz", ctx) == 200, 180,
             "kube-apiserver")

    first = Node(1)
    nodes.start_containerd(first)
    procs.start("kube-controller-manager", [
        kube_bin("kube-controller-manager"),
        "--kubeconfig", _kubeconfig("controller-manager"),
        "--authentication-kubeconfig", _kubeconfig("controller-manager"),
        "--authorization-kubeconfig", _kubeconfig("controller-manager"),
        "--bind-address", "127.0.0.1", "--leader-elect=false",
        "--service-account-private-key-file", pki_ / "sa.key", "--root-ca-file", pki_ / "ca.crt",
        "--cluster-signing-cert-file", pki_ / "ca.crt", "--cluster-signing-key-file", pki_ / "ca.key",
        "--use-service-account-credentials=true",
        "--enable-hostpath-provisioner=true",
        "--profiling=false",
    ])
    procs.start("kube-scheduler", [
        kube_bin("kube-scheduler"), "--kubeconfig", _kubeconfig("scheduler"),
        "--authentication-kubeconfig", _kubeconfig("scheduler"),
        "--authorization-kubeconfig", _kubeconfig("scheduler"),
        "--bind-address", "127.0.0.1", "--leader-elect=false", "--profiling=false",
    ])
    nodes.start_kubelet(first)
    nodes.start_proxy_and_ssh(first)
    procs.start("coredns", [coredns_bin(), "-conf", CONF / "Corefile"])
    REGISTRY_DATA.mkdir(parents=True, exist_ok=True)
    procs.start("registry", ["docker-registry", "serve", CONF / "registry.yml"])
    procs.start("git-http", [sys.executable, LAB_DIR / "kilnlab" / "git_http.py", "--root", GIT_ROOT,
                             "--listen", NET.node_ip, "--port", NET.git_http_port,
                             "--auth", SECRETS_DIR / "git-http-auth"])
    procs.start("git-ssh", ["/usr/sbin/sshd", "-D", "-e", "-f", CONF / "sshd_config"])


BOOTSTRAP = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kiln-lab:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kiln-lab:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kiln-lab:coredns
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:coredns
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kiln-lab:kube-proxy
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:node-proxier
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:kube-proxy
"""


def import_images(images, wanted=None):
    """Import ``images`` into every node's containerd that lacks them."""
    for node in wanted or nodes.all_nodes():
        nodes.import_images(node, images)


def _registry_digest(repo, tag):
    req = urllib.request.Request("http://%s/v2/%s/manifests/%s" % (NET.registry, repo, tag), method="HEAD",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.headers.get("Docker-Content-Digest")
    except (urllib.error.URLError, OSError):
        return None


def push_base_images(images):
    """Base images for test Dockerfiles live in the lab registry (FROM busybox resolves there)."""
    _archive, digest, names = images["busybox"]
    for ref in names:
        repo_tag = ref.split("/", 1)[1]
        repo, tag = repo_tag.rsplit(":", 1)
        if _registry_digest(repo, tag) == digest:
            continue
        log("pushing %s to the lab registry" % ref)
        nodes.ctr(Node(1), "images", "push", "--plain-http", "%s/%s" % (NET.registry, repo_tag), ref)


def seed_repositories():
    """Each folder of tests/lab/repos becomes a bare repository with one commit of fixed date and author,
    so its commit id depends on its content only and a second lab-up changes nothing."""
    GIT_ROOT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="kiln lab", GIT_AUTHOR_EMAIL="lab@kiln.invalid",
               GIT_COMMITTER_NAME="kiln lab", GIT_COMMITTER_EMAIL="lab@kiln.invalid",
               GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    for src in sorted(p for p in REPOS_DIR.iterdir() if p.is_dir()):
        # Each sample is served twice: openly, and under private/ where the HTTP server asks for
        # KILN_LAB_GIT_HTTP_USER / KILN_LAB_GIT_HTTP_PASSWORD (the password doubles as a token).
        bares = [GIT_ROOT / (src.name + ".git"), GIT_ROOT / "private" / (src.name + ".git")]
        for bare in bares:
            if not bare.exists():
                bare.parent.mkdir(parents=True, exist_ok=True)
                run("git", "init", "-q", "--bare", "-b", "main", bare, env=env)
        work = STATE / "seed-work" / src.name
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        run("git", "init", "-q", "-b", "main", cwd=work, env=env)
        run("git", "add", "-A", cwd=work, env=env)
        run("git", "commit", "-q", "-m", "%s sample" % src.name, cwd=work, env=env)
        run("git", "tag", "v1", cwd=work, env=env)
        for bare in bares:
            run("git", "push", "-q", "--force", bare, "main", "v1", cwd=work, env=env, stderr=subprocess.DEVNULL)
        shutil.rmtree(work)


def node_ready(name=NODE_NAME):
    out = kubectl("get", "node", name, "-o", "json", check=False)
    if out.returncode:
        return False
    conditions = json.loads(out.stdout)["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def node_taints(name, prefix=""):
    """The keys of the taints on node ``name`` that start with ``prefix``."""
    out = kubectl("get", "node", name, "-o", "json", check=False)
    if out.returncode:
        return []
    return [t["key"] for t in json.loads(out.stdout)["spec"].get("taints") or [] if t["key"].startswith(prefix)]


def env_lines():
    user, _, password = (SECRETS_DIR / "git-http-auth").read_text().strip().partition(":")
    values = {
        "KUBECONFIG": KUBECONFIG,
        "K8S_AUTH_KUBECONFIG": KUBECONFIG,
        "KILN_LAB_REGISTRY": NET.registry,
        "KILN_LAB_GIT_URL": NET.git_url,
        "KILN_LAB_GIT_ROOT": GIT_ROOT,
        "KILN_LAB_GIT_HTTP_USER": user,
        "KILN_LAB_GIT_HTTP_PASSWORD": password,
        "KILN_LAB_GIT_SSH_URL": "ssh://%s@%s:%d%s" % (GIT_SSH_USER, NET.node_ip, NET.git_ssh_port, GIT_ROOT),
        "KILN_LAB_GIT_SSH_KEY": SSH_DIR / "client_ed25519",
        "KILN_LAB_GIT_KNOWN_HOSTS": SSH_DIR / "known_hosts",
        "KILN_LAB_NODE_IP": NET.node_ip,
        "KILN_LAB_NODE_NAME": NODE_NAME,
        # Every node by name (the first is this machine), and them as Ansible hosts (group kiln_nodes).
        "KILN_LAB_NODES": ",".join(node.name for node in nodes.all_nodes()),
        "KILN_LAB_INVENTORY": INVENTORY,
        "KILN_LAB_CA": PKI / "ca.crt",
        "KILN_LAB_KUBECTL": kube_bin("kubectl"),
        "KILN_LAB_CERTS_D": CERTS_D,
        # On the host, for tests that check what a build signed or attested (`cosign verify`, syft's SBOMs).
        "KILN_LAB_COSIGN": cosign_bin(),
        "KILN_LAB_COSIGN3": cosign3_bin(),
        "KILN_LAB_REGCTL": regctl_bin(),
        "KILN_LAB_SYFT": syft_bin(),
    }
    ee_image = ee.image_name()  # the image this checkout's collection makes; none without the project venv
    if ee_image:
        values["KILN_LAB_EE_IMAGE"] = ee_image
    return ["export %s=%s" % (k, v) for k, v in values.items()]


def integration_vars():
    """The lab's addresses as YAML variables (kiln_lab_*), for tests/integration/integration_config.yml:
    ansible-test passes that file to every target and filters the environment."""
    lines = []
    for line in env_lines():
        key, _, value = line[len("export "):].partition("=")
        if key.startswith("KILN_LAB_") or key == "KUBECONFIG":
            name = "kiln_lab_kubeconfig" if key == "KUBECONFIG" else key.lower()
            lines.append("%s: %s" % (name, json.dumps(str(value))))
    print("---\n# Written by tests/lab/lab.py vars for the running lab.\n" + "\n".join(lines))


def healthy(wanted=None):
    """What answers, as {component: bool}: the control plane and every node of ``wanted`` (the lab's nodes)."""
    ctx = _ssl_context() if (PKI / "admin.crt").exists() else None
    result = {name: bool(procs.pid_of(name)) for name in COMPONENTS}
    result["api"] = ctx is not None and http_status(NET.apiserver_url + "/readyz", ctx) == 200
    result["node-ready"] = result["api"] and node_ready()
    for node in (wanted or nodes.all_nodes())[1:]:
        result.update(nodes.healthy(node, lambda name: result["api"] and node_ready(name)))
    result["dns"] = bool(result["coredns"] and dns_answers())
    result["registry-answers"] = http_status("http://%s/v2/" % NET.registry) == 200
    result["git-answers"] = http_status(NET.git_url + "/smoke.git/info/refs?service=git-upload-pack") == 200
    return result


def up(node_count=None):
    """Bring the lab up with ``node_count`` nodes (None: as many as it had, 1 for a new one); on a lab that runs,
    start what does not run, add the nodes it lacks and take away those beyond the count."""
    started = time.monotonic()
    if node_count is not None and os.geteuid() == 0:
        nodes.set_count(node_count)
    wanted = nodes.all_nodes()
    extra = [node for node in nodes.workers_present() if node.index > len(wanted)]
    if all(healthy(wanted).values()) and not extra:
        if os.geteuid() == 0:
            # Images this checkout makes and the nodes lack are imported without restarting anything.
            import_images(build.build_core(), wanted)
        seed_repositories()  # same content, same commits: a no-op unless tests/lab/repos changed
        log("the lab is already up with %d node(s) (%.1fs)" % (len(wanted), time.monotonic() - started))
        print("\n".join(env_lines()))
        return
    if os.geteuid() != 0:
        raise SystemExit("lab: run as root (the lab starts containerd, kubelet and sets up bridges)")
    left = _left_behind()
    if left:
        # Every process of a lab was killed (a session that ended, a reboot), but etcd's data is still here: its
        # node reads Ready from a kubelet that is gone, and its pods would start again. Start from nothing.
        # A lab of which some processes run (one stopped on purpose, as the fault tests do) gets the missing
        # ones started again instead.
        log("a previous lab was left behind (%s, and none of its processes runs); taking it down first"
            % ", ".join(left))
        down(keep_count=True)
    images = build.build_core()
    log("built or reused everything in %.0fs; starting" % (time.monotonic() - started))
    t_start = time.monotonic()
    pki.ensure()
    network_up()
    write_configs()
    ensure_git_ssh()
    for node in wanted:
        nodes.write_configs(node)
        nodes.write_ssh_config(node)
    start_components()
    for node in extra:
        remove_node(node)
    for node in wanted[1:]:
        nodes.network_up(node)
        nodes.cgroups_up(node)
        nodes.start(node)
    import_images(images, wanted)
    kubectl("apply", "-f", "-", input=BOOTSTRAP)
    for node in wanted:
        nodes.wait_ready(node, node_ready)
    wait_for("CoreDNS answers", lambda: bool(dns_answers()), 60, "coredns")
    # Pods are refused in a namespace until its default ServiceAccount exists.
    wait_for("the default ServiceAccount",
             lambda: kubectl("get", "serviceaccount", "default", check=False).returncode == 0,
             60, "kube-controller-manager")
    wait_for("registry answers", lambda: http_status("http://%s/v2/" % NET.registry) == 200, 30, "registry")
    push_base_images(images)
    seed_repositories()
    wait_for("git server answers",
             lambda: http_status(NET.git_url + "/smoke.git/info/refs?service=git-upload-pack") == 200, 30, "git-http")
    down_now = [name for name, ok in healthy(wanted).items() if not ok]
    if down_now:
        raise SystemExit("lab: started, but these do not run or answer: %s (logs in %s)" % (", ".join(down_now), LOGS))
    write_inventory()
    ENV_FILE.write_text("\n".join(env_lines()) + "\n")
    log("the lab is up with %d node(s): started in %.1fs (%.0fs in all)"
        % (len(wanted), time.monotonic() - t_start, time.monotonic() - started))
    print("\n".join(env_lines()))


def write_inventory():
    write_file(INVENTORY, json.dumps(nodes.inventory(), indent=1) + "\n")


def remove_node(node):
    """Take a worker node away: its pods' objects with it (nothing is left to tear them down), then the node."""
    log("taking node %s away" % node.name)
    if procs.pid_of("kube-apiserver"):
        kubectl("delete", "pods", "--all-namespaces", "--field-selector", "spec.nodeName=" + node.name,
                "--grace-period=0", "--force", "--wait=false", check=False)
    nodes.remove(node)
    if procs.pid_of("kube-apiserver"):
        kubectl("delete", "node", node.name, "--ignore-not-found", "--wait=false", check=False)


def images(names):
    """Build the extras ``names`` (build.EXTRAS: "supply", "ee") when missing and import them into the running lab's
    nodes; a second call imports nothing. The execution-environment image is named after the collection's content,
    so after a change of the collection this builds its top layer and imports it. "core" is the images `up` imports
    (a checkout that adds one, as registry:3.1.2 was added, gets it into a running lab without `up`)."""
    makers = dict(build.EXTRAS, core=build.build_core)
    unknown = [name for name in names if name not in makers]
    if unknown or not names:
        raise SystemExit("lab: images takes %s, not %s" % (" ".join(sorted(makers)), " ".join(unknown)))
    if os.geteuid() != 0:
        raise SystemExit("lab: run as root (images are imported into the lab's containerd)")
    made = {}
    for name in names:
        made.update(makers[name]())
    running = [node for node in nodes.all_nodes() if procs.pid_of(node.component("containerd"))]
    if running:
        import_images(made, running)
    else:
        log("built %s; the lab is not up, so nothing was imported" % " ".join(names))


def _left_behind():
    """The state an earlier lab left behind when none of its processes runs any more (etcd's data, the
    kubelet's and the run dir); empty when some still run, or when there is nothing."""
    if any(procs.pid_of(name) for name in COMPONENTS):
        return []
    return [str(path) for path in (ETCD_DATA, KUBELET_ROOT, RUN) if path.exists()]


def down(keep_count=False):
    started = time.monotonic()
    first = Node(1)
    workers = nodes.workers_present()
    api_up = procs.pid_of("kube-apiserver") and procs.pid_of("kubelet") and procs.pid_of("containerd")
    if api_up:
        log("deleting pods so that the kubelets tear them down")
        # Let the kubelets tear pods down through the CRI (network, netns, mounts), quickly.
        kubectl("delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--force", "--wait=false",
                check=False)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not any(nodes.ctr(node, "tasks", "ls", "-q", check=False).stdout.split()
                       for node in [first] + workers if procs.pid_of(node.component("containerd"))):
                break
            time.sleep(0.5)
        log("pods gone after %.1fs" % (time.monotonic() - started))
    if procs.stop(kwok.PROCESS):  # its fake nodes go with etcd's data
        log("stopped kwok")
    for node in workers:
        remove_node(node)
    # Whatever the kubelet did not remove goes now, by container id of our own containerd; then the node's processes,
    # and the containers and shims that outlived a containerd that was killed.
    nodes.clear_containers(first)
    nodes.stop(first)
    for name in reversed(CONTROL_PLANE):
        if procs.stop(name):
            log("stopped %s" % name)
    if Path(kube_bin("kube-proxy")).exists():
        run(kube_bin("kube-proxy"), "--cleanup", check=False, capture_output=True)
    for point in reversed(nodes.mounts_below([str(STATE), str(RUN), str(KUBELET_ROOT)])):
        run("umount", "-l", point, check=False, stderr=subprocess.DEVNULL)
    for netns in Path("/run/netns").glob("cni-*"):
        run("umount", "-l", netns, check=False, stderr=subprocess.DEVNULL)
        try:
            netns.unlink()
        except OSError:
            pass
    network_down()
    for path in (ETCD_DATA, KUBELET_ROOT, RUN, HOSTPATH_PV, STATE / "seed-work", STATE / "nodes"):
        shutil.rmtree(path, ignore_errors=True)
    if not keep_count:
        NODES_FILE.unlink(missing_ok=True)
    left = nodes.mounts_below([str(STATE), str(RUN)])
    if left:
        raise SystemExit("lab: mounts left behind: %s" % left)
    log("the lab is down (%.1fs); cached builds kept in %s" % (time.monotonic() - started, build.CACHE))


def status():
    state = healthy()
    width = max(map(len, state))
    for name, ok in state.items():
        pid = procs.pid_of(name) if name in COMPONENTS else None
        print("%-*s  %s%s" % (width, name, "ok" if ok else "DOWN", "  pid %d" % pid if pid else ""))
    # Every process too: a node reads Ready for 40 s after its kubelet is gone.
    return 0 if all(state.values()) else 1


def env():
    print("\n".join(env_lines()))
