"""The build pod under Pod Security admission (on by default in the API server).

It must be admitted where the "baseline" level is enforced, and build there: over HTTPS with a token
and over SSH with a key (the clone container runs as 65534 without capabilities), with Dockerfile steps
that need the capabilities the executor keeps. It cannot meet "restricted", as Kaniko runs as root:
the only container that level refuses must be the executor.
"""

import json
import uuid
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from conftest import build_task, registry_has

PSA = "pod-security.kubernetes.io/"


@pytest.fixture
def level_namespace(kube):
    created = []

    def make(enforce):
        name = "kiln-faults-psa-%s-%s" % (enforce, uuid.uuid4().hex[:6])
        kube.create_namespace(name, labels={PSA + "enforce": enforce, PSA + "enforce-version": "latest",
                                            PSA + "warn": "restricted", PSA + "warn-version": "latest"})
        created.append(name)
        return name
    yield make
    for name in created:
        kube.delete_namespace(name)


def lab_args(lab, namespace, repo, context, tag, **extra):
    registry = lab["KILN_LAB_REGISTRY"]
    args = dict(namespace=namespace, git={"repo": repo}, context_sub_path=context,
                destinations=["%s/%s/%s:%s" % (registry, namespace, context or "top", tag)],
                registry_mirrors=[registry], insecure_registries=[registry], insecure=True, timeout=300)
    args.update(extra)
    return args


def test_builds_pass_the_baseline_level_over_https_and_ssh(lab, kube, ansible, faults_repo, level_namespace):
    namespace = level_namespace("baseline")
    kube.secret(namespace, "git-token", {"token": lab["KILN_LAB_GIT_HTTP_PASSWORD"]})
    kube.secret(namespace, "git-ssh", {
        "ssh-privatekey": Path(lab["KILN_LAB_GIT_SSH_KEY"]).read_text(),
        "known_hosts": Path(lab["KILN_LAB_GIT_KNOWN_HOSTS"]).read_text(),
    })
    https = lab_args(lab, namespace, faults_repo["private"], "caps", "https",
                     git={"repo": faults_repo["private"], "secret": "git-token"}, keep_pod="always",
                     registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "ci",
                                    "password": "not-a-real-password-" + namespace}])
    ssh = lab_args(lab, namespace, faults_repo["ssh"], "wait", "ssh", build_args={"PAUSE": "0"},
                   git={"repo": faults_repo["ssh"], "secret": "git-ssh"})
    results = ansible.run([build_task("https", **https), build_task("ssh", **ssh)]).results()

    for name, args in (("https", https), ("ssh", ssh)):
        result = results[name]
        assert not result.get("failed"), "%s: %s" % (name, result.get("msg"))
        assert result["commit"] == faults_repo["commit"]
        repository = args["destinations"][0][len(lab["KILN_LAB_REGISTRY"]) + 1:].rsplit(":", 1)[0]
        assert registry_has(lab, repository, result["digest"]) == result["digest"]

    pod = kube.core.read_namespaced_pod(results["https"]["pod_name"], namespace).to_dict()
    clone = pod["spec"]["init_containers"][0]
    kaniko = pod["spec"]["containers"][0]
    assert clone["security_context"]["run_as_non_root"] is True
    assert clone["security_context"]["run_as_user"] == 65534
    assert clone["security_context"]["allow_privilege_escalation"] is False
    assert clone["security_context"]["capabilities"]["drop"] == ["ALL"]
    assert not clone["security_context"]["capabilities"].get("add")
    assert kaniko["security_context"]["capabilities"]["drop"] == ["ALL"]
    assert "NET_RAW" not in kaniko["security_context"]["capabilities"]["add"]
    assert not kaniko["security_context"].get("privileged")
    assert pod["spec"]["security_context"]["seccomp_profile"]["type"] == "RuntimeDefault"
    assert pod["spec"]["automount_service_account_token"] is False


def test_only_the_executor_keeps_the_pod_from_the_restricted_level(lab, kube, ansible, level_namespace):
    namespace = level_namespace("restricted")
    args = lab_args(lab, namespace, lab["KILN_LAB_GIT_URL"] + "/smoke.git", "", "restricted")
    checked = ansible.run([dict(build_task("checked", **args), check_mode=True)]).results()["checked"]
    assert not checked.get("failed"), checked.get("msg")
    with pytest.raises(ApiException) as refused:
        kube.core.create_namespaced_pod(namespace, checked["pod"], dry_run="All")
    message = json.loads(refused.value.body)["message"]
    print(message)
    assert refused.value.status == 403 and 'violates PodSecurity "restricted:latest"' in message, message
    assert 'container "kaniko"' in message and '"clone"' not in message, message
