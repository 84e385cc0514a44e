"""kiln.kaniko.build under faults, on the lab cluster.

Each test breaks one thing while a build runs and checks that the task ends with the build's real
result, or a failure that says what happened, and that no pod or Secret is left that the task was
not asked to keep. Tests marked ``disruptive`` stop a lab component that everyone's tests share
(the API server, the registry, the kubelet): each outage is short and the component is always
started again (``lab.py up``), whatever the test's outcome.
"""

import os
import signal
import time

import pytest

from conftest import build_task, outage, registry_has, wait_until

MARKER = "kiln-faults: step started"


def build_pod(kube, namespace, timeout=120):
    """The name of the (one) build pod, once it exists."""
    def find():
        pods = kube.pods(namespace, label_selector="app.kubernetes.io/managed-by=kiln.kaniko")
        return pods[0].metadata.name if pods else None
    return wait_until(find, timeout, "the build pod in " + namespace)


def wait_for_marker(kube, namespace, play, timeout=180):
    """Wait until the build's RUN step has printed MARKER; return the pod name."""
    name = build_pod(kube, namespace)

    def started():
        if play.proc.poll() is not None:
            raise AssertionError("the play ended before the build step started:\n" + play.output()[-3000:])
        return MARKER in kube.log(namespace, name, "kaniko")
    wait_until(started, timeout, "the marker in the log of " + name)
    return name


def left_behind(kube, namespace, keep=(), timeout=60):
    """What is left in the namespace besides ``keep``, once deleted pods have had time to go."""
    keep = set(keep)
    try:
        wait_until(lambda: kube.names(namespace) <= keep, timeout, "pods and Secrets to go", interval=1)
    except AssertionError:
        pass
    return kube.names(namespace) - keep


def show(result):
    """Print what the task said (pytest -rP shows it): the report of a fault run."""
    print("%s | reason=%s rc=%s duration=%s pod_kept=%s" % (result.get("msg"), result.get("reason"), result.get("rc"),
                                                           result.get("duration"), result.get("pod_kept")))
    return result


def repository(lab, reference):
    return reference[len(lab["KILN_LAB_REGISTRY"]) + 1:].rsplit(":", 1)[0]


# ---------------------------------------------------------------- 1. the API server goes away

@pytest.mark.disruptive
def test_api_server_restart_while_watching_reports_the_real_result(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "api-restart", build_args={"PAUSE": "12"}, keep_pod="never")
    play = ansible.start([build_task("built", **args)])
    wait_for_marker(kube, namespace, play)
    with outage("kube-apiserver"):
        time.sleep(8)
    result = show(play.wait().results()["built"])

    assert not result.get("failed"), result.get("msg")
    assert result["reason"] == "Completed" and result["rc"] == 0
    assert registry_has(lab, repository(lab, args["destinations"][0]), result["digest"]) == result["digest"]
    assert left_behind(kube, namespace) == set()


# ---------------------------------------------------------------- 2. the registry goes away during the push

@pytest.mark.disruptive
def test_registry_down_during_the_push_fails_with_the_push_error(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "no-registry", build_args={"PAUSE": "5"}, keep_pod="never")
    play = ansible.start([build_task("built", **args)])
    wait_for_marker(kube, namespace, play)
    with outage("registry"):
        play.wait()
    result = show(play.results()["built"])

    assert result.get("failed"), "the build reported success while the registry was down"
    assert result["container"] == "kaniko" and result["rc"] != 0
    assert "push" in result["msg"].lower(), result["msg"]
    assert result["digest"] is None and result["images"] == []
    assert registry_has(lab, repository(lab, args["destinations"][0]), "no-registry") is None
    assert left_behind(kube, namespace) == set()


@pytest.mark.disruptive
def test_registry_back_in_time_for_push_retry(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "push-retry", build_args={"PAUSE": "5"}, keep_pod="never",
                     extra_args=["--push-retry=5"])
    play = ansible.start([build_task("built", **args)])
    wait_for_marker(kube, namespace, play)
    with outage("registry"):
        time.sleep(9)  # the step ends and the first push fails; retries wait 1, 2, 4, 8, 16 s
    result = show(play.wait().results()["built"])

    assert not result.get("failed"), result.get("msg")
    assert registry_has(lab, repository(lab, args["destinations"][0]), result["digest"]) == result["digest"]
    assert left_behind(kube, namespace) == set()


# ---------------------------------------------------------------- 3. someone deletes the pod

def test_pod_deleted_by_someone_else_is_named(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "deleted", build_args={"PAUSE": "120"})
    play = ansible.start([build_task("built", **args)])
    name = wait_for_marker(kube, namespace, play)
    kube.core.delete_namespaced_pod(name, namespace)  # as `kubectl delete pod` does: the default grace period
    result = show(play.wait().results()["built"])

    assert result.get("failed")
    assert result["reason"] == "Deleted", result["msg"]
    assert "deleted" in result["msg"] and name in result["msg"]
    assert not result["pod_kept"]
    assert left_behind(kube, namespace) == set()


# ---------------------------------------------------------------- 4. the kubelet restarts

