"""The lab cluster behaves like a real one: pods end in the right phase, volumes, services and DNS work."""

from conftest import pod

BUSYBOX = "docker.io/library/busybox:1.35"


def busybox(name, script, **extra):
    return dict({"name": name, "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                 "command": ["sh", "-c", script]}, **extra)


def test_pod_exiting_3_ends_failed_with_exit_code_3(kube):
    kube.apply(pod("exit3", [busybox("main", "exit 3")]))
    status = kube.wait_pod("exit3")["status"]
    assert status["phase"] == "Failed"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3


def test_pod_exiting_0_ends_succeeded(kube):
    kube.apply(pod("exit0", [busybox("main", "echo fine")]))
    status = kube.wait_pod("exit0")["status"]
    assert status["phase"] == "Succeeded"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert kube.logs("exit0").strip() == "fine"


def test_init_container_writes_into_an_empty_dir_that_the_main_container_reads(kube):
    mount = [{"name": "shared", "mountPath": "/shared"}]
    kube.apply(pod(
        "handover",
        [busybox("reader", "cat /shared/note", volumeMounts=mount)],
        init_containers=[busybox("writer", "echo written-by-init > /shared/note", volumeMounts=mount)],
        volumes=[{"name": "shared", "emptyDir": {}}],
    ))
    status = kube.wait_pod("handover")["status"]
    assert status["phase"] == "Succeeded"
    assert kube.logs("handover", "reader").strip() == "written-by-init"


def test_service_is_reachable_from_a_pod_by_its_dns_name(kube):
    labels = {"app": "web"}
    kube.apply({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [busybox(
                    "httpd", "mkdir -p /www && echo hello-from-web > /www/index.html && httpd -f -p 8080 -h /www",
                    readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                )]},
            },
        },
    })
    kube.apply({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
    })
    kube.run("rollout", "status", "deployment/web", "--timeout=90s")
    url = "http://web.%s.svc.cluster.local/" % kube.namespace
    # Retry a few times inside the pod: endpoints reach kube-proxy a moment after the rollout.
    script = "for i in $(seq 1 20); do timeout 3 wget -q -O - %s && exit 0; sleep 0.5; done; exit 1" % url
    kube.apply(pod("client", [busybox("client", script)]))
    status = kube.wait_pod("client")["status"]
    assert status["phase"] == "Succeeded", kube.logs("client")
    assert "hello-from-web" in kube.logs("client")
