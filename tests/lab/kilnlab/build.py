"""Everything the lab is made of: Debian packages, Go binaries built from upstream modules, local images.

Every product is cached under KILN_CACHE, keyed by the versions in tests/lab/versions, and reused when
present, so that a machine that has built once starts the lab in seconds.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from . import ee, oci
from .cmd import log, run
from .config import (BIN, CACHE, DEBIAN_MIRROR, IMAGES, ROOTFS, SRC, VERSIONS, core_bin_dir, cosign3_bin,
                     cosign_bin, kaniko_bin, regctl_bin, syft_bin)

KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")


@contextmanager
def locked(name):
    """One build of ``name`` at a time on this machine: `lab.py go supply` begun beside the first tiers and a
    target that needs its product wait for each other instead of writing the same files."""
    locks = CACHE / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / (name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# ---------------------------------------------------------------- Debian packages

def ensure_packages():
    wanted = VERSIONS["DEBIAN_PACKAGES"].split() + ["gcc", "libc6-dev", "iproute2", "kmod", "procps"]
    status = run("dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *wanted,
                 capture_output=True, text=True, check=False).stdout
    installed = {line.split()[0] for line in status.splitlines() if line.split()[1:2] == ["ii"]}
    missing = [p for p in wanted if p not in installed]
    if not missing:
        return
    log("installing Debian packages: " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "update", "-qq", env=env)
    # policy-rc.d keeps the packages' own services (containerd, etcd, registry, ssh) from starting:
    # the lab runs its own instances with its own configuration.
    policy = Path("/usr/sbin/policy-rc.d")
    had_policy = policy.exists()
    if not had_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)
    finally:
        if not had_policy:
            policy.unlink()


# ---------------------------------------------------------------- Go toolchain

def go_binary():
    """A Go of the pinned minor version: the machine's own if it matches, else the toolchain module
    golang.org/toolchain from the Go module proxy (the same registry that serves every other module)."""
    want = VERSIONS["GO_VERSION"]
    minor = ".".join(want.split(".")[:2])
    for candidate in (shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and os.path.exists(candidate):
            out = run(candidate, "env", "GOVERSION", capture_output=True, text=True, check=False).stdout.strip()
            if out == "go" + minor or out.startswith("go" + minor + "."):
                return candidate
    root = CACHE / ("go-" + want)
    gobin = root / "go" / "bin" / "go"
    with locked(root.name):
        if not gobin.exists():
            _fetch_toolchain(want, root)
    return str(gobin)


def _fetch_toolchain(want, root):
    proxy = os.environ.get("GOPROXY", "https://proxy.golang.org").split(",")[0].split("|")[0]
    url = "%s/golang.org/toolchain/@v/v0.0.1-go%s.linux-amd64.zip" % (proxy.rstrip("/"), want)
    log("fetching the Go %s toolchain module" % want)
    root.mkdir(parents=True, exist_ok=True)
    archive = root / "toolchain.zip"
    with urllib.request.urlopen(url, timeout=600) as response, open(archive, "wb") as out:
        shutil.copyfileobj(response, out)
    with zipfile.ZipFile(archive) as zf:
        prefix = "golang.org/toolchain@v0.0.1-go%s.linux-amd64/" % want
        for info in zf.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            target = root / "go" / info.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (info.external_attr >> 16) & 0o777
            target.chmod(mode or 0o644)
    archive.unlink()
    for tool in (root / "go" / "bin").iterdir():
        tool.chmod(0o755)
    for tool in (root / "go" / "pkg" / "tool").rglob("*"):
        if tool.is_file():
            tool.chmod(0o755)


def go_env():
    """No cgo, modules from the proxy, and no DWARF: the binaries are stripped (-ldflags "-s -w") anyway, so the
    compiler need not write debug information that the linker throws away."""
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod -buildvcs=false -gcflags=all=-dwarf=false",
               GOTOOLCHAIN="local")
    return env


# ---------------------------------------------------------------- binaries

def _staging_modules(go):
    version = VERSIONS["KUBERNETES_VERSION"]
    info = json.loads(run(go, "mod", "download", "-json", "k8s.io/kubernetes@" + version,
                          capture_output=True, text=True, env=go_env()).stdout)
    mods = []
    for line in Path(info["GoMod"]).read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "=>" and parts[2].startswith("./staging/"):
            mods.append(parts[0])
    return mods


def _core_modules():
    """(module, version, packages) of the core's `go build`: Kubernetes' six commands, CoreDNS, Kaniko's executor."""
    kube = ["k8s.io/kubernetes/cmd/" + name for name in KUBE_COMMANDS]
    return [("k8s.io/kubernetes", VERSIONS["KUBERNETES_VERSION"], kube),
            ("github.com/coredns/coredns", VERSIONS["COREDNS_VERSION"], ["github.com/coredns/coredns"]),
            (VERSIONS["KANIKO_MODULE"], VERSIONS["KANIKO_VERSION"], [VERSIONS["KANIKO_MODULE"] + "/cmd/executor"])]


