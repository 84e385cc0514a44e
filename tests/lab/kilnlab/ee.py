"""The lab's execution-environment image: what ansible-builder would make from ee/execution-environment.yml,
made here without a container engine and without pulling an image (docs/awx.md says how the two differ).

Three layers, bottom to top, so that a change of the collection costs seconds and not a new base:

  base             Debian EE_IMAGE_SUITE (trixie: Python 3.13, which the current ansible-core needs) minbase
                   (debootstrap) with python3 and git, and the venv /opt/kiln-ee with the pinned ansible-core,
                   ansible-runner and kubernetes client of tests/lab/ee-requirements.txt,
                   pip-installed by the image's own python3 in a chroot so that compiled wheels match its libc
                   and Python; the root filesystem is cached in ROOTFS and its layer in IMAGES, keyed by
                   base_key()
  kubernetes.core  the collection the project's venv carries (from the `ansible` package of requirements.txt),
                   so the image runs the kubernetes.core that the tests run, without the rest of `ansible`
  kiln.kaniko      built with `ansible-galaxy collection build` from the checkout's git-tracked files and
                   installed from the tarball, as ansible-builder's galaxy stage installs it

The tag is a hash of everything that goes into the layers (image_name()), computed without building
anything, so `lab.py env` can name the image and a pod with imagePullPolicy IfNotPresent never runs a stale
collection: another collection is another name. Checkouts sharing one lab thus never replace each other's image.
"""

import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from . import oci, rootfs
from .cmd import log, run
from .config import CACHE, IMAGES, LAB_DIR, REPO_DIR, ROOTFS, VERSIONS

REPOSITORY = "kiln.lab/ee"
REQUIREMENTS = LAB_DIR / "ee-requirements.txt"
VENV = "/opt/kiln-ee"
COLLECTIONS = "usr/share/ansible/collections"  # where ansible-builder installs them; on ansible-core's default path
# AWX runs execution environments as uid 1000 in group 0 with HOME /runner (ansible-builder: USER 1000,
# /runner group-owned by 0 and group-writable, for OpenShift's arbitrary uids in group 0).
RUNNER_UID = 1000
PROJECT_VENV = CACHE / "venv"
BASE_FORMAT = "1"  # bump when _finish_base changes what the base holds
SUITE = VERSIONS["EE_IMAGE_SUITE"]
KEEP_SECONDS = 24 * 3600  # archives of other collection states unused this long are removed (rebuilt in seconds)

CONFIG = {
    "Cmd": ["bash"],
    "User": str(RUNNER_UID),
    "WorkingDir": "/runner",
    # LANG: ansible-core refuses a locale whose encoding is not UTF-8.
    "Env": ["PATH=%s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" % VENV, "HOME=/runner",
            "LANG=C.UTF-8"],
    "Labels": {"ansible-execution-environment": "true"},
}


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def base_key():
    """What the base is made of: suite, packages, revision, the pinned Python packages and BASE_FORMAT."""
    inputs = [SUITE, VERSIONS["EE_IMAGE_PACKAGES"], VERSIONS["EE_IMAGE_REV"], BASE_FORMAT, REQUIREMENTS.read_text()]
    digest = _sha256("\0".join(inputs).encode())[:12]
    return "%s-%s-%s" % (SUITE, VERSIONS["EE_IMAGE_REV"], digest)


