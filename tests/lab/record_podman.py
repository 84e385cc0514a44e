#!/usr/bin/env python3
"""Record what podman really answers, in the states kiln.kaniko.container_build's engine must read.

    python3 tests/lab/record_podman.py tests/unit/plugins/module_utils/_kaniko/fixtures/recorded/podman

Each scenario runs podman on this host as the engine does (``podman create``, then ``podman start --attach``,
then ``podman inspect``) and writes, per scenario, the commands' exit statuses, stdout and stderr and the
container as ``podman inspect`` printed it. The unit tests of engines/podman/view.py and the engine read these
files: a start failure is classified from what podman says, not from what we think it says.

The image is made here from the host's static busybox (busybox-static), so nothing is pulled. The scenarios
that need podman to miss slirp4netns run podman with a PATH that holds podman alone: podman (4.x) looks for
slirp4netns on PATH (or at containers.conf's network_cmd_path), so this is what a host without the
slirp4netns package looks like to it, also on a host that has the package.
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
from pathlib import Path

IMAGE = "localhost/kiln-record/busybox:1"
LABEL = "kiln.kaniko/record"


def podman(*args, env=None, check=False):
    done = subprocess.run(["podman", *args], capture_output=True, text=True, env=env, check=False,
                          stdin=subprocess.DEVNULL, timeout=120)
    if check and done.returncode:
        raise SystemExit("podman %s failed (%d): %s" % (" ".join(args), done.returncode, done.stderr))
    return done


def answer(done):
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def make_image():
    """IMAGE: the host's static busybox with a few applets, imported into podman's store."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise SystemExit("record_podman: busybox is not installed (apt-get install busybox-static)")
    work = Path(tempfile.mkdtemp(prefix="kiln-record-"))
    try:
        (work / "bin").mkdir()
        shutil.copy2(busybox, work / "bin" / "busybox")
        for applet in ("sh", "echo", "true", "false", "sleep"):
            (work / "bin" / applet).symlink_to("busybox")
        with tarfile.open(work / "root.tar", "w") as archive:
            archive.add(work / "bin", arcname="bin")
        podman("import", "--quiet", str(work / "root.tar"), IMAGE, check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def without_slirp4netns(bin_dir):
    """The environment of a podman that finds no slirp4netns: PATH is ``bin_dir``, which holds podman alone."""
    if not (bin_dir / "podman").exists():
        (bin_dir / "podman").symlink_to(shutil.which("podman"))
    return dict(os.environ, PATH=str(bin_dir))


def limits():
    """--ulimit as the engine gives them (container_args.ulimits): a host may refuse a container more."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    return ["--ulimit=nofile=%d:%d" % nofile, "--ulimit=nproc=4096:32768"]


def create_args(name, network, command):
    return ["create", "--name=" + name, "--label=%s=1" % LABEL, "--network=" + network, "--cap-drop=ALL",
            "--security-opt=no-new-privileges", *limits(), IMAGE, *command]


# name: (network, the container's command, whether podman must miss slirp4netns)
SCENARIOS = {
    "start_failed_no_slirp4netns": ("slirp4netns", ["sh", "-c", "echo never"], True),
    "start_failed_no_executable": ("host", ["/kaniko/executor", "--context=dir:///workspace"], False),
    "create_failed_no_network": ("no-such-net", ["true"], False),
    "exited_0": ("host", ["sh", "-c", "echo built; exit 0"], False),
    "exited_3": ("host", ["sh", "-c", "echo 'error building image: step failed' >&2; exit 3"], False),
}


def record_scenario(key, out_dir, bin_dir):
    network, command, hide_slirp = SCENARIOS[key]
    env = without_slirp4netns(bin_dir) if hide_slirp else None
    name = "kiln-record-" + uuid.uuid4().hex[:6]
    args = create_args(name, network, command)
    created = podman(*args, env=env)
    record = {"podman_version": podman("--version").stdout.strip(), "create": dict(answer(created), args=args)}
    try:
        if created.returncode == 0:
            record["start"] = dict(answer(podman("start", "--attach", name, env=env)),
                                   args=["start", "--attach", name])
            inspected = podman("inspect", "--type=container", name, check=True)
            record["inspect"] = json.loads(inspected.stdout)
    finally:
        podman("rm", "--force", "--time=0", name)
    (out_dir / (key + ".json")).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    state = (record.get("inspect") or [{}])[0].get("State", {})
    print("recorded %s: create %d, start %s, status %s" % (
        key, created.returncode, record.get("start", {}).get("returncode"), state.get("Status")))


def record_host(out_dir, key, env):
    """podman --version, and podman info (of a podman that finds no slirp4netns, or of this host's)."""
    info = podman("info", "--format", "json", env=env, check=True)
    record = {"version": answer(podman("--version", check=True)), "info": json.loads(info.stdout)}
    (out_dir / (key + ".json")).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print("recorded %s: %s" % (key, record["info"]["host"].get("slirp4netns")))


def record(out_dir, only=None):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    make_image()
    bin_dir = Path(tempfile.mkdtemp(prefix="kiln-record-path-"))
    try:
        for key in SCENARIOS:
            if not only or key in only:
                record_scenario(key, out_dir, bin_dir)
        if not only or "host_no_slirp4netns" in only:
            record_host(out_dir, "host_no_slirp4netns", without_slirp4netns(bin_dir))
        if not only or "host" in only:
            if shutil.which("slirp4netns") is None:
                raise SystemExit("record_podman: the host recording needs slirp4netns (apt-get install slirp4netns)")
            record_host(out_dir, "host", None)
    finally:
        shutil.rmtree(bin_dir, ignore_errors=True)
        listed = podman("ps", "--all", "--quiet", "--filter", "label=" + LABEL)
        for container in listed.stdout.split():
            podman("rm", "--force", "--time=0", container)
        podman("rmi", "--force", IMAGE)


if __name__ == "__main__":
    record(sys.argv[1], set(sys.argv[2:]) or None)
