"""Builds from a job pod, as AWX's container groups run jobs: the lab's execution-environment image
(KILN_LAB_EE_IMAGE), a service account with the Role of docs/awx.md, no kubeconfig.

A job pod runs ansible-playbook on a play from a ConfigMap. The tests check that it builds with in-cluster
auth, that deleting it mid-build removes the build (by the garbage collector through the build pod's
ownerReference, or by the SIGTERM the job gets), and that the documented Role is exactly enough: without
any one of its verbs the task fails naming that verb and resource.
"""

import json
import re
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from conftest import fresh_namespace, registry_has, wait_until

AWX_DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "awx.md"
ACCOUNT = "kiln-job"
MARKER_TEXT = "kiln-faults: step started"
DELETED_LIMIT = 60


def documented_role():
    """The Role (kind: Role, name: kiln-builder) in docs/awx.md's YAML blocks."""
    for block in re.findall(r"```yaml\n(.*?)```", AWX_DOC.read_text(), re.S):
        for document in yaml.safe_load_all(block):
            if isinstance(document, dict) and document.get("kind") == "Role" and \
                    document["metadata"]["name"] == "kiln-builder":
                return document
    raise AssertionError("docs/awx.md has no Role kiln-builder")


def verbs_of(role):
    return [(tuple(rule["resources"]), verb) for rule in role["rules"] for verb in rule["verbs"]]


def without(role, resources, verb):
    role = json.loads(json.dumps(role))
    for rule in role["rules"]:
        if tuple(rule["resources"]) == resources:
            rule["verbs"] = [v for v in rule["verbs"] if v != verb]
    role["rules"] = [rule for rule in role["rules"] if rule["verbs"]]
    return role