def build_core_binaries(go):
    """Kubernetes, CoreDNS and Kaniko in one wrapper module and one `go build`, into core_bin_dir(). Built
    apart, CoreDNS compiled its own client-go, api and apimachinery (half of its 1,100 packages are
    Kubernetes' under other versions) and Kaniko its own gRPC, OpenTelemetry and AWS SDK; in one module
    the version selection gives each package one version, compiled once for all three."""
    out = core_bin_dir()
    packages = [package for _, _, packages in _core_modules() for package in packages]
    with locked(out.name):
        # `go build -o DIR/` names each command after the last element of its package path.
        if not all((out / package.rsplit("/", 1)[-1]).exists() for package in packages):
            _build_core(go, out, packages)


def _build_core(go, out, packages):
    log("building Kubernetes, CoreDNS and Kaniko from the Go module proxy (several minutes the first time)")
    src = SRC / out.name
    src.mkdir(parents=True, exist_ok=True)
    staging = VERSIONS["KUBERNETES_STAGING_VERSION"]
    requires = "".join("\t%s %s\n" % (module, version) for module, version, _ in _core_modules())
    replaces = "".join("\t%s => %s %s\n" % (m, m, staging) for m in _staging_modules(go))
    (src / "go.mod").write_text("module kiln.lab/core\n\ngo 1.26.0\n\nrequire (\n%s)\n\nreplace (\n%s)\n"
                                % (requires, replaces))
    env = _kaniko_checked(go, src)
    version = VERSIONS["KUBERNETES_VERSION"]
    major, minor = version.lstrip("v").split(".")[:2]
    ldflags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        ldflags += ["-X", "%s.gitVersion=%s" % (pkg, version), "-X", "%s.gitMajor=%s" % (pkg, major),
                    "-X", "%s.gitMinor=%s" % (pkg, minor), "-X", "%s.gitTreeState=clean" % pkg]
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run(go, "build", "-trimpath", "-ldflags", " ".join(ldflags), "-o", str(tmp) + "/", *packages, cwd=src, env=env)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _kaniko_checked(go, src):
    """go_env() for a module that requires Kaniko, whose module the checksum database does not list: it is
    verified against the hash pinned in tests/lab/versions instead."""
    module, version = VERSIONS["KANIKO_MODULE"], VERSIONS["KANIKO_VERSION"]
    env = dict(go_env(), GONOSUMDB=module)
    info = json.loads(run(go, "mod", "download", "-json", "%s@%s" % (module, version),
                          capture_output=True, text=True, env=env, cwd=src).stdout)
    if info.get("Sum") != VERSIONS["KANIKO_MODULE_SUM"]:
        raise SystemExit("lab: %s@%s has hash %s, expected %s" % (module, version, info.get("Sum"),
                                                                 VERSIONS["KANIKO_MODULE_SUM"]))
    return env


def _go_build_module(go, target, module, version, package, ldflags=(), tags=()):
    """Build `package` of `module@version` in a wrapper module of our own (as for the core), so the
    proxy's version list is never needed (`go install pkg@version` asks for it). Stripped, with `ldflags`, `tags`,
    and unoptimised: only the tools some tiers use are built this way (_tool_builds and _kwok_build say why)."""
    with locked(target.parent.name):
        if not target.exists():
            _go_build(go, target, module, version, package, ldflags, tags)


