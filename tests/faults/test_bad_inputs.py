"""The bad-input matrix (bad_inputs.py) on the lab: every case fails, names its option and the fix,
and creates nothing in the cluster. The last test checks that docs/errors.md is the table of what the
cases answered (errors_table.py writes it)."""

import json
import os
import shutil

import pytest

import bad_inputs
import errors_table
from conftest import Ansible, Creations, path_without

UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: nobody
  user: {token: not-a-token}
contexts:
- name: nowhere
  context: {cluster: nowhere, user: nobody}
current-context: nowhere
"""


@pytest.fixture(scope="module")
def answers(lab, kube, tmp_path_factory):
    """Run every case in one play; return {case id: result}, the lab context, and what the cluster saw."""
    workdir = tmp_path_factory.mktemp("bad-inputs")
    kubeconfig = workdir / "unreachable.kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
    contexts = workdir / "contexts"  # local_context cases: a directory with a Dockerfile, and a plain file
    (contexts / "app").mkdir(parents=True)
    (contexts / "app" / "Dockerfile").write_text("FROM busybox:1.35\nCOPY data /data\n")
    (contexts / "app" / "data").write_bytes(os.urandom(8192))
    (contexts / "file.txt").write_text("not a directory\n")
    for name, ignore in (("bad-pattern", "[\n"), ("lone-bang", "!\n")):  # .dockerignore lines Docker refuses
        shutil.copytree(contexts / "app", contexts / name)
        (contexts / name / ".dockerignore").write_text(ignore)
    namespace = "kiln-faults-bad-" + os.urandom(4).hex()
    kube.create_namespace(namespace)
    try:
        for name, data in bad_inputs.SECRETS.items():
            kube.secret(namespace, name, data)
        context = dict(namespace=namespace, registry=lab["KILN_LAB_REGISTRY"], git=lab["KILN_LAB_GIT_URL"],
                       git_ssh=lab["KILN_LAB_GIT_SSH_URL"], unreachable_kubeconfig=str(kubeconfig),
                       contexts=str(contexts),
                       path_without_slirp4netns=path_without("slirp4netns", workdir / "path-without-slirp4netns"))
        lanes = [[], []]  # two plays side by side: one per core of the lab machine
        variables = [[], []]
        for number, item in enumerate(bad_inputs.CASES):
            lanes[number % 2].extend(bad_inputs.tasks(item, "case%d" % number, context))
            variables[number % 2].append("case%d" % number)
        ansible = Ansible(lab, workdir)
        before = kube.names(namespace)
        with Creations(kube, namespace) as creations:
            plays = [ansible.start(tasks, dump=[name for name in names if not any(
                task.get("register") == name for task in tasks)])
                for tasks, names in zip(lanes, variables, strict=True)]
            results = {}
            for play in plays:
                results.update(play.wait().results())
        after = kube.names(namespace)
        by_id = {item["id"]: results["case%d" % number] for number, item in enumerate(bad_inputs.CASES)}
        yield {"results": by_id, "context": context, "before": before, "after": after, "created": creations.seen,
               "absent_namespaces": [name for name in (bad_inputs.ABSENT_NAMESPACE, bad_inputs.ABSENT_ROLE_NAMESPACE)
                                     if kube.namespace_exists(name)]}
    finally:
        kube.delete_namespace(namespace)


@pytest.mark.parametrize("item", bad_inputs.CASES, ids=[item["id"] for item in bad_inputs.CASES])
def test_bad_input_fails_naming_the_option_and_the_fix(answers, item):
    result = answers["results"][item["id"]]
    message = result.get("msg", "")
    assert result.get("failed"), "the task did not fail: %s" % json.dumps(result)[:1000]
    assert not result.get("changed")
    assert not result.get("pod_name"), "a pod was made: %s" % result.get("pod_name")
    if item["gap"]:
        # Known not to name the option and the fix yet (see the case): fail this test once it does.
        assert not (item["option"] in message and item["fix"] in message), "fixed: drop the gap of " + item["id"]
        return
    assert "Traceback" not in message and "MODULE FAILURE" not in message, message
    assert item["option"] in message, "the option is not named: " + message
    assert item["fix"] in message, "the fix is not given: " + message


def test_bad_inputs_create_nothing_in_the_cluster(answers):
    assert answers["created"] == []
    assert answers["after"] == answers["before"] == {"secret/" + name for name in bad_inputs.SECRETS}
    assert answers["absent_namespaces"] == []


def test_docs_errors_md_is_the_table_of_these_answers(answers):
    table = errors_table.render(bad_inputs.CASES, answers["results"], answers["context"])
    if os.environ.get("KILN_WRITE_ERRORS_TABLE") == "1":
        errors_table.DOC.write_text(table)
    current = errors_table.DOC.read_text() if errors_table.DOC.exists() else ""
    assert current == table, ("docs/errors.md is not the table of what the cases answer: "
                              "run python3 tests/faults/errors_table.py and commit docs/errors.md")
