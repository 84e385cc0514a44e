"""The root filesystem in which sanity, units and the lab's tests run on an ansible-core that this machine's Python
cannot run (ansible-core 2.20 and later need Python 3.12; bookworm has 3.11): `lab.py root REQUIREMENTS COMMAND...`,
which scripts/test-env.sh calls for KILN_CORE=2.21.

The root is Debian CORE_ROOT_SUITE minbase with CORE_ROOT_PACKAGES (tests/lab/versions: its Python, git, shellcheck
and what else ansible-test's sanity tests and the units run), and the venv /opt/kiln/venv of REQUIREMENTS, which
scripts/test-env.sh makes in it (kiln_venv, the one maker of the project's venvs) while the root is made. It is made
once, under a lock, in a folder of its own that is renamed into place when complete, and cached in
$KILN_CACHE/rootfs under a key of the suite, the packages, CORE_ROOT_REV and the requirements files: a new pin makes
a new root, an unchanged one is entered in a second.

A command runs in it with the checkout, its git folder, $KILN_CACHE (the staged collection trees, the lab's
binaries) and the lab's state (its kubeconfig and CA) mounted at the same paths, as root with HOME /root of the root
(ansible-test's own venvs and its get-pip stand-in stay there), in the directory it was called from.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import rootfs
from .build import locked
from .cmd import log, run
from .config import CACHE, REPO_DIR, ROOTFS, RUN, STATE, VERSIONS

VENV = "/opt/kiln/venv"
FORMAT = "1"  # bump when _make changes what a root holds
KEEP_SECONDS = 24 * 3600  # roots of other requirements unused this long are removed when a new one is made


def _requirements_text(requirements):
    """The requirements file and its -nodeps sibling (scripts/test-env.sh installs both), as the key reads them."""
    nodeps = requirements.with_name(requirements.stem + "-nodeps.txt")
    return requirements.read_text() + (nodeps.read_text() if nodeps.is_file() else "")


def root_name(requirements):
    """core-<suite>-<rev>-<hash of the suite, packages, rev, FORMAT and the requirements files>."""
    inputs = [VERSIONS["CORE_ROOT_SUITE"], VERSIONS["CORE_ROOT_PACKAGES"], VERSIONS["CORE_ROOT_REV"], FORMAT,
              requirements.name, _requirements_text(requirements)]
    digest = hashlib.sha256("\0".join(inputs).encode()).hexdigest()[:12]
    return "core-%s-%s-%s" % (VERSIONS["CORE_ROOT_SUITE"], VERSIONS["CORE_ROOT_REV"], digest)


def _git_dir():
    """The git folder of the checkout, which a worktree keeps outside it (git needs it for `ls-files`)."""
    out = run("git", "-C", REPO_DIR, "rev-parse", "--path-format=absolute", "--git-common-dir",
              capture_output=True, text=True, check=False).stdout.strip()
    return Path(out) if out else None


def _binds():
    collections = os.environ.get("KILN_COLLECTIONS")
    found = [REPO_DIR, _git_dir(), CACHE, STATE, RUN]
    if collections:
        Path(collections).parent.mkdir(parents=True, exist_ok=True)
        found.append(Path(collections).parent)
    binds = []
    for path in found:
        if path and not any(str(path) == str(b) or str(path).startswith(str(b) + "/") for b in binds):
            binds.append(path)
    return binds


def _env(requirements):
    # KILN_ROOT says to scripts/test-env.sh that it runs inside the root (its venv is VENV, nothing to enter).
    return rootfs.passed_env({"KILN_ROOT": VENV, "KILN_CACHE": str(CACHE), "KILN_REQUIREMENTS": str(requirements)})


def _make(root, requirements):
    tmp = root.with_name(root.name + ".tmp")
    if (tmp / "proc" / "self").exists():
        run("umount", tmp / "proc")  # left mounted by a debootstrap that was killed
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.monotonic()
    rootfs.debootstrap(VERSIONS["CORE_ROOT_SUITE"], VERSIONS["CORE_ROOT_PACKAGES"], tmp)
    rootfs.trim(tmp)
    python = rootfs.python_version(tmp)
    # pip trusts the CA bundle at its Debian path, which entering the root mounts the machine's over.
    (tmp / "etc" / "pip.conf").write_text("[global]\ncert = %s\n" % rootfs.HOST_CA)
    pip_started = time.monotonic()
    log("making the venv %s of %s with Python %s (scripts/test-env.sh)" % (VENV, requirements.name, python))
    env = _env(requirements)
    env["KILN_PYTHON"] = python
    run(*rootfs.command(tmp, ["bash", "-c", '. "$1"', "test-env", REPO_DIR / "scripts" / "test-env.sh"],
                        binds=_binds(), env=env, cwd=REPO_DIR))
    log("venv took %.0fs; the root %.0fs" % (time.monotonic() - pip_started, time.monotonic() - started))
    tmp.rename(root)


def ensure(requirements):
    """The root of ``requirements`` (a Path), made when missing; returns its path."""
    if os.geteuid() != 0:
        raise SystemExit("lab: run as root (a root filesystem is made with debootstrap and entered with chroot)")
    root = ROOTFS / root_name(requirements)
    if not root.exists():
        ROOTFS.mkdir(parents=True, exist_ok=True)
        with locked(root.name):
            if not root.exists():
                _make(root, requirements)
                _prune(root)
    os.utime(root)  # in use: kept by _prune
    return root


def _prune(keep):
    """Remove the roots of other requirements (a pin changed) that nothing entered for KEEP_SECONDS."""
    now = time.time()
    for old in ROOTFS.glob("core-*"):
        if old != keep and old.is_dir() and not old.name.endswith(".tmp") and now - old.stat().st_mtime > KEEP_SECONDS:
            log("removing the root %s, unused for a day" % old.name)
            shutil.rmtree(old, ignore_errors=True)


def enter(argv):
    """`lab.py root REQUIREMENTS COMMAND...`: run COMMAND in the root of REQUIREMENTS; its exit status."""
    if len(argv) < 2:
        raise SystemExit("lab: root takes a requirements file and a command, e.g. "
                         "lab.py root tests/requirements-2.21.txt bash scripts/units.sh")
    requirements = Path(argv[0]).resolve()
    if not requirements.is_file():
        raise SystemExit("lab: root: no requirements file %s" % argv[0])
    root = ensure(requirements)
    cwd = os.getcwd()
    inside = any(cwd == str(b) or cwd.startswith(str(b) + "/") for b in _binds())
    env = _env(requirements)
    env["KILN_PYTHON"] = rootfs.python_version(root)
    sys.stdout.flush()
    return subprocess.run(rootfs.command(root, argv[1:], binds=_binds(), env=env,
                                         cwd=cwd if inside else REPO_DIR), check=False).returncode