def _go_build(go, target, module, version, package, ldflags, tags):
    log("building %s@%s" % (package, version))
    src = SRC / ("%s-%s" % (target.parent.name.rsplit("-", 1)[0], version))
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text("module kiln.lab/%s\n\ngo 1.26.0\n\nrequire %s %s\n"
                                % (target.name, module, version))
    env = go_env()
    tmp = target.parent.with_name(target.parent.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # -gcflags here replaces go_env()'s, so -dwarf=false again.
    flags = ["-trimpath", "-gcflags", "all=-N -l -dwarf=false", "-ldflags", " ".join(["-s", "-w", *ldflags])]
    flags += ["-tags", ",".join(tags)] if tags else []
    run(go, "build", *flags, "-o", tmp / target.name, package, cwd=src, env=env)
    shutil.rmtree(target.parent, ignore_errors=True)
    tmp.rename(target.parent)


def _tool_builds():
    """_go_build_module's (target, module, version, package, {more}) for cosign (both majors), syft and regctl, which
    sign, attest, make SBOMs and read back what the collection attaches. The build's main module is our wrapper, so
    `version` prints what the linker flags of the tool's release say: cosign's Makefile sets
    sigs.k8s.io/release-utils/version (else "devel"), syft's .goreleaser.yaml main.version without the "v" (else
    "[not provided]") and builds with these tags, regclient's Makefile internal/version.vcsTag. All compile
    unoptimised: a few commands a run, on small images, for which optimising cost a fifth more compile time
    (cosign, measured cold: 389 CPU-seconds optimised, 311 without optimisation and inlining)."""
    syft = VERSIONS["SYFT_VERSION"]
    release_utils = "sigs.k8s.io/release-utils/version"
    builds = []
    for target, module, version in ((cosign_bin(), VERSIONS["COSIGN_MODULE"], VERSIONS["COSIGN_VERSION"]),
                                    (cosign3_bin(), VERSIONS["COSIGN3_MODULE"], VERSIONS["COSIGN3_VERSION"])):
        builds.append((target, module, version, module + "/cmd/cosign",
                       {"ldflags": ["-X", "%s.gitVersion=%s" % (release_utils, version),
                                    "-X", "%s.gitTreeState=clean" % release_utils]}))
    builds.append((syft_bin(), VERSIONS["SYFT_MODULE"], syft, VERSIONS["SYFT_MODULE"] + "/cmd/syft",
                   {"ldflags": ["-X", "main.version=" + syft.lstrip("v")],
                    "tags": ("containers_image_openpgp", "exclude_graphdriver_btrfs")}))
    regclient, regclient_version = VERSIONS["REGCLIENT_MODULE"], VERSIONS["REGCLIENT_VERSION"]
    builds.append((regctl_bin(), regclient, regclient_version, regclient + "/cmd/regctl",
                   {"ldflags": ["-X", "%s/internal/version.vcsTag=%s" % (regclient, regclient_version)]}))
    return builds


def kwok_bin():
    return BIN / ("kwok-" + VERSIONS["KWOK_VERSION"]) / "kwok"


def _kwok_build():
    """_go_build_module's arguments for kwok, the controller of the lab's fake nodes (tests/lab/kilnlab/kwok.py).
    Its Makefile sets pkg/consts.Version (else kwok reports "" as its version in the nodes it makes). Unoptimised
    as cosign and syft (v0.8.0, measured cold: 157 CPU-seconds optimised, 113 without): it spends its time
    waiting on the API server."""
    module, version = VERSIONS["KWOK_MODULE"], VERSIONS["KWOK_VERSION"]
    return (kwok_bin(), module, version, module + "/cmd/kwok",
            {"ldflags": ["-X", "%s/pkg/consts.Version=%s" % (module, version)]})


def registry3_bin():
    return BIN / ("registry-" + VERSIONS["DISTRIBUTION_VERSION"]) / "registry"


def _registry3_build():
    """_go_build_module's arguments for distribution 3's registry, the image the registry role deploys by default.
    Its Makefile sets version.version (else "v3.1.1+unknown", the last tag written into version.go, is what
    `registry --version` says). Unoptimised as the tools: the registry spends its time on disk, the network and
    sha256 (assembly, which -N -l leaves alone), and serves a few images a test."""
    module, version = VERSIONS["DISTRIBUTION_MODULE"], VERSIONS["DISTRIBUTION_VERSION"]
    return (registry3_bin(), module, version, module + "/cmd/registry",
            {"ldflags": ["-X", "%s/version.version=%s" % (module, version),
                         "-X", "%s/version.mainpkg=%s" % (module, module)]})


def build_registry3(go):
    build = _registry3_build()
    _go_build_module(go, *build[:4], **build[4])


def _pause(go):
    pause = BIN / ("pause-" + VERSIONS["KUBERNETES_VERSION"]) / "pause"
    if not pause.exists():
        info = json.loads(run(go, "mod", "download", "-json", "k8s.io/kubernetes@" + VERSIONS["KUBERNETES_VERSION"],
                              capture_output=True, text=True, env=go_env()).stdout)
        pause.parent.mkdir(parents=True, exist_ok=True)
        run("gcc", "-Os", "-static", "-DVERSION=" + VERSIONS["PAUSE_TAG"], "-o", pause,
            Path(info["Dir"]) / "build" / "pause" / "linux" / "pause.c")
    return pause


def build_binaries(go):
    """The cluster's binaries, the executor and distribution 3's registry; returns the pause binary. The core's
    `go build` and the git image's debootstrap (network, not CPU) run side by side, the registry's build after
    the debootstrap."""
    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(build_core_binaries, go), pool.submit(_git_base), pool.submit(build_registry3, go)]
        for job in jobs:
            job.result()
    return _pause(go)


