"""The lab git server serves bare repositories openly over HTTP, behind basic auth under private/, and over SSH."""

import os
import subprocess
import tempfile
import uuid
from pathlib import Path


def ls_remote(url, env=None):
    return subprocess.run(["git", "ls-remote", url], capture_output=True, text=True,
                          env=dict(os.environ, GIT_TERMINAL_PROMPT="0", **(env or {})))


def test_open_repository_over_http(lab):
    result = ls_remote(lab["KILN_LAB_GIT_URL"] + "/smoke.git")
    assert result.returncode == 0, result.stderr
    assert "refs/heads/main" in result.stdout and "refs/tags/v1" in result.stdout


def test_private_repository_needs_the_password(lab):
    url = lab["KILN_LAB_GIT_URL"] + "/private/smoke.git"
    refused = ls_remote(url)
    assert refused.returncode != 0
    user, password = lab["KILN_LAB_GIT_HTTP_USER"], lab["KILN_LAB_GIT_HTTP_PASSWORD"]
    scheme, rest = url.split("://", 1)
    allowed = ls_remote("%s://%s:%s@%s" % (scheme, user, password, rest))
    assert allowed.returncode == 0, allowed.stderr
    wrong = ls_remote("%s://%s:%s@%s" % (scheme, user, "not-the-password", rest))
    assert wrong.returncode != 0


def test_repository_over_ssh_with_the_lab_key(lab):
    ssh = "ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o BatchMode=yes" % (
        lab["KILN_LAB_GIT_SSH_KEY"], lab["KILN_LAB_GIT_KNOWN_HOSTS"])
    result = ls_remote(lab["KILN_LAB_GIT_SSH_URL"] + "/smoke.git", env={"GIT_SSH_COMMAND": ssh})
    assert result.returncode == 0, result.stderr
    assert "refs/heads/main" in result.stdout


def test_a_bare_repository_created_in_the_root_is_served_at_once(lab):
    name = "fresh-%s.git" % uuid.uuid4().hex[:8]
    bare = Path(lab["KILN_LAB_GIT_ROOT"]) / name
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    try:
        with tempfile.TemporaryDirectory() as work:
            env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                       GIT_COMMITTER_EMAIL="t@t")
            subprocess.run(["git", "init", "-q", "-b", "main", work], check=True)
            Path(work, "Dockerfile").write_text("FROM busybox:1.35\n")
            subprocess.run(["git", "-C", work, "add", "."], check=True)
            subprocess.run(["git", "-C", work, "commit", "-qm", "x"], check=True, env=env)
            subprocess.run(["git", "-C", work, "push", "-q", str(bare), "main"], check=True)
        result = ls_remote("%s/%s" % (lab["KILN_LAB_GIT_URL"], name))
        assert result.returncode == 0 and "refs/heads/main" in result.stdout, result.stderr
    finally:
        subprocess.run(["rm", "-rf", str(bare)], check=True)
