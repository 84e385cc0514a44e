# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What one build is: the frozen, validated BuildSpec and its parts, and the constants they name.

spec_build.build_spec makes a BuildSpec from the module's parameters (spec/checks.py checks each option);
nothing else makes one. Every field is given there: the defaults of the options are written once, in the
module's argument spec (options/build.py).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.git_url import GitRemote
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply.steps import Sbom, Signing, SupplyOnly
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference

WORKSPACE = '/workspace'
SOURCE_DIR = WORKSPACE + '/src'
# Where the export container finds the tarball Kaniko wrote (tarball.dest), or the claim's folder (tarball.pvc).
OUT_DIR = '/kiln/out'
IMAGE_TAR = 'image.tar'

# Longest name prefix: generateName '<name>-auth-' plus the 5 characters the API
# server appends must still fit in a 63 character label.
NAME_LENGTH_MAX = 52

RESERVED_POD_LABELS = ('app.kubernetes.io/managed-by', 'app.kubernetes.io/name')

# Image label that carries the build key (see identity/build_key.py); only the module sets it.
BUILD_KEY_LABEL = 'io.kiln.build-key'
REVISION_LABEL = 'org.opencontainers.image.revision'

CACHE_AUTO = 'auto'


@dataclass(frozen=True)
class GitSource:
    repo: GitRemote  # option git.repo, parsed (spec/git_url.py)
    version: str
    depth: int
    submodules: bool
    secret: Optional[str] = None
    # The commit git.version resolved to before the build, when it could be resolved;
    # the clone checks that it builds this very commit.
    commit: Optional[str] = None


@dataclass(frozen=True)
class LocalContext:
    """A build context packed on the module's host and sent into the pod (option local_context)."""

    path: str
    max_size: int
    # The packed tar, once the runner made it: its size in bytes and sha256 (hex).
    size: Optional[int] = None
    sha256: Optional[str] = None


@dataclass(frozen=True)
class Tarball:
    """Where the image goes as a tarball instead of a registry (option tarball): dest, or pvc and path."""

    dest: Optional[str] = None
    pvc: Optional[str] = None
    path: Optional[str] = None

    @property
    def tar_path(self) -> str:
        """Where Kaniko writes the tarball in its container: on the claim under a temporary name until it is whole."""
        if self.pvc:

            return posixpath.join(OUT_DIR, partial_name(cast(str, self.path)))  # pvc comes with path
        return posixpath.join(OUT_DIR, IMAGE_TAR)


def partial_name(path: str) -> str:
    """The name the tarball has on the claim until the module checked it: '.<name>.kiln-partial'."""
    return '.{0}.kiln-partial'.format(posixpath.basename(path))


@dataclass(frozen=True)
class RegistryCredential:
    server: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RegistryCA:
    """The CA a registry's certificate is checked against: key ``key`` of a Secret or a ConfigMap."""
    registry: str
    kind: str  # 'Secret' or 'ConfigMap'
    name: str
    key: str

    @property
    def source(self) -> str:
        """The option that names the object, as messages name it: 'secret' or 'config_map'."""
        return 'secret' if self.kind == 'Secret' else 'config_map'


@dataclass(frozen=True)
class BuildSecret:
    """Key ``key`` of Secret ``secret``, which a RUN --mount=type=secret,id=<id> of the Dockerfile reads
    (option build_secrets). Names only: the value stays in the cluster."""
    id: str
    secret: str
    key: str


@dataclass(frozen=True)
class PodOptions:
    labels: Tuple[Tuple[str, str], ...] = ()
    annotations: Tuple[Tuple[str, str], ...] = ()
    requests: Tuple[Tuple[str, str], ...] = ()
    limits: Tuple[Tuple[str, str], ...] = ()
    node_selector: Tuple[Tuple[str, str], ...] = ()
    tolerations: Tuple[Dict[str, Any], ...] = ()
    affinity: Optional[Dict[str, Any]] = None
    service_account: Optional[str] = None
    image_pull_secrets: Tuple[str, ...] = ()
    priority_class: Optional[str] = None


@dataclass(frozen=True)
class BuildSpec:
    namespace: str
    git: Optional[GitSource]
    local: Optional[LocalContext]
    tarball: Optional[Tarball]
    name: str
    context_sub_path: str
    dockerfile: str
    destinations: Tuple[str, ...]
    # The destinations parsed, in the same order: what the registry lookup and the cache repository use.
    destination_refs: Tuple[ImageReference, ...]
    build_args: Tuple[Tuple[str, str], ...]
    target: Optional[str]
    labels: Tuple[Tuple[str, str], ...]
    platform: Optional[str]
    # Option platforms: a build of each, then an index (spec/platforms.py, run/multiarch.py); empty for one platform.
    platforms: Tuple[str, ...]
    cross_build: bool
    insecure: bool
    skip_tls_verify: bool
    insecure_registries: Tuple[str, ...]
    registry_mirrors: Tuple[str, ...]
    push: bool
    extra_args: Tuple[str, ...]
    cache: bool
    cache_repo: Optional[str]
    cache_ttl: Optional[str]
    registry_secret: Optional[str]
    registry_auth: Tuple[RegistryCredential, ...]
    registry_ca: Tuple[RegistryCA, ...]
    build_secrets: Tuple[BuildSecret, ...]
    # Options sign and sbom: the steps after Kaniko in the pod (supply/steps.py).
    sign: Optional[Signing]
    sbom: Optional[Sbom]
    executor_image: str
    git_image: str
    cosign_image: str
    syft_image: str
    image_pull_policy: str
    pod: PodOptions
    timeout: int
    keep_pod: str
    unschedulable_timeout: int
    log_lines: int
    log_path: Optional[str]
    force: bool
    # Times a build whose pod was lost through no fault of its own runs again as a new pod (pod/disruption.py).
    retries: int
    # Set (run/prepare.py) when the registry holds this very build but lacks its signature or SBOM: the pod then
    # only adds those.
    supply_only: Optional[SupplyOnly] = None
    # Set (run/lifecycle.py) when the build runs again: which pod of the build this is (1 for the first), and the
    # nodes that were lost under the ones before, which the new pod keeps off.
    attempt: int = 1
    avoid_nodes: Tuple[str, ...] = ()
    # A platform's build of a build of platforms (spec/platforms.py): the destinations of its group, whose indexes
    # list its image once its per-platform tags are deleted (identity/decide.py looks there then); else empty.
    index_refs: Tuple[ImageReference, ...] = ()

    @property
    def context_dir(self) -> str:
        """The build context inside the pod."""
        return posixpath.join(SOURCE_DIR, self.context_sub_path) if self.context_sub_path else SOURCE_DIR

    @property
    def dockerfile_path(self) -> str:
        """The Dockerfile inside the pod (absolute)."""
        return posixpath.join(self.context_dir, self.dockerfile)