# ---------------------------------------------------------------- images

# The names under which the lab's images are known to containerd. The public names are the ones the
# collection defaults to, so that pods rendered with the defaults start with imagePullPolicy IfNotPresent.
PAUSE_IMAGE = "registry.k8s.io/pause:" + VERSIONS["PAUSE_TAG"]
BUSYBOX_IMAGES = ("docker.io/library/busybox:1.35", "docker.io/library/busybox:latest")
GIT_IMAGES = ("docker.io/alpine/git:2.49.1", "kiln.lab/git:rev%s" % VERSIONS["GIT_IMAGE_REV"])
KANIKO_IMAGES = ("ghcr.io/osscontainertools/kaniko:" + VERSIONS["KANIKO_VERSION"],
                 "gcr.io/kaniko-project/executor:v1.24.0")
# The registry role's default (distribution 3) and the image that its kiln_registry_distribution "2" selects (Debian's
# 2.8). Docker Hub's registry:3.1.2 is distribution v3.1.2; registry:2.8.3 stays there for 2.8.
REGISTRY_IMAGES = ("docker.io/library/registry:2.8.3", "docker.io/library/registry:2")
REGISTRY3_IMAGES = ("docker.io/library/registry:%s" % VERSIONS["DISTRIBUTION_VERSION"].lstrip("v"),
                    "docker.io/library/registry:3")
COSIGN_IMAGES = ("ghcr.io/sigstore/cosign/cosign:%s-dev" % VERSIONS["COSIGN_VERSION"],)
COSIGN3_IMAGES = ("ghcr.io/sigstore/cosign/cosign:%s-dev" % VERSIONS["COSIGN3_VERSION"],)
SYFT_IMAGES = ("docker.io/anchore/syft:%s-debug" % VERSIONS["SYFT_VERSION"],)


def _stage(name):
    root = CACHE / "stage" / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return root


def _etc(root, users=(("root", 0, "/root", "/bin/sh"),)):
    (root / "etc").mkdir(exist_ok=True)
    passwd = "".join("%s:x:%d:%d:%s:%s:%s\n" % (n, uid, uid, n, home, shell) for n, uid, home, shell in users)
    passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    group = "".join("%s:x:%d:\n" % (n, uid) for n, uid, _h, _s in users) + "nogroup:x:65534:\n"
    (root / "etc" / "passwd").write_text(passwd)
    (root / "etc" / "group").write_text(group)
    for d in ("tmp",):
        (root / d).mkdir(exist_ok=True)
        (root / d).chmod(0o1777)