@contextmanager
def _locked():
    """One EE build at a time on this machine: the checkouts sharing the lab share its cache."""
    ROOTFS.mkdir(parents=True, exist_ok=True)
    with open(ROOTFS / "ee.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# ---------------------------------------------------------------- base

def _chroot_env():
    # pip compiles each module; with SOURCE_DATE_EPOCH set the .pyc files are checked by hash, not by the source's
    # mtime, which the layer sets to 0 and would make every .pyc stale.
    return rootfs.passed_env({"PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                              "PIP_DEFAULT_TIMEOUT": "180", "SOURCE_DATE_EPOCH": "0"})


def _install_python_packages(root):
    shutil.copy2(REQUIREMENTS, root / "tmp" / "ee-requirements.txt")
    env = _chroot_env()
    # Entered as rootfs.command enters a root: /proc and the machine's resolv.conf and CA bundle (which pip then
    # trusts, as the machine's own pip does: a mirror, a proxy) mounted for the command only.
    run(*rootfs.command(root, ["/usr/bin/python3", "-m", "venv", VENV], env=env))
    # Wheels only: the image has no compiler, and a wheel is what ansible-builder's pip would pick too.
    run(*rootfs.command(root, [VENV + "/bin/python", "-m", "pip", "install", "--quiet", "--only-binary=:all:",
                               "-r", "/tmp/ee-requirements.txt"], env=env))
    # Debian compiled its own modules at install time, timestamp-checked: again by hash (see SOURCE_DATE_EPOCH).
    run(*rootfs.command(root, ["/usr/bin/python3", "-m", "compileall", "-q", "-f", "--invalidation-mode",
                               "checked-hash", "/usr/lib/python%s" % rootfs.python_version(root)], env=env),
        stdout=subprocess.DEVNULL)
    (root / "tmp" / "ee-requirements.txt").unlink()
    # The machine's, which debootstrap copied in: a container runtime gives the image's containers their own.
    (root / "etc" / "resolv.conf").unlink(missing_ok=True)


def _finish_base(root):
    rootfs.trim(root)
    with open(root / "etc" / "passwd", "a") as passwd:
        passwd.write("runner:x:%d:0:ansible-runner:/runner:/bin/bash\n" % RUNNER_UID)
    runner = root / "runner"
    runner.mkdir()
    os.chown(runner, RUNNER_UID, 0)
    runner.chmod(0o775)


def _base_rootfs(key):
    base = ROOTFS / ("ee-" + key)
    if base.exists():
        return base
    tmp = base.with_name(base.name + ".tmp")
    if (tmp / "proc" / "self").exists():
        run("umount", tmp / "proc")  # left mounted by a build that was killed
    shutil.rmtree(tmp, ignore_errors=True)
    rootfs.debootstrap(SUITE, VERSIONS["EE_IMAGE_PACKAGES"], tmp)
    pip_started = time.monotonic()
    log("pip-installing %s into %s" % (REQUIREMENTS.name, VENV))
    _install_python_packages(tmp)
    log("pip took %.0fs" % (time.monotonic() - pip_started))
    _finish_base(tmp)
    tmp.rename(base)
    return base


def _base_layer(key):
    """The base's layer blob, cached beside the images: tarring the base again would cost more than the rest."""
    layer = IMAGES / ("ee-base-%s.layer" % key)
    meta = layer.with_suffix(".json")
    if layer.exists() and meta.exists():
        return [layer] + json.loads(meta.read_text())
    root = _base_rootfs(key)
    IMAGES.mkdir(parents=True, exist_ok=True)
    tmp = layer.with_name(layer.name + ".tmp")
    digests = oci.layer_from_dir(root, tmp)
    tmp.rename(layer)
    meta.write_text(json.dumps(list(digests)))
    return [layer] + list(digests)


# ---------------------------------------------------------------- collections

def _project_python():
    return PROJECT_VENV / "bin" / "python"


def _kubernetes_core():
    """kubernetes.core in the project venv, or None when the venv is not there."""
    found = sorted((PROJECT_VENV / "lib").glob("python3*/site-packages/ansible_collections/kubernetes/core"))
    return found[0] if found and (found[0] / "MANIFEST.json").exists() else None


def _ensure_project_venv():
    if _kubernetes_core() is None:
        log("making the project venv %s (scripts/test-env.sh) for its kubernetes.core" % PROJECT_VENV)
        run("bash", "-c", '. "$1"', "test-env", REPO_DIR / "scripts" / "test-env.sh",
            env=dict(os.environ, KILN_CACHE=str(CACHE)))
    return _kubernetes_core()


def _build_ignore():
    try:
        import yaml
    except ImportError:  # the lab's Python need not have PyYAML; the project venv has it with ansible-core
        code = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
        galaxy = json.loads(run(_project_python(), "-c", code, REPO_DIR / "galaxy.yml",
                                capture_output=True, text=True).stdout)
    else:
        galaxy = yaml.safe_load((REPO_DIR / "galaxy.yml").read_text())
    return galaxy.get("build_ignore") or []


def _collection_files():
    """The checkout's git-tracked files that the collection ships, as they are in the work tree: galaxy.yml's
    build_ignore left out, matched as scripts/test-env.sh matches it (a pattern against every leading part)."""
    ignored = _build_ignore()
    listed = run("git", "-C", REPO_DIR, "ls-files", "-z", "--cached", capture_output=True).stdout.decode()
    files = []
    for path in sorted(p for p in listed.split("\0") if p):
        parts = path.split("/")
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes for pattern in ignored):
            continue
        if (REPO_DIR / path).is_file():
            files.append(path)
    return files


def image_name():
    """kiln.lab/ee:<hash of the base key, kubernetes.core, the collection's files and this builder's code>,
    or None when the project venv with kubernetes.core is not there (then no image was built from here)."""
    core = _kubernetes_core()
    if core is None:
        return None
    digest = hashlib.sha256()
    for part in (base_key(), (core / "MANIFEST.json").read_bytes(), (core / "FILES.json").read_bytes(),
                 (LAB_DIR / "kilnlab" / "ee.py").read_bytes(), (LAB_DIR / "kilnlab" / "oci.py").read_bytes()):
        digest.update(_sha256(part if isinstance(part, bytes) else part.encode()).encode())
    for path in _collection_files():
        source = REPO_DIR / path
        executable = "x" if source.stat().st_mode & 0o111 else "-"
        digest.update(("%s %s %s\n" % (path, executable, _sha256(source.read_bytes()))).encode())
    return "%s:%s" % (REPOSITORY, digest.hexdigest()[:12])


def _mkdirs(root, rel):
    path = root
    for part in rel.split("/"):
        path = path / part
        path.mkdir(exist_ok=True)
        path.chmod(0o755)
    return path


def _galaxy(stage, *args):
    galaxy = PROJECT_VENV / "bin" / "ansible-galaxy"
    # Nothing of the caller's Ansible settings: with ANSIBLE_COLLECTIONS_PATH pointing at a tree that holds
    # kiln.kaniko already (the test scripts' staged copy), `collection install` installs nothing.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    proc = run(galaxy, *args, capture_output=True, text=True, check=False, cwd=stage,
               env=dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(stage / "ansible-tmp")))
    if proc.returncode:
        raise SystemExit("lab: ansible-galaxy %s failed:\n%s%s" % (" ".join(map(str, args)), proc.stdout, proc.stderr))


