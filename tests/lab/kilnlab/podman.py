"""The lab's executor image in podman's store, for kiln.kaniko.container_build: loaded from the lab's own
archive (build.py), under the name the module defaults to, so that nothing is pulled from the Internet."""

import shutil
import subprocess

from . import build
from .config import IMAGES, VERSIONS

# The name the module's executor_image defaults to (plugins/module_utils/_kaniko/options/build.py).
EXECUTOR = "ghcr.io/osscontainertools/kaniko:" + VERSIONS["KANIKO_VERSION"]


def load():
    podman = shutil.which("podman")
    if podman is None:
        print("lab podman: podman is not installed (python3 tests/lab/lab.py deps installs it)")
        return 1
    if subprocess.run([podman, "image", "exists", EXECUTOR]).returncode == 0:
        return 0
    archive = IMAGES / ("kaniko-%s-f%s.oci.tar" % (VERSIONS["KANIKO_VERSION"], build.IMAGE_FORMAT))
    if not archive.exists():
        print("lab podman: %s is missing (python3 tests/lab/lab.py build makes it)" % archive)
        return 1
    # The archive's index names the image by its tag; podman names it by the annotation, EXECUTOR.
    source = "oci-archive:%s:%s" % (archive, VERSIONS["KANIKO_VERSION"])
    subprocess.run([podman, "pull", "--quiet", source], check=True, stdout=subprocess.DEVNULL)
    if subprocess.run([podman, "image", "exists", EXECUTOR]).returncode != 0:
        subprocess.run([podman, "tag", source, EXECUTOR], check=True)
    print("lab podman: %s loaded from %s" % (EXECUTOR, archive.name))
    return 0