def _copy_with_libs(binary, root, dest):
    """Copy a dynamically linked binary and the shared libraries ldd names into an image root."""
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, target)
    out = run("ldd", binary, capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        path = line.split("=>")[-1].split("(")[0].strip()
        if path.startswith("/"):
            lib = root / path.lstrip("/")
            lib.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(path), lib)


def _archive(name, key, names, root_builder, config):
    """Build (or reuse) the image archive `name`, keyed by `key`. Returns (archive path, manifest digest)."""
    archive = IMAGES / ("%s-%s.oci.tar" % (name, key))
    with locked("image-" + name):
        return _archive_locked(archive, name, key, names, root_builder, config)


def _archive_locked(archive, name, key, names, root_builder, config):
    meta = archive.with_suffix(".json")
    if archive.exists() and meta.exists():
        return archive, json.loads(meta.read_text())["digest"]
    log("making image %s (%s)" % (names[0], key))
    IMAGES.mkdir(parents=True, exist_ok=True)
    root = root_builder()
    layer = IMAGES / ("%s-%s.layer.tmp" % (name, key))
    digest, diff_id, size = oci.layer_from_dir(root, layer)
    manifest_digest = oci.write_archive(archive, names, [(layer, digest, diff_id, size)], config)
    layer.unlink()
    shutil.rmtree(root, ignore_errors=True)
    meta.write_text(json.dumps({"digest": manifest_digest, "names": list(names)}))
    return archive, manifest_digest


def _pause_root(pause):
    def build():
        root = _stage("pause")
        shutil.copy2(pause, root / "pause")
        return root
    return build


def _busybox_root(name="busybox"):
    root = _stage(name)
    (root / "bin").mkdir()
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    applets = run("/bin/busybox", "--list-full", capture_output=True, text=True).stdout.split()
    for applet in applets:
        path = root / applet
        if path.exists() or path.is_symlink():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to("/bin/busybox")
    _etc(root)
    (root / "root").mkdir()
    return root


def _tool_root(name, binary, command=None):
    """An image for pods that run `sh -c` scripts around one tool, as the upstream -dev and -debug images
    allow: busybox's shell and applets, the tool in /usr/local/bin (as ``command``, else ``name``), the CA bundle,
    HOME /root, and their user nonroot (65532), as which the collection runs the tools."""
    def build():
        root = _busybox_root(name)
        _etc(root, users=(("root", 0, "/root", "/bin/sh"), ("nonroot", 65532, "/home/nonroot", "/bin/sh")))
        (root / "home" / "nonroot").mkdir(parents=True)
        os.chown(root / "home" / "nonroot", 65532, 65532)
        (root / "usr" / "local" / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, root / "usr" / "local" / "bin" / (command or name))
        (root / "etc" / "ssl" / "certs").mkdir(parents=True)
        shutil.copy2("/etc/ssl/certs/ca-certificates.crt", root / "etc" / "ssl" / "certs" / "ca-certificates.crt")
        (root / "etc" / "nsswitch.conf").write_text("hosts: files dns\n")
        return root
    return build


def _git_base():
    """The git image's root filesystem from debootstrap, cached by suite and revision."""
    rev = VERSIONS["GIT_IMAGE_REV"]
    base = ROOTFS / ("git-%s-%s" % (VERSIONS["DEBIAN_SUITE"], rev))
    with locked(base.name):
        if not base.exists():
            tmp = base.with_name(base.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            log("debootstrap %s minbase with %s" % (VERSIONS["DEBIAN_SUITE"], VERSIONS["GIT_IMAGE_PACKAGES"]))
            run("debootstrap", "--variant=minbase", "--include=" + VERSIONS["GIT_IMAGE_PACKAGES"],
                VERSIONS["DEBIAN_SUITE"], tmp, DEBIAN_MIRROR, stdout=subprocess.DEVNULL)
            tmp.rename(base)
    return base


def _git_root():
    base = _git_base()
    root = _stage("git")
    run("cp", "-a", str(base) + "/.", root)
    for junk in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale",
                 "var/log", "usr/share/info"):
        shutil.rmtree(root / junk, ignore_errors=True)
        (root / junk).mkdir(parents=True, exist_ok=True)
    # The clone container runs as this unprivileged user; ssh needs a passwd entry for its uid.
    with open(root / "etc" / "passwd", "a") as passwd:
        passwd.write("kiln:x:65532:65532:kiln clone user:/home/kiln:/bin/sh\n")
    with open(root / "etc" / "group", "a") as group:
        group.write("kiln:x:65532:\n")
    (root / "home" / "kiln").mkdir(parents=True, exist_ok=True)
    os.chown(root / "home" / "kiln", 65532, 65532)
    (root / "git").mkdir(exist_ok=True)
    return root


