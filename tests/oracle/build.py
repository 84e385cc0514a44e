#!/usr/bin/env python3
"""Build the oracle: main.go against the pinned moby/patternmatcher and distribution/reference.

The binary lands in $KILN_CACHE/oracle/<sha256 of go.mod, go.sum and main.go>/oracle and is reused
while those three files stay the same. The Go toolchain is the lab's (tests/lab/kilnlab/build.py
go_binary(): the machine's Go if it is the pinned minor version, else the toolchain module from the
Go module proxy, cached). go.sum is used as committed (-mod=readonly): a build never rewrites it.

Prints the binary's path; exits nonzero when it cannot be built.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lab"))

from kilnlab.build import go_binary, go_env  # noqa: E402
from kilnlab.config import CACHE  # noqa: E402

SOURCES = ("go.mod", "go.sum", "main.go")


def source_hash():
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (HERE / name).read_bytes() + b"\0")
    return digest.hexdigest()


def oracle_path():
    return CACHE / "oracle" / source_hash() / "oracle"


def build():
    """The oracle's path, built first when it is not in the cache."""
    target = oracle_path()
    if target.exists():
        return target
    started = time.monotonic()
    go = go_binary()
    env = dict(go_env(), GOFLAGS="-mod=readonly -buildvcs=false")
    tmp = target.parent.with_name(target.parent.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run([go, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(tmp / "oracle"), "."],
                   cwd=str(HERE), env=env, check=True)
    shutil.rmtree(target.parent, ignore_errors=True)
    os.replace(tmp, target.parent)
    print("oracle: built in %.1fs" % (time.monotonic() - started), file=sys.stderr)
    return target


def main():
    try:
        print(build())
    except (OSError, subprocess.CalledProcessError) as exc:
        print("oracle: cannot build: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