def _core_layer(stage, core):
    root = _mkdirs(stage, "core")
    parent = _mkdirs(root, COLLECTIONS + "/ansible_collections/kubernetes")
    try:
        # Links stay links: one that dangles or points back into the tree is not followed.
        shutil.copytree(core, parent / "core", symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    except shutil.Error as err:  # every file it could not copy, with why: say the first of them
        failed = err.args[0]
        reasons = "\n".join("  %s: %s" % (src, why) for src, _, why in failed[:5])
        raise SystemExit("lab: could not copy %d file(s) of kubernetes.core from %s into the image, first:\n%s"
                         % (len(failed), core, reasons)) from None
    return oci.layer_from_dir(root, stage / "core.layer")


def _kiln_layer(stage):
    src = _mkdirs(stage, "src")
    for path in _collection_files():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_DIR / path, src / path)
    _galaxy(stage, "collection", "build", "--output-path", stage / "dist", src)
    tarball, = (stage / "dist").glob("kiln-kaniko-*.tar.gz")
    root = _mkdirs(stage, "kiln")
    collections = _mkdirs(root, COLLECTIONS)
    _galaxy(stage, "collection", "install", "--no-deps", "--collections-path", collections, tarball)
    if not (collections / "ansible_collections" / "kiln" / "kaniko" / "MANIFEST.json").is_file():
        raise SystemExit("lab: ansible-galaxy installed no kiln.kaniko into the image's collection layer")
    return oci.layer_from_dir(root, stage / "kiln.layer")


# ---------------------------------------------------------------- the image

def _prune(keep):
    now = time.time()
    for old in IMAGES.glob("ee-*.oci.tar"):
        if old != keep and now - old.stat().st_mtime > KEEP_SECONDS:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)


def _history(core):
    core_version = json.loads((core / "MANIFEST.json").read_text())["collection_info"]["version"]
    return ["debootstrap %s minbase with %s; venv %s of %s"
            % (SUITE, VERSIONS["EE_IMAGE_PACKAGES"], VENV, REQUIREMENTS.name),
            "kubernetes.core %s from the project venv" % core_version,
            "kiln.kaniko from the checkout: ansible-galaxy collection build, then install"]


def build_image():
    """Build (or reuse) the image archive; returns (archive, manifest digest, names) as build_images does."""
    core = _ensure_project_venv()
    if core is None:
        raise SystemExit("lab: no kubernetes.core in %s after scripts/test-env.sh" % PROJECT_VENV)
    with _locked():
        name = image_name()
        archive = IMAGES / ("ee-%s.oci.tar" % name.rsplit(":", 1)[1])
        meta = archive.with_suffix(".json")
        if archive.exists() and meta.exists():
            os.utime(archive)  # in use: kept by _prune
            return archive, json.loads(meta.read_text())["digest"], (name,)
        started = time.monotonic()
        log("making image %s" % name)
        base = _base_layer(base_key())
        CACHE.joinpath("stage").mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix="ee-", dir=CACHE / "stage"))
        try:
            layers = [base, [stage / "core.layer", *_core_layer(stage, core)],
                      [stage / "kiln.layer", *_kiln_layer(stage)]]
            digest = oci.write_archive(archive, [name], [tuple(layer) for layer in layers], CONFIG,
                                       history=_history(core))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        meta.write_text(json.dumps({"digest": digest, "names": [name]}))
        _prune(archive)
        log("made %s in %.0fs (%d MB)" % (name, time.monotonic() - started, archive.stat().st_size >> 20))
        return archive, digest, (name,)