def _kaniko_root():
    root = _stage("kaniko")
    (root / "kaniko" / ".docker").mkdir(parents=True)
    shutil.copy2(kaniko_bin(), root / "kaniko" / "executor")
    (root / "kaniko" / "ssl" / "certs").mkdir(parents=True)
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", root / "kaniko" / "ssl" / "certs" / "ca-certificates.crt")
    (root / "etc").mkdir()
    (root / "etc" / "nsswitch.conf").write_text("hosts: files dns\n")
    (root / "workspace").mkdir()
    return root


REGISTRY_CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""


def _registry_root():
    root = _stage("registry")
    _copy_with_libs("/usr/bin/docker-registry", root, "/bin/registry")
    (root / "etc" / "docker" / "registry").mkdir(parents=True)
    (root / "etc" / "docker" / "registry" / "config.yml").write_text(REGISTRY_CONFIG)
    (root / "var" / "lib" / "registry").mkdir(parents=True)
    _etc(root, users=())
    return root


# The configuration of Docker Hub's registry 3 image (distribution/distribution-library-image's config-example.yml
# without its debug server and debug log level), where that image has it.
REGISTRY3_CONFIG = REGISTRY_CONFIG.replace("storage:\n", "storage:\n  delete:\n    enabled: true\n")


def _registry3_root():
    """Docker Hub's registry 3 layout: /bin/registry and /etc/distribution/config.yml (no longer
    /etc/docker/registry); the binary is static, so no libraries. Its entrypoint.sh only puts `registry serve` in
    front of a config file, which Entrypoint and Cmd say here."""
    root = _stage("registry3")
    (root / "bin").mkdir()
    shutil.copy2(registry3_bin(), root / "bin" / "registry")
    (root / "etc" / "distribution").mkdir(parents=True)
    (root / "etc" / "distribution" / "config.yml").write_text(REGISTRY3_CONFIG)
    (root / "var" / "lib" / "registry").mkdir(parents=True)
    (root / "etc" / "ssl" / "certs").mkdir(parents=True)
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", root / "etc" / "ssl" / "certs" / "ca-certificates.crt")
    _etc(root, users=())
    return root


def _deb_version(package):
    return run("dpkg-query", "-W", "-f=${Version}", package, capture_output=True, text=True).stdout.strip()


IMAGE_FORMAT = "1"  # bump when the image layouts below change


def _make_images(specs):
    """{name: (archive path, manifest digest, names)} of (name, version, names, root builder, config) specs."""
    result = {}
    for name, version, names, builder, config in specs:
        key = "%s-f%s" % (version.replace(":", "_").replace("~", "_").replace("+", "_"), IMAGE_FORMAT)
        archive, digest = _archive(name, key, names, builder, config)
        result[name] = (archive, digest, names)
    return result


