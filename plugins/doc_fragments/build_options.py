# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of a build that kiln.kaniko.build and kiln.kaniko.container_build share, with the same meaning.

Paired with plugins/module_utils/_kaniko/options/container_build.py, which takes these options' argument spec
from options/build.py as it is (SHARED, and registry_auth). The options whose meaning differs between the
two modules (name, git, tarball, registry_ca, image_pull_policy, timeout) are documented by each module itself;
tests/unit/plugins/doc_fragments/test_build_options.py holds the two to this.
"""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  local_context:
    description:
      - The source to build, a directory on the host that runs the module (not necessarily the controller).
      - The module packs O(local_context.path) (and O(context_sub_path) in it) into a tar on that host, leaving out
        what the C(.dockerignore) file at the top of the build context excludes, with Docker's rules
        (C(*), C(**), C(?), C(!) exceptions, C(#) comments). The Dockerfile and C(.dockerignore) are always in it.
        Entries are sorted and their owners and times fixed, so that the same files give the same tar.
      - The tar is unpacked where Kaniko reads the build context; then Kaniko builds as from a clone.
      - The build key is made from the sha256 of the tar instead of a commit (see RV(build_key)); RV(local_context)
        returns it.
      - Mutually exclusive with O(git).
    type: dict
    suboptions:
      path:
        description:
          - Absolute path of the directory, such as V({{ playbook_dir }}/app) when the module runs on the controller.
        type: path
        required: true
      max_size:
        description:
          - The largest tar the module packs, in bytes or as a quantity such as V(200Mi), V(1Gi) or V(500M).
          - A bigger context fails before anything is created, with its size; leave big files out with
            C(.dockerignore), or raise this.
        type: raw
        default: 200Mi
  context_sub_path:
    description:
      - Directory of the build context inside the repository (or inside O(local_context.path)); empty for the top.
      - Must stay inside the repository (or O(local_context.path)).
    type: str
    default: ''
  dockerfile:
    description:
      - Path of the Dockerfile, relative to the build context. Must stay inside the context.
    type: str
    default: Dockerfile
  destinations:
    description:
      - Image references to push to, such as V(registry:5000/team/app:1.0). At least one is required unless
        O(push=false).
      - Each is checked, before anything is created, against the image reference grammar of
        distribution/reference, as Docker and containerd read it (lower-case repository path of at most
        255 characters, ASCII tag of at most 128 characters, no digest). The first component names the
        registry when it holds a dot, a colon or an upper-case letter, or is V(localhost); otherwise the
        image goes to Docker Hub, where a one-component name is under V(library/).
    type: list
    elements: str
  build_args:
    description:
      - Build arguments (C(ARG) values), passed with C(--build-arg).
      - They appear in Kaniko's arguments (those of the build pod or container) and in the image history; never
        put secrets here.
    type: dict
  target:
    description:
      - The stage of a multi-stage Dockerfile to build.
    type: str
  labels:
    description:
      - Labels to set on the image (C(--label)).
      - Not C(io.kiln.build-key), which the module sets (see RV(build_key)).
    type: dict
  platform:
    description:
      - Platform to build for, as V(os/arch) or V(os/arch/variant) (C(--custom-platform)), such as
        V(linux/arm64). Kaniko does not emulate other architectures, so the node or host that runs it must be
        able to run that platform's programs.
    type: str
  insecure:
    description:
      - Push to plain HTTP registries (C(--insecure)), such as a self-hosted V(registry:5000).
    type: bool
    default: false
  skip_tls_verify:
    description:
      - Push to registries without checking their certificates (C(--skip-tls-verify)).
    type: bool
    default: false
  insecure_registries:
    description:
      - Registries (V(host:port)) to use over plain HTTP (C(--insecure-registry)).
    type: list
    elements: str
  registry_mirrors:
    description:
      - Mirrors to pull Docker Hub images from (C(--registry-mirror)), such as V(mirror.gcr.io).
    type: list
    elements: str
  push:
    description:
      - Whether to push the image. With V(false), the image is only built (C(--no-push)).
      - When not set, V(true), and V(false) with O(tarball); O(push=true) with O(tarball) is refused.
    type: bool
  extra_args:
    description:
      - More Kaniko flags, such as V(--compressed-caching=false), V(--snapshot-mode=redo) or V(--push-retry=3).
      - Flags that options of this module set (C(--destination), C(--context), C(--dockerfile), C(--build-arg),
        C(--digest-file), C(--image-name-with-digest-file), ...) are refused; use the options.
    type: list
    elements: str
  cache:
    description:
      - Whether Kaniko caches layers in a registry (C(--cache)), V(true), V(false) or V(auto).
      - V(auto) is on when O(cache_repo) is given, or when the build pushes to a self-hosted registry, the
        registry of the first destination being one that is listed in O(insecure_registries), pushed to over
        plain HTTP (O(insecure=true)), a private or loopback address, or a name that only resolves in a cluster
        or on a host (without a dot, V(localhost), V(*.svc), V(*.cluster.local)). Public registries are left
        alone because the cache is a repository of its own there, which Docker Hub does not allow
        (V(user/app/cache) has three levels) and others (ECR) need created first.
      - The layers go to O(cache_repo), by default the first destination's repository with C(/cache)
        appended, such as V(registry:5000/team/app/cache) (V(docker.io/library/app/cache) for V(app) on
        Docker Hub); RV(cache_repo) returns it.
    type: raw
    default: auto
  cache_repo:
    description:
      - Repository for the layer cache (C(--cache-repo)), such as V(registry:5000/team/cache).
        Without it the first destination's repository with C(/cache) appended.
      - Turns O(cache=auto) on; refused with O(cache=false).
    type: str
  cache_ttl:
    description:
      - How long cached layers stay valid (C(--cache-ttl)), as a duration such as V(336h) (Kaniko's default).
      - Refused with O(cache=false); ignored when O(cache=auto) stays off.
    type: str
  registry_auth:
    description:
      - Registry credentials to push with; Kaniko pulls base images with them too. They reach Kaniko as the
        C(config.json) of Docker in C(/kaniko/.docker), a file; none reaches an argument, an environment value,
        the result or the logs.
      - The host that runs the module reads the registries of O(destinations) with them too, to look for an
        existing image (see RV(skip_check)).
    type: list
    elements: dict
    suboptions:
      server:
        description:
          - The registry, as in C(config.json) of Docker, such as V(registry.example.com:5000) or V(ghcr.io).
        type: str
        required: true
      username:
        description:
          - User name.
        type: str
        required: true
      password:
        description:
          - Password or token.
        type: str
        required: true
  executor_image:
    description:
      - The Kaniko executor image.
      - The default is the maintained fork of Kaniko. The last release of the original project,
        V(gcr.io/kaniko-project/executor:v1.24.0), works too.
    type: str
    default: ghcr.io/osscontainertools/kaniko:v1.26.3
  log_lines:
    description:
      - How many of the last log lines to return in RV(log_lines).
    type: int
    default: 50
  log_path:
    description:
      - File on the host running the module to write the whole log to, the clone's and then Kaniko's.
      - It is streamed to the file, never held in memory whole.
    type: path
  force:
    description:
      - Build even when the destinations already hold an image with the same build key.
    type: bool
    default: false
"""