@pytest.mark.disruptive
def test_kubelet_restart_mid_build_gives_the_real_result(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "kubelet", build_args={"PAUSE": "15"}, keep_pod="never")
    play = ansible.start([build_task("built", **args)])
    wait_for_marker(kube, namespace, play)
    with outage("kubelet"):
        time.sleep(5)
    result = show(play.wait().results()["built"])

    assert not result.get("failed"), result.get("msg")
    assert result["reason"] == "Completed"
    assert registry_has(lab, repository(lab, args["destinations"][0]), result["digest"]) == result["digest"]
    assert left_behind(kube, namespace) == set()


# ---------------------------------------------------------------- 5. out of memory

def test_memory_limit_exceeded_says_oomkilled_with_the_hint(lab, kube, namespace, ansible, lab_build):
    args = lab_build("oom", "oom", pod={"resources": {"limits": {"memory": "128Mi"}}})
    result = show(ansible.run([build_task("built", **args)]).results()["built"])

    assert result.get("failed")
    assert result["reason"] == "OOMKilled", result["msg"]
    assert result["container"] == "kaniko"
    assert "pod.resources.limits.memory" in result["hint"] and "--compressed-caching=false" in result["hint"]
    assert "OOMKilled" in result["msg"] and "pod.resources.limits.memory" in result["msg"]
    # keep_pod defaults to on_failure: the failed pod is kept for inspection, and nothing else.
    assert result["pod_kept"]
    assert left_behind(kube, namespace, keep={"pod/" + result["pod_name"]}) == set()


# ---------------------------------------------------------------- 6. timeout

def test_timeout_removes_the_pod_and_the_secret_it_made(lab, kube, namespace, ansible, lab_build, faults_repo):
    kube.secret(namespace, "git-token", {"token": lab["KILN_LAB_GIT_HTTP_PASSWORD"]})
    args = lab_build("wait", "timeout", build_args={"PAUSE": "600"}, timeout=25,
                     git={"repo": faults_repo["private"], "secret": "git-token"},
                     registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": "p-timeout"}])
    started = time.monotonic()
    result = show(ansible.run([build_task("built", **args)]).results()["built"])

    assert result.get("failed")
    assert result["reason"] == "Timeout" and "timed out" in result["msg"]
    assert "timeout" in result["hint"]
    assert time.monotonic() - started < 120
    assert not result["pod_kept"]
    assert left_behind(kube, namespace, keep={"secret/git-token"}) == set()


# ---------------------------------------------------------------- the log while the build runs

def test_log_lines_reach_log_path_and_the_play_while_the_build_runs(lab, kube, namespace, ansible, lab_build, tmp_path):
    log_path = tmp_path / "build.log"
    args = lab_build("wait", "live-log", build_args={"PAUSE": "20"}, log_path=str(log_path))
    play = ansible.start([build_task("built", **args)], verbosity=1)
    wait_for_marker(kube, namespace, play)

    def shown():
        assert play.proc.poll() is None, "the play ended before the line was shown:\n" + play.output()[-3000:]
        return MARKER in play.output()
    wait_until(lambda: log_path.exists() and MARKER in log_path.read_text(), 15, "the marker in log_path")
    wait_until(shown, 15, "the marker in the play's output (-v)")
    assert play.proc.poll() is None  # the build still sleeps: the line came while it ran
    play.wait(300)
    result = play.results()["built"]
    assert not result.get("failed"), result.get("msg")
    text = log_path.read_text()
    # Each line once (Kaniko's own lines quote the RUN step, so count whole lines).
    assert text.startswith("==> clone <==\n") and text.count("==> kaniko <==") == 1
    assert text.splitlines().count(MARKER) == 1


# ---------------------------------------------------------------- 7. interrupted

def test_ctrl_c_on_ansible_playbook_removes_the_pod_and_the_secret(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "sigint", build_args={"PAUSE": "300"},
                     registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": "p-sigint"}])
    play = ansible.start([build_task("built", **args)])
    wait_for_marker(kube, namespace, play)
    assert len(kube.secrets(namespace)) == 1
    play.signal(signal.SIGINT)
    play.wait(120)

    assert play.returncode != 0
    # The build runs as the action plugin's async job, which the play's signal does not reach: the
    # plugin's worker, stopped by ansible-playbook, tells it to stop through the heartbeat file.
    assert left_behind(kube, namespace, timeout=15) == set(), play.output()[-3000:]


def test_sigterm_to_the_module_removes_the_pod_and_the_secret(lab, kube, namespace, ansible, lab_build):
    args = lab_build("wait", "sigterm", build_args={"PAUSE": "300"},
                     registry_auth=[{"server": lab["KILN_LAB_REGISTRY"], "username": "u", "password": "p-sigterm"}])
    play = ansible.start([build_task("built", **args)])
    wait_for_marker(kube, namespace, play)
    pids = play.module_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGTERM)
    result = show(play.wait(120).results()["built"])

    assert result.get("failed")
    assert "SIGTERM" in result["msg"]
    assert left_behind(kube, namespace) == set()