def build_images(pause):
    """The images of the cluster and of a plain build, as _make_images returns them."""
    path = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"
    specs = [
        ("pause", VERSIONS["KUBERNETES_VERSION"], (PAUSE_IMAGE,), _pause_root(pause),
         {"Entrypoint": ["/pause"], "User": "65535:65535"}),
        ("busybox", _deb_version("busybox-static"), BUSYBOX_IMAGES, _busybox_root,
         {"Cmd": ["sh"], "Env": ["PATH=" + path]}),
        ("git", "%s-%s" % (VERSIONS["DEBIAN_SUITE"], VERSIONS["GIT_IMAGE_REV"]), GIT_IMAGES, _git_root,
         {"Entrypoint": ["git"], "Cmd": ["--help"], "WorkingDir": "/git", "Env": ["PATH=" + path]}),
        ("kaniko", VERSIONS["KANIKO_VERSION"], KANIKO_IMAGES, _kaniko_root,
         {"Entrypoint": ["/kaniko/executor"], "WorkingDir": "/workspace",
          "Env": ["PATH=/usr/local/bin:/kaniko", "HOME=/root", "USER=root", "SSL_CERT_DIR=/kaniko/ssl/certs",
                  "DOCKER_CONFIG=/kaniko/.docker/"]}),
        ("registry", _deb_version("docker-registry"), REGISTRY_IMAGES, _registry_root,
         {"Entrypoint": ["/bin/registry"], "Cmd": ["serve", "/etc/docker/registry/config.yml"],
          "ExposedPorts": {"5000/tcp": {}}, "Volumes": {"/var/lib/registry": {}}}),
        ("registry3", VERSIONS["DISTRIBUTION_VERSION"], REGISTRY3_IMAGES, _registry3_root,
         {"Entrypoint": ["/bin/registry"], "Cmd": ["serve", "/etc/distribution/config.yml"],
          "Env": ["OTEL_TRACES_EXPORTER=none"],
          "ExposedPorts": {"5000/tcp": {}}, "Volumes": {"/var/lib/registry": {}}}),
    ]
    return _make_images(specs)


def build_tool_images():
    """cosign's (both majors) and syft's images, as _make_images returns them. Their shell is busybox's: a new one, a
    new image."""
    busybox = _deb_version("busybox-static")
    tools = (("cosign", "cosign", VERSIONS["COSIGN_VERSION"], COSIGN_IMAGES, cosign_bin()),
             ("cosign3", "cosign", VERSIONS["COSIGN3_VERSION"], COSIGN3_IMAGES, cosign3_bin()),
             ("syft", "syft", VERSIONS["SYFT_VERSION"], SYFT_IMAGES, syft_bin()))
    return _make_images([(name, "%s-%s" % (version, busybox), names, _tool_root(name, binary, command),
                          {"Entrypoint": ["/usr/local/bin/" + command],
                           "Env": ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root"]})
                         for name, command, version, names, binary in tools])


def _tool_binaries(go):
    """cosign (both majors), syft and regctl, some 1,300 s of CPU for cosign 2 and syft: two `go build`s at a time."""
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(_go_build_module, go, *build[:4], **build[4]) for build in _tool_builds()]:
            done.result()  # raises the failure of either build, once both have ended


def build_core():
    """What the cluster and a plain build need, as _make_images returns it: the lab that `up` starts and the
    demo uses. The images for signing and SBOMs and the execution environment are extras (EXTRAS)."""
    ensure_packages()
    return build_images(build_binaries(go_binary()))


def build_supply():
    """cosign's (both majors), syft's and regctl's binaries, and the images of cosign and syft, for the targets that
    sign, attest, make SBOMs and read back what the collection attached."""
    ensure_packages()
    _tool_binaries(go_binary())
    return build_tool_images()


def build_ee():
    """The execution-environment image of this checkout's collection, for the job-pod tests."""
    return {"ee": ee.build_image()}


# What some tiers need beyond the core, by name: `lab.py images NAME` builds it and imports it into the lab.
EXTRAS = {"supply": build_supply, "ee": build_ee}


def build_go(which="core"):
    """The Go builds alone, no image and no Debian package: most of a cold start, which scripts/demo.sh and
    scripts/test.sh begin first, beside the installing of the Debian packages; ``which`` is "core" (what `up`
    needs, distribution 3's registry included), "registry" (that one alone), "supply" (cosign and syft) or "kwok"
    (the fake nodes' controller, for the tiers that use fake nodes)."""
    go = go_binary()
    if which == "registry":
        build_registry3(go)
    elif which == "supply":
        _tool_binaries(go)
    elif which == "kwok":
        build = _kwok_build()
        _go_build_module(go, *build[:4], **build[4])
    else:
        build_core_binaries(go)
        build_registry3(go)


def build_all():
    """Returns {name: (archive path, manifest digest, names)} for every lab image, the extras included."""
    images = build_core()
    for extra in EXTRAS.values():
        images.update(extra())
    return images


if __name__ == "__main__":
    json.dump({k: [str(v[0]), v[1], list(v[2])] for k, v in build_all().items()}, sys.stdout, indent=1)
