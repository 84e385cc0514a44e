"""Debian root filesystems made with debootstrap and entered with chroot, for what this machine's own Debian cannot
run: the tests on an ansible-core that needs a newer Python (`lab.py root`, scripts/test-env.sh with KILN_CORE=2.21),
and the base of the execution-environment image (kilnlab/ee.py).

A root is entered in a mount namespace of its own (`unshare --mount`), so that what is mounted for it (/proc, /dev,
/sys, the machine's resolv.conf and CA bundle, the folders it is given) goes away with its last process, also when
that process is killed; nothing has to be unmounted and nothing is left mounted in the machine's namespace. It shares
the machine's network, so pip reaches the registry the machine reaches and tests reach the lab's addresses.
"""

import os
import shutil
import subprocess
import time

from .cmd import log, run
from .config import DEBIAN_MIRROR

# The machine's CA bundle, mounted over the root's own when it is entered: pip, git and the kubernetes client in the
# root then trust what the machine trusts (a mirror, a proxy), without it being written into the cached root.
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the caller's environment may pass into a root: registry and proxy settings, the certificate variables (their
# path is the root's bundle too), kiln's and Ansible's own settings. PIP_FIND_LINKS and the like name the machine's
# folders, which the root does not have.
PASSED = ("KILN_", "ANSIBLE_", "PYTEST_ADDOPTS", "TERM", "TZ", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
          "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK", "HTTP_PROXY", "HTTPS_PROXY",
          "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
          "GIT_SSL_CAINFO")

# Run by sh in the new mount namespace, before chroot: $1 the root, $2 how many folders follow, then the folders
# (each mounted at the same path inside), then the command. Files mounted over must exist in the root first.
ENTER = r"""set -eu
root=$1 count=$2
shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
for file in /etc/resolv.conf "$KILN_HOST_CA"; do
    [ -e "$root$file" ] || { mkdir -p "$(dirname "$root$file")"; : >"$root$file"; }
    mount --bind "$file" "$root$file"
done
while [ "$count" -gt 0 ]; do
    mkdir -p "$root$1"
    mount --bind "$1" "$root$1"
    shift
    count=$((count - 1))
done
exec chroot "$root" "$@"
"""


def passed_env(extra=None):
    """The environment of a command in a root: PATH and HOME of the root, LANG (ansible-core refuses a locale whose
    encoding is not UTF-8), what PASSED lets through from this process's environment, then ``extra``."""
    env = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "PIP_CERT": HOST_CA}
    env.update({key: value for key, value in os.environ.items() if key.startswith(PASSED)})
    env.update(extra or {})
    return env


def command(root, argv, binds=(), env=None, cwd=None):
    """The argv that runs ``argv`` in ``root`` with ``env`` (passed_env() by default), the folders ``binds`` (absolute
    paths of the machine, those that exist) mounted at the same paths inside, in ``cwd`` (a path inside)."""
    env = passed_env() if env is None else env
    binds = [str(path) for path in binds if os.path.isdir(path)]
    inner = ["env", "-i"] + ["%s=%s" % item for item in sorted(env.items())]
    if cwd:
        inner = ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", str(cwd)] + inner
    return (["unshare", "--mount", "--propagation", "private", "--", "env", "KILN_HOST_CA=" + HOST_CA,
             "sh", "-c", ENTER, "enter", str(root), str(len(binds))] + binds + inner + [str(a) for a in argv])


def debootstrap(suite, packages, dest):
    """Debian ``suite`` minbase with ``packages`` (comma-separated) into ``dest``, which must not exist yet."""
    started = time.monotonic()
    log("debootstrap %s minbase with %s" % (suite, packages))
    run("debootstrap", "--variant=minbase", "--include=" + packages, suite, dest, DEBIAN_MIRROR,
        stdout=subprocess.DEVNULL)
    log("debootstrap took %.0fs" % (time.monotonic() - started))


def python_version(root):
    """The Debian Python of ``root``, as "3.13"."""
    names = sorted((p.name for p in (root / "usr" / "lib").glob("python3.*") if p.is_dir()),
                   key=lambda name: tuple(int(n) for n in name[len("python"):].split(".")))
    return names[-1][len("python"):]


def trim(root):
    """Leave out of a root what no test and no image reads: apt's caches and lists, docs, man pages, locales, logs."""
    for junk in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale",
                 "var/log", "usr/share/info"):
        shutil.rmtree(root / junk, ignore_errors=True)
        (root / junk).mkdir(parents=True, exist_ok=True)
