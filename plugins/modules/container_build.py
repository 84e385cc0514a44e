#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_build
short_description: Build a container image with Kaniko in a local podman container, no cluster
version_added: 0.2.0
description:
  - Builds a container image with the Kaniko executor in a container of C(podman) on the host that runs the module,
    and pushes it. The same contract as M(kiln.kaniko.build) without a cluster, for a CI runner, an AWX host or a
    laptop that has podman.
  - The source is cloned on the host, with the clone script of M(kiln.kaniko.build)'s pod and C(git), into a private
    temporary directory (O(git)), or is a directory of the host (O(local_context)), packed as C(.dockerignore) says and
    unpacked into that directory. It is mounted read-only into the container.
  - The options, their checks, the build key, the skip of builds whose image the registry already holds
    (C(changed=false)), the digest, the classification of failures (exit code, C(OOMKilled), the telling log line and
    a hint) and the result keys are those of M(kiln.kaniko.build); a build key is the same for both modules, so an
    image one built is skipped by the other.
  - The container has the privileges of the Kaniko container of the build pod and no more, with every other
    capability dropped, C(no-new-privileges) and podman's default seccomp profile, never C(--privileged). Registry
    credentials go into a C(config.json) (mode 0600) of the private directory, mounted read-only at
    C(/kaniko/.docker); none reaches an argument, an environment value, the result or the logs.
  - The container is named V(<name>-) and six hexadecimal digits and labelled C(kiln.kaniko/run) and
    C(app.kubernetes.io/managed-by=kiln.kaniko). It is removed when the build is over, whatever its end, and on
    SIGINT and SIGTERM (Ctrl-C, a cancelled job), with the private directory.
  - Before anything is made, the module asks podman whether it can run the build here (C(podman --version), and for
    O(network=slirp4netns) C(podman info), which names the slirp4netns podman would use), and fails at once when
    podman is missing, older than 4.0, or finds no slirp4netns. A container podman cannot create or start fails the
    task as soon as C(podman create) or C(podman start) has ended, with podman's own words, the container's name and a
    hint in the message and RV(hint); it is removed, with the private directory.
author:
  - kiln.kaniko maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kiln.kaniko.build_options
  - kiln.kaniko.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode the options are checked, the registry is asked whether it holds the build already, and a build
        that would run returns the podman command in RV(command), with a change. Nothing is cloned or run.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - A second run with the same source and options finds the image in the registry by its build key and
        reports no change; see M(kiln.kaniko.build) for when a build runs anyway.
requirements:
  - podman 4.0 or later (rootful or rootless) on the host that runs the module, with the executor image or access to
    its registry. 4.0 brought C(podman rm --time), with which the module removes a build container at once; Debian
    bookworm's podman 4.3.1 is enough.
  - slirp4netns on that host for O(network=slirp4netns), the default (Debian and Ubuntu recommend it with podman
    but do not require it, so C(apt-get install --no-install-recommends podman) leaves it out).
  - git and /bin/sh on that host, for O(git)
