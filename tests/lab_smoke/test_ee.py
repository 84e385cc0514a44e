"""The lab's execution-environment image (KILN_LAB_EE_IMAGE, tests/lab/kilnlab/ee.py) runs on the node as AWX
would run it: the pinned ansible-core and ansible-runner, the kubernetes client, both collections, uid 1000."""

import json
import re
import urllib.request
from pathlib import Path

import pytest
from conftest import pod

REPO = Path(__file__).resolve().parent.parent.parent
MARK = "---- collections"

# What AWX does first with an execution environment, and what the stand-in must have for it.
SCRIPT = """set -eu
echo "uid=$(id -u) home=$HOME cwd=$(pwd)"
touch "$HOME/.written"
ansible-playbook --version
echo "runner=$(ansible-runner --version)"
python3 -c 'import sys, kubernetes; print("kubernetes=%s prefix=%s" % (kubernetes.__version__, sys.prefix))'
ansible-galaxy collection list --format json >/tmp/collections.json
echo "{mark}"
cat /tmp/collections.json
""".format(mark=MARK)

PLAYBOOK = """
- name: The collections of the image run
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: kiln.kaniko's module asks the lab registry
      kiln.kaniko.image_info:
        reference: {reference}
        insecure: true
      register: info
    - name: Say what it found, and use a filter of kubernetes.core
      ansible.builtin.debug:
        msg: "digest={{{{ info.digest }}}} name={{{{ {{'kind': 'ConfigMap', 'metadata': {{'name': 'cfg'}},
              'data': {{'a': 'b'}}}} | kubernetes.core.k8s_config_resource_name }}}}"
"""


def pins():
    """The versions tests/lab/ee-requirements.txt pins, by package name."""
    text = (REPO / "tests" / "lab" / "ee-requirements.txt").read_text()
    return dict(line.split("==", 1) for line in text.splitlines() if "==" in line and not line.startswith("#"))


def ee_container(lab, command):
    if "KILN_LAB_EE_IMAGE" not in lab:
        pytest.fail("lab.py env names no KILN_LAB_EE_IMAGE: run `python3 tests/lab/lab.py images ee` "
                    "from this checkout")
    return {"name": "ee", "image": lab["KILN_LAB_EE_IMAGE"], "imagePullPolicy": "IfNotPresent",
            "command": ["bash", "-c", command],
            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False}}


def run_ee(lab, kube, name, command):
    kube.apply(pod(name, [ee_container(lab, command)]))
    status = kube.wait_pod(name, timeout=180)["status"]
    logs = kube.logs(name)
    assert status["phase"] == "Succeeded", logs[-3000:]
    return logs


def test_the_ee_image_has_ansible_runner_the_kubernetes_client_and_both_collections(lab, kube):
    logs = run_ee(lab, kube, "ee", SCRIPT)
    head, _, collections = logs.partition(MARK + "\n")
    want = pins()
    assert "uid=1000 home=/runner cwd=/runner" in head
    assert re.search(r"^ansible-playbook \[core %s\]$" % re.escape(want["ansible-core"]), head, re.M), head
    assert "runner=%s\n" % want["ansible-runner"] in head
    assert "kubernetes=%s prefix=/opt/kiln-ee\n" % want["kubernetes"] in head
    installed = json.loads(collections)["/usr/share/ansible/collections/ansible_collections"]
    version = re.search(r"^version: (\S+)$", (REPO / "galaxy.yml").read_text(), re.M).group(1)
    assert installed["kiln.kaniko"]["version"] == version
    assert "kubernetes.core" in installed


def test_a_playbook_in_the_ee_image_runs_kiln_kaniko_and_kubernetes_core(lab, kube):
    registry = lab["KILN_LAB_REGISTRY"]
    play = PLAYBOOK.format(reference="%s/library/busybox:1.35" % registry)
    command = "cat >/tmp/play.yml <<'EOF'\n%s\nEOF\nansible-playbook /tmp/play.yml" % play
    logs = run_ee(lab, kube, "play", command)
    request = urllib.request.Request(
        "http://%s/v2/library/busybox/manifests/1.35" % registry, method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        digest = response.headers["Docker-Content-Digest"]
    assert "digest=%s name=cfg-" % digest in logs, logs[-3000:]
    assert "failed=0" in logs
