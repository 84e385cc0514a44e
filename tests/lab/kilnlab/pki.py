"""Certificates, keys and kubeconfigs of the lab, made with openssl on this machine."""

import base64
import subprocess
import tempfile
from pathlib import Path

from .config import KUBECONFIG, NET, PKI, Node


def _openssl(*args, stdin=None):
    subprocess.run(["openssl", *args], check=True, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    path.chmod(0o600)


def _issue(name, subject, *, client=False, server=False, sans=()):
    key, crt = PKI / (name + ".key"), PKI / (name + ".crt")
    if key.exists() and crt.exists():
        return
    _key(key)
    usages = []
    if client:
        usages.append("clientAuth")
    if server:
        usages.append("serverAuth")
    ext = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=" + ",".join(usages),
    ]
    if sans:
        ext.append("subjectAltName=" + ",".join(sans))
    with tempfile.NamedTemporaryFile("w", suffix=".ext") as extfile:
        extfile.write("\n".join(ext) + "\n")
        extfile.flush()
        csr = subprocess.run(["openssl", "req", "-new", "-key", str(key), "-subj", subject],
                             check=True, capture_output=True).stdout
        _openssl("x509", "-req", "-CA", str(PKI / "ca.crt"), "-CAkey", str(PKI / "ca.key"), "-CAcreateserial",
                 "-days", "3650", "-sha256", "-extfile", extfile.name, "-out", str(crt), stdin=csr)


def kubeconfig(path, user_cert):
    def b64(name):
        return base64.b64encode((PKI / name).read_bytes()).decode()

    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters:\n- name: kiln-lab\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n"
        "users:\n- name: %s\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n"
        "contexts:\n- name: kiln-lab\n  context:\n    cluster: kiln-lab\n    user: %s\n"
        "current-context: kiln-lab\n"
        % (NET.apiserver_url, b64("ca.crt"), user_cert, b64(user_cert + ".crt"), b64(user_cert + ".key"), user_cert)
    )
    path.chmod(0o600)


def ensure():
    """Create whatever is missing; existing material is kept so a restarted lab keeps its identity."""
    PKI.mkdir(parents=True, exist_ok=True)
    if not (PKI / "ca.crt").exists():
        _key(PKI / "ca.key")
        _openssl("req", "-x509", "-new", "-key", str(PKI / "ca.key"), "-subj", "/CN=kiln-lab-ca", "-days", "3650",
                 "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", "-out", str(PKI / "ca.crt"))
    if not (PKI / "sa.key").exists():
        _key(PKI / "sa.key")
        _openssl("pkey", "-in", str(PKI / "sa.key"), "-pubout", "-out", str(PKI / "sa.pub"))
    api_sans = ["IP:" + NET.node_ip, "IP:" + NET.kubernetes_service_ip, "IP:127.0.0.1", "DNS:localhost",
                "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc." + NET.cluster_domain]
    _issue("apiserver", "/CN=kube-apiserver", server=True, sans=api_sans)
    _issue("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", client=True)
    _issue("admin", "/O=system:masters/CN=kiln-admin", client=True)
    _issue("controller-manager", "/CN=system:kube-controller-manager", client=True)
    _issue("scheduler", "/CN=system:kube-scheduler", client=True)
    _issue("kube-proxy", "/CN=system:kube-proxy", client=True)
    _issue("coredns", "/CN=system:coredns", client=True)
    for user in ("controller-manager", "scheduler", "kube-proxy", "coredns"):
        kubeconfig(PKI / (user + ".kubeconfig"), user)
    ensure_node(Node(1))
    kubeconfig(KUBECONFIG, "admin")
    return Path(KUBECONFIG)


def node_cert_name(node, kind):
    """The file name (without suffix) of ``node``'s "kubelet-client" or "kubelet-server" certificate."""
    return kind if not node.worker else "%s.%s" % (node.name, kind)


def ensure_node(node):
    """A node's kubelet certificates: a client one in group system:nodes (the Node authorizer and NodeRestriction
    know it by its name) with its kubeconfig, and a server one for its address."""
    client = node_cert_name(node, "kubelet-client")
    _issue(client, "/O=system:nodes/CN=system:node:" + node.name, client=True)
    _issue(node_cert_name(node, "kubelet-server"), "/CN=" + node.name, server=True,
           sans=["IP:" + node.ip, "DNS:" + node.name])
    if not (PKI / (client + ".kubeconfig")).exists():
        kubeconfig(PKI / (client + ".kubeconfig"), client)