options:
  name:
    description:
      - Prefix of the build container's name; the container is named V(<name>-) and six hexadecimal digits.
      - At most 52 lower-case letters, digits and V(-).
    type: str
    default: kiln-build
  git:
    description:
      - The source to build, a git repository that the host running the module clones.
      - Mutually exclusive with O(local_context).
    type: dict
    suboptions:
      repo:
        description:
          - URL of the git repository, V(https://), V(http://), V(git://), V(ssh://) or scp-like V(user@host:path).
            Local paths and other schemes (V(file://), V(ftp://)) are refused.
          - Must not carry a password or token; give O(git.token) or O(git.password).
        type: str
        required: true
      version:
        description:
          - Branch, tag or commit SHA to build. V(HEAD) is the remote's default branch.
          - A commit the server will not serve directly (an abbreviated SHA, or one not at a branch tip on
            servers that refuse such requests) is found by fetching all branches and tags.
        type: str
        default: HEAD
      depth:
        description:
          - Number of commits to fetch; V(0) fetches the whole history.
        type: int
        default: 1
      submodules:
        description:
          - Whether to check out the submodules too (recursively).
        type: bool
        default: false
      token:
        description:
          - A token for HTTPS, sent with the user name C(x-access-token), or O(git.username) if given.
          - Offered only to the host of O(git.repo), through a credential helper that reads a 0600 file.
        type: str
      username:
        description:
          - User name for HTTPS, with O(git.password) or O(git.token).
        type: str
      password:
        description:
          - Password for HTTPS basic authentication, with O(git.username).
        type: str
      key_file:
        description:
          - Private SSH key file on the host that runs the module, for V(ssh://) and scp-like URLs, with
            O(git.known_hosts_file). Hosts are always checked.
        type: path
      known_hosts_file:
        description:
          - The server's host keys (as C(ssh-keyscan) prints them), with O(git.key_file).
        type: path
  tarball:
    description:
      - Write the image as a tarball instead of pushing it (C(--no-push --tar-path)), in the format of
        C(docker save) (C(docker load), C(skopeo copy docker-archive:FILE ...), C(podman load)).
      - The image is named by O(destinations) inside the tarball; at least one is needed.
      - RV(tarball) returns where it is, its size and sha256; RV(digest) is the digest Kaniko computed, that of
        the image as Kaniko would push it.
      - A build whose O(tarball.dest) already holds an image of the same build key is skipped (without a change).
    type: dict
    suboptions:
      dest:
        description:
          - Absolute path of the file on the host that runs the module. Kaniko writes the tarball into the private
            directory; the module copies it next to O(tarball.dest) and renames it, so a failed build leaves
            O(tarball.dest) as it was.
        type: path
        required: true
  registry_ca:
    description:
      - CAs to check the certificates of registries served over TLS with a private CA, one per registry, for
        pushing to them and pulling base images from them (C(--registry-certificate)), without O(skip_tls_verify).
      - Each file is copied into the private directory and mounted read-only into the container. The module reads
        it too, to look for an existing image in that registry (see RV(skip_check)).
      - Kaniko trusts the CA besides the system's CAs, for that registry only.
    type: list
    elements: dict
    suboptions:
      registry:
        description:
          - The registry, as V(host) or V(host:port) without a scheme or a path, as it appears in O(destinations)
            and in C(FROM), such as V(registry.example.com:5000).
        type: str
        required: true
      path:
        description:
          - The PEM file of the CA (one or more certificates) on the host that runs the module.
        type: path
        required: true
  image_pull_policy:
    description:
      - Whether podman pulls O(executor_image) (C(--pull)); V(Never) uses only what is in its image store.
    type: str
    choices: [Always, IfNotPresent, Never]
    default: IfNotPresent
  network:
    description:
      - The network of the container, as C(podman --network) takes it.
      - V(slirp4netns) gives the build a network namespace of its own, as a pod has, through a user-mode network
        stack that reaches what the host reaches and changes no firewall rule of the host; it needs the
        C(slirp4netns) program (package slirp4netns). V(host) shares the host's network and needs no helper.
    type: str
    default: slirp4netns
  timeout:
    description:
      - Seconds the build may take, from the start of the clone (or of the unpacking of O(local_context)). Then
        the container is removed and the task fails.
    type: int
    default: 1800
notes:
  - The executor image of the lab is loaded with C(python3 tests/lab/lab.py podman); elsewhere podman pulls it.
seealso:
  - module: kiln.kaniko.build
"""

EXAMPLES = r"""
- name: Build rng on this host and push it
  kiln.kaniko.container_build:
    git:
      repo: https://github.com/jpetazzo/container.training
      version: main
    context_sub_path: dockercoins/rng
    destinations:
      - registry.example.com:5000/dockercoins/rng:1.0
    registry_auth:
      - server: registry.example.com:5000
        username: ci
        password: "{{ registry_password }}"
  register: rng

- name: Build this playbook's folder into a tarball, with the executor image podman already holds
  kiln.kaniko.container_build:
    local_context:
      path: "{{ playbook_dir }}/app"
    destinations: [app:1.0]
    tarball:
      dest: /tmp/app.tar
    image_pull_policy: Never
"""

RETURN = r"""
container_name:
  description: The name of the build container (removed when the build is over).
  returned: when the build ran
  type: str
  sample: kiln-build-3fa2c1
digest:
  description: The image digest, as Kaniko pushed it.
  returned: success
  type: str
  sample: sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1
image:
  description: The first destination's repository with the digest, to deploy by digest.
  returned: success, when pushed
  type: str
  sample: registry:5000/rng@sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1
images:
  description: Every destination's repository with the digest, as Kaniko reported them.
  returned: success
  type: list
  elements: str
  sample:
    - registry:5000/rng@sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1
commit:
  description: The commit SHA that was built (or, when skipped or in check mode, that the version resolved to).
  returned: when the clone finished, or the version was resolved
  type: str
  sample: 5d1bd4d9f8d2b2c34cbdc1a3e6d2c0b6fbbd2f1a
duration:
  description: Seconds from the start of the build to its end.
  returned: when the build ran
  type: float
  sample: 42.7
rc:
  description: Exit code of the step the build ended in; Kaniko exits with the exit code of a failing C(RUN) step.
  returned: when a step ended
  type: int
  sample: 0
container:
  description: The step the build ended (or failed) in, V(clone) (or V(receive) with O(local_context)) or V(kaniko).
  returned: when the build ran
  type: str
  sample: kaniko
reason:
  description:
    - Why the build ended, such as V(Completed), V(Error), V(OOMKilled), V(ErrImageNeverPull), V(CreateContainerError)
      and V(RunContainerError) (podman could not create or start the container) or V(Timeout).
    - Or why it could not begin, before anything was made, V(PodmanNotFound), V(PodmanTooOld), V(PodmanFailed) or
      V(NetworkHelperNotFound) (podman finds no slirp4netns for O(network=slirp4netns)).
  returned: when the build ran, or podman could not run it
  type: str
  sample: Completed
hint:
  description: What to look at to fix a failure.
  returned: failure
  type: str
  sample: "the build ran out of memory: add --compressed-caching=false to extra_args, or give the host more free memory"
log_lines:
  description: The last O(log_lines) lines of the log, the clone's followed by Kaniko's.
  returned: when the build ran
  type: list
  elements: str
  sample:
    - "INFO[0013] Pushed registry:5000/rng@sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1"
build_key:
  description: The build key, written into the image as the label C(io.kiln.build-key), as M(kiln.kaniko.build) makes it.
  returned: when O(git.version) could be resolved, or O(local_context) packed
  type: str
  sample: sha256:9f2c1b0e6a8d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b
local_context:
  description: The local build context that was packed, its size in bytes and the sha256 of its tar.
  returned: with O(local_context), when it could be packed
  type: dict
  sample:
    path: /home/ci/app
    size: 52439040
    sha256: 1f0e3dad99908345f7439f8ffabdffc4c6f2c1e8b4c2d7a1e0f9b8a7c6d5e4f3
tarball:
  description: Where the image tarball is (C(path)), its C(size) in bytes and C(sha256).
  returned: with O(tarball), when the build succeeded or was skipped
  type: dict
  sample:
    path: /tmp/app.tar
    size: 7865344
    sha256: 9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab
skip_check:
  description: What the look for an existing image found, V(found), V(missing), V(forced) or V(unavailable).
  returned: when the options are valid
  type: str
  sample: found
skip_detail:
  description: The details of RV(skip_check).
  returned: when the options are valid
  type: str
  sample: "registry:5000/rng:latest does not exist yet"
skipped_reason:
  description: Why no container was run; the build's image is already in the registry.
  returned: when the build was skipped
  type: str
  sample: registry:5000/rng:latest already holds an image built from commit 5d1bd4d9 with the same build key
cache_repo:
  description: Where Kaniko caches layers, when the cache is on (see O(cache)).
  returned: when the options are valid
  type: str
  sample: registry:5000/rng/cache
command:
  description: The podman command that would create the build container (no credential is in it).
  returned: check mode
  type: list
  elements: str
  sample: [/usr/bin/podman, create, --name=kiln-build-<generated>, --cap-drop=ALL]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.edge import run
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.backend import PodmanBackend
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options.container_build import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    run(module, PodmanBackend())


if __name__ == '__main__':
    main()
