"""A Kaniko pod of the classic shape (git-clone init container + executor) builds and pushes on the lab."""

import json
import urllib.request

from conftest import pod

GIT_IMAGE = "docker.io/alpine/git:2.49.1"
KANIKO_IMAGE = "ghcr.io/osscontainertools/kaniko:v1.26.3"


def kaniko_pod(lab, name, sub_path, destination):
    workspace = [{"name": "workspace", "mountPath": "/workspace"}]
    registry = lab["KILN_LAB_REGISTRY"]
    clone = {
        "name": "clone",
        "image": GIT_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["git", "clone", "--depth", "1", lab["KILN_LAB_GIT_URL"] + "/smoke.git", "/workspace/src"],
        "securityContext": {"runAsUser": 65532, "runAsNonRoot": True, "allowPrivilegeEscalation": False},
        "env": [{"name": "HOME", "value": "/tmp"}],
        "volumeMounts": workspace,
    }
    executor = {
        "name": "kaniko",
        "image": KANIKO_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "--context=dir:///workspace/src/" + sub_path,
            "--dockerfile=Dockerfile",
            "--destination=" + destination,
            "--registry-mirror=" + registry,
            "--insecure-registry=" + registry,
            "--insecure",
            "--image-name-with-digest-file=/dev/termination-log",
        ],
        "volumeMounts": workspace,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    return pod(name, [executor], init_containers=[clone], volumes=[{"name": "workspace", "emptyDir": {}}])


def test_kaniko_builds_a_two_stage_dockerfile_from_the_lab_git_server_and_pushes_it(lab, kube):
    repo = "smoke/" + kube.namespace
    destination = "%s/%s:two-stage" % (lab["KILN_LAB_REGISTRY"], repo)
    kube.apply(kaniko_pod(lab, "build", "", destination))
    status = kube.wait_pod("build", timeout=300)["status"]
    assert status["phase"] == "Succeeded", kube.logs("build", "kaniko")[-3000:]
    message = status["containerStatuses"][0]["state"]["terminated"]["message"].strip()
    name, _, digest = message.partition("@")
    assert name.endswith(repo) and digest.startswith("sha256:"), message
    request = urllib.request.Request(
        "http://%s/v2/%s/manifests/%s" % (lab["KILN_LAB_REGISTRY"], repo, digest),
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                           "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Docker-Content-Digest"] == digest
        manifest = json.load(response)
    assert len(manifest["layers"]) >= 2  # busybox's layer and the copied file


def test_a_broken_dockerfile_gives_the_failing_steps_exit_code_in_the_pod_status(lab, kube):
    destination = "%s/smoke/%s:broken" % (lab["KILN_LAB_REGISTRY"], kube.namespace)
    kube.apply(kaniko_pod(lab, "broken", "broken", destination))
    status = kube.wait_pod("broken", timeout=300)["status"]
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 7, terminated
    assert "about to fail" in kube.logs("broken", "kaniko")