class Job(object):
    """A job pod and what it needs: its service account, the Role bound to it in the builds' namespace, and
    the play (a ConfigMap)."""

    def __init__(self, kube, lab, namespace, builds_namespace=None):
        self.kube = kube
        self.lab = lab
        self.namespace = namespace
        self.builds_namespace = builds_namespace or namespace
        self.rbac = k8s_client.RbacAuthorizationV1Api(kube.core.api_client)
        self.name = "automation-job-" + uuid.uuid4().hex[:6]

    def grant(self, role):
        core = self.kube.core
        try:
            core.create_namespaced_service_account(self.namespace, {"metadata": {"name": ACCOUNT}})
        except ApiException as exc:
            if exc.status != 409:
                raise
        role = dict(role, metadata={"name": "kiln-builder", "namespace": self.builds_namespace})
        try:
            self.rbac.delete_namespaced_role("kiln-builder", self.builds_namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
        self.rbac.create_namespaced_role(self.builds_namespace, role)
        try:
            self.rbac.create_namespaced_role_binding(self.builds_namespace, {
                "metadata": {"name": "kiln-builder"},
                "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": self.namespace}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kiln-builder"}})
        except ApiException as exc:
            if exc.status != 409:
                raise

    def start(self, build_args):
        play = [{"name": "build", "hosts": "localhost", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                 "tasks": [{"name": "the build", "kiln.kaniko.build": build_args, "register": "built"},
                           {"name": "the digest", "ansible.builtin.debug": {"msg": "digest={{ built.digest }}"}}]}]
        self.kube.core.create_namespaced_config_map(self.namespace, {
            "metadata": {"name": self.name}, "data": {"build.yml": json.dumps(play)}})
        self.kube.core.create_namespaced_pod(self.namespace, {
            "metadata": {"name": self.name, "labels": {"app": "kiln-job"}},
            "spec": {
                "serviceAccountName": ACCOUNT,
                "restartPolicy": "Never",
                "containers": [{
                    "name": "worker", "image": self.lab["KILN_LAB_EE_IMAGE"], "imagePullPolicy": "IfNotPresent",
                    "command": ["ansible-playbook", "-i", "localhost,", "-c", "local", "/play/build.yml"],
                    "env": [{"name": "ANSIBLE_NOCOLOR", "value": "1"}],
                    "volumeMounts": [{"name": "play", "mountPath": "/play"}]}],
                "volumes": [{"name": "play", "configMap": {"name": self.name}}]}})
        return self

    def pod(self):
        try:
            return self.kube.core.read_namespaced_pod(self.name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def wait(self, timeout=300):
        def ended():
            pod = self.pod()
            for status in (pod.status.container_statuses or []) if pod else []:
                waiting = status.state.waiting
                if waiting and waiting.reason in ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
                                                  "InvalidImageName"):
                    raise AssertionError("the job pod cannot run %s: %s" % (status.image, waiting.reason))
            return pod if pod and pod.status.phase in ("Succeeded", "Failed") else None
        return wait_until(ended, timeout, "the job pod " + self.name, interval=1)

    def log(self):
        return self.kube.log(self.namespace, self.name, "worker")


def build_pods(kube, namespace):
    return kube.pods(namespace, label_selector="app.kubernetes.io/managed-by=kiln.kaniko")


def smoke_args(lab, lab_build, namespace, tag, **extra):
    return lab_build("wait", tag, namespace=namespace, build_args={"PAUSE": "1"}, **extra)


def test_a_job_pod_builds_with_its_service_account_and_the_documented_role(lab, kube, namespace, lab_build):
    job = Job(kube, lab, namespace)
    job.grant(documented_role())
    args = smoke_args(lab, lab_build, namespace, "in-cluster",
                      registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": "p"}])
    job.start(args)
    pod = job.wait()
    log = job.log()
    assert pod.status.phase == "Succeeded", log[-3000:]
    digest = re.search(r"digest=(sha256:[0-9a-f]{64})", log).group(1)
    destination = args["destinations"][0]
    assert registry_has(lab, destination.split("/", 1)[1].rsplit(":", 1)[0], destination.rsplit(":", 1)[1]) == digest
    print("job pod: built %s with the service account %s" % (digest, ACCOUNT))


def start_long_build(kube, lab, lab_build, job_namespace, builds_namespace):
    job = Job(kube, lab, job_namespace, builds_namespace)
    job.grant(documented_role())
    job.start(lab_build("wait", "deleted", namespace=builds_namespace, build_args={"PAUSE": "300"},
                        registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": "p"}]))

    def running():
        pods = build_pods(kube, builds_namespace)
        return pods[0] if pods and MARKER_TEXT in kube.log(builds_namespace, pods[0].metadata.name, "kaniko") else None
    build = wait_until(running, 240, "the build started by the job pod", interval=1)
    return job, build


def seconds_until_builds_gone(kube, namespace, since):
    def gone():
        return not build_pods(kube, namespace) and not [
            s for s in kube.secrets(namespace) if s.metadata.name.startswith("kiln-build-auth-")]
    wait_until(gone, DELETED_LIMIT + 30, "the build pod and its Secret to go", interval=0.25)
    return time.monotonic() - since


@pytest.mark.parametrize("grace", [None, None, None, 0], ids=["deleted-1", "deleted-2", "deleted-3", "force-deleted"])
def test_deleting_the_job_pod_removes_its_build(lab, kube, namespace, lab_build, grace):
    job, build = start_long_build(kube, lab, lab_build, namespace, namespace)
    owners = build.metadata.owner_references or []
    job_pod = job.pod()
    assert [(o.kind, o.name, o.uid) for o in owners] == [("Pod", job.name, job_pod.metadata.uid)]
    since = time.monotonic()
    kube.core.delete_namespaced_pod(job.name, namespace, grace_period_seconds=grace)
    seconds = seconds_until_builds_gone(kube, namespace, since)
    how = "force-deleting the" if grace == 0 else "deleting the"
    print("ended-by %s job pod (same namespace): %.1f s" % (how, seconds))
    assert seconds <= DELETED_LIMIT


@pytest.fixture
def other_namespace(kube):
    with fresh_namespace(kube, "kiln-jobs-") as name:
        yield name


def test_deleting_a_job_pod_of_another_namespace_stops_its_build_through_sigterm(lab, kube, namespace, other_namespace,
                                                                                 lab_build):
    job, build = start_long_build(kube, lab, lab_build, other_namespace, namespace)
    assert not build.metadata.owner_references  # owner references cannot cross namespaces
    since = time.monotonic()
    kube.core.delete_namespaced_pod(job.name, other_namespace)  # the default grace period (30 s)
    seconds = seconds_until_builds_gone(kube, namespace, since)
    print("ended-by deleting the job pod (other namespace, SIGTERM): %.1f s" % seconds)
    assert seconds <= DELETED_LIMIT


PASSWORD = "p-rbac-0f3c9e"  # distinct: ansible masks a no_log value wherever it appears in the output
# Verbs whose absence does not stop a build, and is said as a warning naming the verb: the build is done,
# only its cleanup (or, for events, the description of a failure) could not be.
# Without get on secrets the Secrets are only mounted into the pod, not checked, and git.version is not
# resolved for the skip.
WARNS = {(("pods",), "delete"), (("secrets",), "delete"), (("events",), "list"), (("secrets",), "get")}


# Served by what these builds do not do: pods/exec by local_context and tarball; list on secrets by the
# cleanup after an interrupted run (a job pod's play that is stopped cannot report its warnings).
NOT_EXERCISED = {(("pods/exec",), "create"), (("secrets",), "list")}


def needed_verbs():
    """The documented Role's verbs that a git build from a private repository with registry_auth uses."""
    return [(resources, verb) for resources, verb in verbs_of(documented_role())
            if (resources, verb) not in NOT_EXERCISED]


def test_the_role_is_what_the_matrix_covers():
    assert set(verbs_of(documented_role())) == set(needed_verbs()) | NOT_EXERCISED


@pytest.mark.parametrize("resources, verb", needed_verbs(), ids=lambda v: v if isinstance(v, str) else "/".join(v))
def test_without_one_verb_of_the_role_the_task_names_it(lab, kube, namespace, lab_build, faults_repo, resources, verb):
    kube.secret(namespace, "git-token", {"token": lab["KILN_LAB_GIT_HTTP_PASSWORD"]})
    job = Job(kube, lab, namespace)
    job.grant(without(documented_role(), resources, verb))
    # Events are read when a build fails: that build fails (sleep is given no number).
    pause = "not-a-number" if resources == ("events",) else "1"
    job.start(lab_build("wait", "rbac", namespace=namespace, build_args={"PAUSE": pause},
                        git={"repo": faults_repo["private"], "secret": "git-token"},
                        registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": PASSWORD}]))
    pod = job.wait()
    log = job.log()
    said = [line.strip() for line in log.splitlines() if "[WARNING]" in line or "[ERROR]" in line]
    print("without %s %s: job %s; %s" % (verb, "/".join(resources), pod.status.phase, " | ".join(said)[:700]))
    fix = "grant the verb '%s' on '%s'" % (verb, resources[0])
    if (resources, verb) in WARNS:
        assert any(fix in line for line in said if "[WARNING]" in line), log[-3000:]
    else:
        assert pod.status.phase == "Failed", log[-3000:]
        assert any(fix in line for line in said if "[ERROR]" in line), log[-3000:]
