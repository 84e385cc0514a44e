#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: build
short_description: Build a container image in Kubernetes with Kaniko
version_added: 0.1.0
description:
  - Builds a container image from a git repository in a pod of the cluster, with Kaniko, and pushes it.
  - An init container clones O(git.repo) at O(git.version) into an C(emptyDir); Kaniko builds O(dockerfile)
    in O(context_sub_path) and pushes to O(destinations). No privileged container, no host path.
  - The module watches the pod and returns as soon as the build succeeded or failed, with the image digest,
    the commit that was built, the last lines of the log and, on failure, which container failed, how, and a hint.
    Failures that would otherwise only end in a timeout (image pull errors, missing Secrets, a pod no node
    takes) end the task early.
  - Registry credentials come from O(registry_secret) or O(registry_auth) and are mounted as a file (those of
    O(registry_auth) through a short-lived Secret owned by the build pod, which the module deletes as soon as the
    build is over, whatever O(keep_pod) says); git credentials are read from O(git.secret) inside the pod; the
    secrets a Dockerfile reads with C(RUN --mount=type=secret) are keys of Secrets mounted as files
    (O(build_secrets)). None reaches the pod's arguments, its environment values, the task result or the logs.
  - Before it creates a pod, the module resolves O(git.version) to a commit with C(git ls-remote) and computes a
    build key from the commit and the options that decide the image's content (see RV(build_key)). The image is
    labelled with it (C(io.kiln.build-key)) and with the commit (C(org.opencontainers.image.revision)). When every
    destination already holds an image with that key, no pod is created, the task reports no change and returns
    the existing digest and RV(skipped_reason). O(force=true) builds anyway.
  - With O(builds), a list of builds runs as concurrent pods, at most O(max_concurrent) at a time, followed by one
    watch per namespace; each gets the result a single build would return, in RV(results).
  - Kaniko's layer cache is on by default for self-hosted registries (see O(cache)).
  - Instead of O(git), O(local_context) builds a directory of the host that runs the module. The module packs it (as
    C(.dockerignore) says) and sends it into the pod through the API server (C(pods/exec)); the pod's init container
    C(receive) (O(git_image)) waits until the module, through an exec, has unpacked the tar into it. The build key
    is then made from the hash of what it packed, so an unchanged directory is skipped like an unchanged commit.
  - With O(tarball), the image is not pushed but written as a tarball (C(docker load), C(skopeo copy
    docker-archive:...)), brought back to the host that runs the module (O(tarball.dest)) or left in a
    PersistentVolumeClaim (O(tarball.pvc)).
author:
  - kiln.kaniko maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kiln.kaniko.k8s_auth
  - kiln.kaniko.build_options
  - kiln.kaniko.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode the options and the Secrets they name are checked, the registry is asked whether it
        holds the build already, and a build that would run returns the pod in RV(pod), with a change; a build
        that would be skipped returns what a skip returns, without a change. Nothing is created.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - A second run with the same source and options finds the image in the registry by its build key and
        reports no change.
      - A build runs (and reports a change) when the module host cannot resolve O(git.version) (no C(git), the
        repository unreachable, an abbreviated commit) or cannot read the destinations from the registry,
        when O(push=false), and with O(force=true); RV(skip_check) and RV(skip_detail) say why.
requirements:
  - kubernetes >= 24.2.0 (Python library)
  - git, on the host that runs the module, to skip builds whose image exists (optional)
  - For O(local_context), O(tarball) and O(sbom) without O(sign), the permission to create C(pods/exec) in
    O(namespace)
options:
  namespace:
    description:
      - Namespace of the build pod. It must exist.
    type: str
    required: true
  name:
    description:
      - Prefix of the build pod's name; the pod is named V(<name>-) and five random characters.
      - At most 52 lower-case letters, digits and V(-).
    type: str
    default: kiln-build
  git:
    description:
      - The source to build, a git repository that the cluster clones.
      - Required unless O(local_context) or O(builds) is given; then it is the default of every item, merged key by key.
      - Mutually exclusive with O(local_context).
    type: dict
    suboptions:
      repo:
        description:
          - URL of the git repository, as the cluster reaches it.
          - V(https://), V(http://), V(git://), V(ssh://) or scp-like V(user@host:path). Local paths and
            other schemes (V(file://), V(ftp://)) cannot be cloned in the cluster.
          - Must not carry a password or token; put credentials into O(git.secret).
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
      secret:
        description:
          - Name of a Secret in O(namespace) with the git credentials. What it holds decides how they are used.
          - C(ssh-privatekey) and C(known_hosts) (the server's host keys, as C(ssh-keyscan) prints them)
            for V(ssh://) and scp-like URLs. Hosts are always checked; a key without C(known_hosts) fails.
          - C(token) for HTTPS, sent with the user name C(x-access-token), or the key C(username) if present.
          - C(username) and C(password) for HTTPS basic authentication.
          - The credentials are offered only to the host of O(git.repo).
        type: str
  platforms:
    description:
      - Instead of O(platform), build one image per platform and push an image index of them (an OCI index, or a
        Docker manifest list when the images are of Docker's media type) to every destination, such as
        V([linux/amd64, linux/arm64]).
      - One pod per platform, run side by side within O(max_concurrent). Each pushes its image to a tag of its
        own, C(<tag>-<os>-<arch>[-<variant>]) (V(v1-linux-arm64) for V(registry:5000/app:v1)), because Kaniko
        pushes only to tags; the module then writes the index under the destination's tag through the registry
        API. Once the index is written, the module deletes the per-platform tags where the registry deletes tags
        (distribution 3 with deletes enabled, as the C(kiln.kaniko.registry) role deploys it). The images stay,
        listed by digest in the index, which keeps them through the registry's garbage collection. Only tags are
        deleted, never a manifest by digest, and only a tag that still names the image the index lists. Where the
        registry keeps tags (distribution 2.x deletes by digest only; deletes disabled; credentials that may not
        delete), they stay; RV(platform_tags) says which and why.
      - Each pod is pinned to nodes of its platform (C(kubernetes.io/os) and C(kubernetes.io/arch) added to
        O(pod.node_selector)) unless O(cross_build) is true. A platform that no schedulable node can take fails
        the task before anything is created (this needs C(list) on C(nodes); without it the module warns, and
        O(unschedulable_timeout) ends such a build).
      - When one platform fails, the task fails naming it, the pods of the others are deleted (or not started),
        and no index is pushed. The failed platform's pod follows O(keep_pod).
      - The build is skipped (C(changed=false)) when every destination holds an index that lists, for every
        platform, the image of the same build key; when one platform's image is missing or outdated, only that
        platform builds, and the index is written again. Each platform has its layer cache in a repository of its
        own (O(cache_repo) with C(-<os>-<arch>) added).
      - Not with O(platform), O(tarball) or O(push=false).
    type: list
    elements: str
  cross_build:
    description:
      - With O(platforms), let every platform build on any node (no C(kubernetes.io/arch) pin), Kaniko being told
        the target with C(--custom-platform).
      - Safe when no C(RUN) step executes a program of the target architecture, for instance a Dockerfile that
        compiles in a C(FROM --platform=$BUILDPLATFORM) stage for C($TARGETARCH) and copies the result into the
        final stage, or that only copies files. Nodes with binfmt_misc and QEMU registered can also run foreign
        C(RUN) steps, slowly.
    type: bool
    default: false
  tarball:
    description:
      - Write the image as a tarball instead of pushing it (C(--no-push --tar-path)), in the format of
        C(docker save) (C(docker load), C(skopeo copy docker-archive:FILE ...), C(podman load)).
      - The image is named by O(destinations) inside the tarball; at least one is needed.
      - Give O(tarball.dest), or O(tarball.pvc) with O(tarball.path).
      - RV(tarball) returns where it is, its size and sha256; RV(digest) is the digest Kaniko computed, that of
        the image as Kaniko would push it.
      - With O(tarball.dest), a build whose O(tarball.dest) already holds an image of the same build key is
        skipped (without a change); with O(tarball.pvc) the build always runs.
    type: dict
    suboptions:
      dest:
        description:
          - Absolute path of the file on the host that runs the module.
          - A container C(export) (O(git_image)) keeps the tarball in the pod until the module has copied it,
            through an exec, into a temporary file in the same directory, checked its size and renamed it to
            O(tarball.dest). A build that fails leaves O(tarball.dest) as it was.
        type: path
      pvc:
        description:
          - Name of a PersistentVolumeClaim in O(namespace) to write the tarball to, at O(tarball.path).
          - Kaniko writes it under a temporary name; the container C(export) checks it and renames it, or removes it
            when the build failed.
        type: str
      path:
        description:
          - The file in the claim of O(tarball.pvc), such as V(images/app.tar); missing folders are made.
        type: str
  registry_secret:
    description:
      - Name of a Secret in O(namespace) with registry credentials, mounted at C(/kaniko/.docker/config.json).
      - Either of type C(kubernetes.io/dockerconfigjson) (key C(.dockerconfigjson)), as
        C(kubectl create secret docker-registry) makes, or an C(Opaque) Secret with the key C(config.json).
      - Mutually exclusive with O(registry_auth).
    type: str
  registry_ca:
    description:
      - CAs to check the certificates of registries served over TLS with a private CA, one per registry, for
        pushing to them and pulling base images from them (C(--registry-certificate)), without O(skip_tls_verify).
      - Each CA is read from a key of a Secret or a ConfigMap in O(namespace) and mounted read-only into the
        Kaniko container. The host that runs the module reads it too, through the Kubernetes API, to look for
        an existing image in that registry (see RV(skip_check)).
      - Kaniko trusts the CA besides the system's CAs, for that registry only.
      - In an item of O(builds), a list replaces this one, as lists of items do.
    type: list
    elements: dict
    suboptions:
      registry:
        description:
          - The registry, as V(host) or V(host:port) without a scheme or a path, as it appears in O(destinations)
            and in C(FROM), such as V(registry.example.com:5000).
        type: str
        required: true
      secret:
        description:
          - Name of the Secret that holds the CA. Give O(registry_ca[].secret) or O(registry_ca[].config_map).
        type: str
      config_map:
        description:
          - Name of the ConfigMap that holds the CA. Give O(registry_ca[].secret) or O(registry_ca[].config_map).
        type: str
      key:
        description:
          - The key that holds the CA, PEM-encoded (one or more certificates).
        type: str
        default: ca.crt
  build_secrets:
    description:
      - Keys of Secrets in O(namespace) that the Dockerfile reads with C(RUN --mount=type=secret,id=<id>), such as a
        token for a private package index, so that the value reaches neither a layer, a build argument nor the
        build key. In that C(RUN) step the value is the file C(/run/secrets/<id>) (or the mount's C(target)),
        which is gone after the step.
      - Each key is mounted read-only (mode C(0400)) into the Kaniko container only, not the clone container, under
        C(/kaniko/build-secrets/), which Kaniko never puts into a layer, and named by C(--secret id=<id>,src=...).
        With O(build_secrets), and only then, the Kaniko container gets C(FF_KANIKO_RUN_MOUNT_SECRET=1), without
        which Kaniko v1.26 ignores C(--mount=type=secret).
      - The option holds names only, so it has no C(no_log); the values stay in the cluster and reach no argument,
        environment variable, result, log line or event of the module.
      - Kaniko runs the C(RUN) steps in its own container, so any C(RUN) step of the Dockerfile could read every build
        secret (as it could read the registry credentials); give only secrets the Dockerfile may be trusted with.
      - The build key (RV(build_key)) holds the ids and which Secret and key feed each, never the values; a new value
        in a Secret does not rebuild an image that is already there; use O(force). Kaniko's layer cache (see O(cache))
        does not know the values either, so a cached C(RUN) step that reads a secret is not run again for a new value;
        give O(cache=false) with O(force) to run it again.
      - Needs the maintained fork of Kaniko (the default O(executor_image)); the original's
        V(gcr.io/kaniko-project/executor:v1.24.0) has no C(--secret).
      - C(--secret) in O(extra_args) is refused; so is an id given twice. Before any pod is created, the module checks
        that each Secret exists and has its key (when it may read Secrets), and fails naming the entry otherwise.
      - In an item of O(builds), a list replaces this one, as lists of items do.
    type: list
    elements: dict
    suboptions:
      id:
        description:
          - The id that C(RUN --mount=type=secret,id=<id>) names in the Dockerfile, such as V(npm_token).
          - Letters, digits, V(.), V(_) and V(-), not starting with V(.) or V(-); Kaniko's C(--secret) splits on V(,)
            and V(=), and the id names the file.
        type: str
        required: true
      secret:
        description:
          - Name of the Secret in O(namespace) that holds the value.
        type: str
        required: true
      key:
        description:
          - The key of that Secret that holds the value.
        type: str
        required: true
  sign:
    description:
      - Sign the pushed image with L(cosign,https://github.com/sigstore/cosign) in the build pod, after Kaniko, by
        digest, in the repository of every destination, with the key pair of a Secret. The signature is stored under
        cosign's legacy tag C(sha256-<hex>.sig) of the repository, with cosign 2 and with cosign 3 alike (cosign 3 is
        told so with C(--new-bundle-format=false --use-signing-config=false)), because that is what C(cosign verify) of
        both majors checks with a key alone, as in
        C(cosign verify --key cosign.pub --insecure-ignore-tlog=true <image>@<digest>).
      - The key stays in the cluster. C(cosign.key) is a file of a Secret volume of the C(sign) container only;
        C(cosign.password) reaches cosign as C(COSIGN_PASSWORD) through a C(secretKeyRef), so the pod spec holds the
        Secret's name, not the value; the module reads C(cosign.pub) only (to check signatures the registry holds).
        Neither the password nor the key reaches an argument, a result, a log line or an event.
      - Nothing is uploaded to a transparency log (C(--tlog-upload=false)), for clusters without Rekor; keyless signing
        (an OIDC token, Fulcio and Rekor) would be a member of this option beside O(sign.key_secret), and is not
        offered yet.
      - A failed signature fails the task naming the C(sign) container and the reason (a wrong C(cosign.password)
        says so); the image was pushed, and the result gives its RV(digest) with RV(signed=false). A run again
        signs it without rebuilding.
      - When the registry holds the build already (the build is skipped), the module looks for its signature by this
        key (verifying it with C(cosign.pub)) and, with O(sbom), its attestation, under cosign's legacy tags and among
        the image's OCI referrers (cosign 3's Sigstore bundles, made by another signer); when one lacks, a pod of the
        C(sbom) and C(sign) steps only adds it (C(changed=true), no rebuild); when none lacks, nothing changes.
      - With O(platforms), each platform's image is signed in its own pod.
      - Needs O(push) (not O(tarball)).
    type: dict
    suboptions:
      key_secret:
        description:
          - The Secret in O(namespace) that holds C(cosign.key), C(cosign.password) and C(cosign.pub), as
            C(cosign generate-key-pair k8s://<namespace>/<name>) writes it. The module checks that it has the three keys
            before any pod is created.
        type: str
        required: true
  sbom:
    description:
      - Make a software bill of materials of the pushed image with L(syft,https://github.com/anchore/syft) in the build
        pod, after Kaniko (the C(sbom) container), from the registry, by digest.
      - With O(sign), it is attached as a signed in-toto attestation (C(cosign attest --type spdxjson) or
        C(--type cyclonedx)) to the image in every destination's repository (the tag C(sha256-<hex>.att)), which
        C(cosign verify-attestation --type spdxjson --key cosign.pub --insecure-ignore-tlog=true) checks.
      - Without O(sign), the module attaches it unsigned, itself, as an OCI artifact that refers to the image (a
        manifest with C(subject) and C(artifactType) C(application/spdx+json) or C(application/vnd.cyclonedx+json),
        the SBOM its layer) in every destination's repository; where the registry has no OCI 1.1 referrers API it is
        listed under the fallback tag C(sha256-<hex>). C(cosign tree) (cosign 3), C(regctl artifact list) and
        C(oras discover) find it. The C(attach) container holds the SBOM beside C(sbom) until the module has read it
        through C(pods/exec) (the permission to create C(pods/exec) in O(namespace) is needed); the module pushes
        it with the credentials it reads the registry with.
      - Needs O(push) (not O(tarball)).
    type: dict
    suboptions:
      format:
        description:
          - The SBOM's format.
        type: str
        choices: [spdx-json, cyclonedx-json]
        default: spdx-json
      dest:
        description:
          - Also write the SBOM to this file on the host that runs the module, read back from the registry (with
            O(sign), the attestation's predicate). The directory must exist. Written again only when it differs,
            which counts as a change.
        type: path
  git_image:
    description:
      - The image of the clone container. It must contain C(git), C(/bin/sh) and, for SSH, C(ssh), and
        know the user 65534 (C(nobody)) in C(/etc/passwd), as Alpine-based images do.
      - Also the image of the C(receive) container (O(local_context)), which needs C(sh), C(head) and C(tar), and
        of the C(export) container (O(tarball)), which needs C(sh), C(stat), C(cat), C(sha256sum) and C(mv);
        those of BusyBox do.
    type: str
    default: docker.io/alpine/git:2.49.1
  cosign_image:
    description:
      - The image of the C(sign) container (O(sign)). It must have C(cosign) (2.6 or later, or 3) and C(sh) in its
        C(PATH), as the C(-dev) variants of cosign's images do, and run as the user 65532.
    type: str
    default: ghcr.io/sigstore/cosign/cosign:v2.6.5-dev
  syft_image:
    description:
      - The image of the C(sbom) container (O(sbom)), and of the C(attach) container beside it (O(sbom) without
        O(sign)). It must have C(syft) and C(sh) in its C(PATH), and C(cat), C(sha256sum) and C(sleep), as the
        C(-debug) variants of syft's images do.
    type: str
    default: docker.io/anchore/syft:v1.57.2-debug
  image_pull_policy:
    description:
      - Pull policy of the pod's containers.
    type: str
    choices: [Always, IfNotPresent, Never]
    default: IfNotPresent
  pod:
    description:
      - Settings of the build pod.
    type: dict
    suboptions:
      labels:
        description:
          - Labels of the pod, besides C(app.kubernetes.io/managed-by=kiln.kaniko) and
            C(app.kubernetes.io/name=kaniko-build), which the module sets.
        type: dict
      annotations:
        description:
          - Annotations of the pod.
        type: dict
      resources:
        description:
          - Compute resources of the containers, as Kubernetes quantities (V(500m), V(2), V(4Gi)).
          - They apply to the clone and the Kaniko container alike; as the clone runs first and alone,
            the pod asks no more than this once.
        type: dict
        suboptions:
          requests:
            description:
              - "Resource requests, such as V({cpu: 500m, memory: 1Gi})."
            type: dict
          limits:
            description:
              - "Resource limits, such as V({memory: 4Gi}). Kaniko holds layers in memory while it
                snapshots, so builds killed for memory (C(OOMKilled)) need more."
            type: dict
      node_selector:
        description:
          - Node labels the build node must have.
        type: dict
      tolerations:
        description:
          - Taints the pod tolerates.
        type: list
        elements: dict
        suboptions:
          key:
            description:
              - The taint key; empty with O(pod.tolerations[].operator=Exists) tolerates everything.
            type: str
          operator:
            description:
              - How the taint value is matched.
            type: str
            choices: [Equal, Exists]
          value:
            description:
              - The taint value (for V(Equal)).
            type: str
          effect:
            description:
              - The taint effect to tolerate; empty for all.
            type: str
            choices: [NoSchedule, PreferNoSchedule, NoExecute]
          toleration_seconds:
            description:
              - For V(NoExecute), how long the pod stays after the taint appears.
            type: int
            aliases: [tolerationSeconds]
      affinity:
        description:
          - Affinity of the pod, in the Kubernetes form.
        type: dict
        suboptions:
          node_affinity:
            description:
              - A Kubernetes C(nodeAffinity).
            type: dict
            aliases: [nodeAffinity]
          pod_affinity:
            description:
              - A Kubernetes C(podAffinity).
            type: dict
            aliases: [podAffinity]
          pod_anti_affinity:
            description:
              - A Kubernetes C(podAntiAffinity).
            type: dict
            aliases: [podAntiAffinity]
      service_account:
        description:
          - Service account of the pod. Its token is not mounted; it serves for image pull Secrets and
            workload identity.
        type: str
      image_pull_secrets:
        description:
          - Names of Secrets the node uses to pull O(executor_image) and O(git_image).
        type: list
        elements: str
      priority_class:
        description:
          - Priority class of the pod.
        type: str
  timeout:
    description:
      - Seconds the build may take, from the creation of the pod. Then the pod is deleted and the task fails.
      - The pod's C(activeDeadlineSeconds) is this plus 60, so the cluster stops the build even if the task is gone,
        while a task that still waits reports V(Timeout) first.
    type: int
    default: 1800
  keep_pod:
    description:
      - When to keep the build pod after the build, to inspect it.
      - V(on_failure) keeps it when the build failed, V(always) keeps it, V(never) deletes it.
      - A pod given up on before it ended (timeout, image pull error, unschedulable, interruption) is
        always deleted, so that it cannot build later.
    type: str
    choices: [on_failure, always, never]
    default: on_failure
  unschedulable_timeout:
    description:
      - Seconds the pod may stay unschedulable (no node can take it) before the task fails.
      - Also how long a scheduled pod may stay unstarted while its events say that a volume cannot be mounted
        (a Secret that is missing or lacks a key), a state that Kubernetes never reports as a failure.
    type: int
    default: 60
  retries:
    description:
      - How many times a build whose pod was lost through no fault of the build runs again, each time as a new pod
        (named C(<name>-a2-...), C(<name>-a3-...)) with a O(timeout) of its own. V(0) never does.
      - Lost through no fault of the build means that its node was lost (it stopped reporting to the API server, or
        its node object was deleted), that the pod was evicted (through the Eviction API, as C(kubectl drain) and
        the cluster autoscaler do, by a C(NoExecute) taint, or by the kubelet under node pressure or as the node
        shut down), that the scheduler preempted it for a pod of higher priority, or that it was deleted by a
        drain or by someone else. The module reads that in the pod itself (its C(DisruptionTarget) condition, or
        the not-ready mark the node lifecycle controller sets on the pods of a node that stopped reporting, about
        a minute after the node went away); where it may read nodes, it also asks about the node of a pod whose
        init container runs, which cannot show that mark.
      - A build that failed on its own (a C(RUN) step that exits non-zero, C(OOMKilled), a bad Dockerfile, an image
        that cannot be pulled, an eviction for the pod's own ephemeral-storage or C(emptyDir) limits) never runs
        again.
      - The new pod keeps off the node that was lost (a required node affinity on the node's name, added to
        O(pod.affinity)), unless the pod was preempted or deleted, which says nothing against its node. The lost
        pod is deleted at once (grace period 0, as the kubelet of a lost node never confirms), with its Secret.
      - Without retries left, the task fails naming the pod, its node and what happened. RV(attempts) lists each
        pod of the build.
    type: int
    default: 0
  builds:
    description:
      - Several builds to run at once. Each item takes the options of a single build (O(git), O(context_sub_path),
        O(dockerfile), O(destinations), O(build_args), O(target), O(labels), O(platform), O(push), O(cache),
        O(executor_image), O(timeout), O(keep_pod), O(namespace), O(pod), O(force), ...); the top-level options
        are their defaults.
      - An option an item leaves out comes from the top level. Dictionaries (O(git), O(build_args), O(labels),
        O(pod)) merge key by key, the item's keys winning; other values in an item replace the top-level ones.
        O(registry_secret) in an item replaces the top-level O(registry_auth) too; O(cache=false) in an item
        drops the top-level O(cache_repo) and O(cache_ttl).
      - An item's O(local_context) replaces the top-level O(git), and an item's O(git) the top-level O(local_context).
      - O(registry_auth), O(max_concurrent) and the connection options are top-level only; O(log_path) at the top
        level is the log of the whole run, of every build that ran, in the order they ended, each headed by its
        index, and is not passed on to the items; an item's own O(log_path) takes that build's log instead.
      - Every item is validated, and its Secrets checked, before any pod is created; errors name the item, such
        as C(builds[2].destinations[0]). Two items may not push the same tag.
      - The builds that must run start in the list's order. A failed build does not stop the others; the task
        fails at the end, naming every failed build by index and first destination.
    type: list
    elements: dict
  max_concurrent:
    description:
      - With O(builds), how many build pods run at the same time.
    type: int
    default: 4
  owned_by_job_pod:
    description:
      - When the module runs in a pod with the in-cluster configuration (an AWX container group, a job
        pod), each build pod in that pod's namespace gets an C(ownerReference) to it, so that Kubernetes'
        garbage collector deletes the build, and the Secret it owns, when the job pod is deleted.
      - Owner references cannot cross namespaces; builds in another namespace end with the job through
        the SIGTERM its container gets when it is deleted (see the AWX guide for the grace period).
      - Set V(false) for builds that must outlive the job pod.
      - The module finds its pod by its hostname and the service account's namespace; a pod that sets
        C(spec.hostname), or cannot be read, gets no owner.
    type: bool
    default: true
notes:
  - The pod runs with C(automountServiceAccountToken=false), the C(RuntimeDefault) seccomp profile, and a
    clone container that runs as user 65534 without capabilities. Kaniko itself runs as root in its
    container, as it must, but unprivileged.
  - The build's result is read from the pod status (termination messages).
  - "To skip builds whose image exists, the host that runs the module needs C(git) and must reach O(git.repo)
    and the registry of O(destinations). It runs C(git ls-remote) with the credentials of O(git.secret), read
    from the cluster and handed to git in files of its own (a credential helper, or an SSH key file with
    C(known_hosts)) that are removed afterwards; no credential is put in an argument or environment variable.
    The registry is read with the push credentials (O(registry_auth), or O(registry_secret) read from the
    cluster), over HTTP for O(insecure) and O(insecure_registries), and over HTTPS trusting the CA of
    O(registry_ca) for the registries listed there. When any of this fails the build runs
    anyway, with a warning, and RV(skip_check=unavailable) and RV(skip_detail) say why."
  - The pod clones the commit the module resolved (and labelled the image with), even when the branch
    moves while the build starts.
  - "Needs these permissions in O(namespace): pods (create, get, list, watch, delete), pods/log (get),
    events (list), secrets (get; and create, patch, delete with O(registry_auth); list with O(builds)), configmaps
    (get, with O(registry_ca) naming ConfigMaps), namespaces (get) is used if allowed; pods/exec (create) with
    O(local_context), O(tarball), or O(sbom) without O(sign)."
  - With O(local_context), the tar of the context is written to a temporary file on the host that runs the module
    (in C(TMPDIR)) and removed once the pod has it; it takes up to O(local_context.max_size) there meanwhile.
  - "Multi-arch: Kaniko builds one platform per run and cannot write an index, so with O(platforms) the module
    runs one pod per platform (each pushing to C(<tag>-<os>-<arch>[-<variant>])) and then writes the index itself,
    reading each image's manifest and configuration and storing the index with the push credentials of the
    build (O(registry_auth), or O(registry_secret) read from the cluster). The entries' platforms come from the
    images' configurations. This replaces a build per architecture followed by C(manifest-tool push from-args),
    C(crane index append) or C(docker buildx imagetools create) run by hand. Checking that each platform has a
    node needs C(list) on C(nodes), a cluster-wide permission (a ClusterRole); without it the module warns."
seealso:
  - name: Kaniko (maintained fork)
    description: The Kaniko executor and its flags.
    link: https://github.com/osscontainertools/kaniko
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Build the rng service of DockerCoins and push it to the in-cluster registry
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://github.com/jpetazzo/container.training
    context_sub_path: dockercoins/rng
    destinations:
      - registry:5000/rng:latest
    insecure: true
  register: rng

- name: Deploy by digest
  ansible.builtin.debug:
    msg: "{{ rng.image }} from commit {{ rng.commit }}"

- name: Build a tag of a private repository with a deploy key and push with a docker-registry Secret
  kiln.kaniko.build:
    namespace: builds
    name: api
    git:
      repo: git@github.com:example/api.git
      version: v2.3.0
      secret: api-deploy-key          # keys ssh-privatekey and known_hosts
    dockerfile: docker/Dockerfile.prod
    target: runtime
    build_args:
      PYTHON_VERSION: "3.12"
    labels:
      org.opencontainers.image.version: v2.3.0
    destinations:
      - ghcr.io/example/api:v2.3.0
      - ghcr.io/example/api:latest
    registry_secret: ghcr-push        # type kubernetes.io/dockerconfigjson
    cache: true
    cache_repo: ghcr.io/example/api-cache
    pod:
      resources:
        requests:
          cpu: "1"
          memory: 2Gi
        limits:
          memory: 4Gi
    timeout: 3600
    log_path: /tmp/api-build.log

- name: Build for amd64 and arm64 nodes and push one index (a multi-arch image)
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://git.example.com/team/app.git
      version: main
    destinations:
      - registry.example.com/team/app:1.4.0   # the index; the images go to 1.4.0-linux-amd64 and 1.4.0-linux-arm64
    platforms:
      - linux/amd64
      - linux/arm64
  register: built                             # built.digest is the index's, built.manifests each platform's

- name: Cross-compile both platforms on whatever node is free (FROM --platform=$BUILDPLATFORM in the Dockerfile)
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://git.example.com/team/tool.git
    destinations:
      - registry.example.com/team/tool:2.0
    platforms: [linux/amd64, linux/arm64]
    cross_build: true

- name: Build with credentials from the vault; the module makes and removes the Secret
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://git.example.com/team/app.git
      version: 3f2c1e9b7a4d5e6f8091a2b3c4d5e6f708192a3b
      secret: git-token               # key token
    destinations:
      - registry.example.com/team/app:{{ app_version }}
    registry_auth:
      - server: registry.example.com
        username: "{{ vault_registry_user }}"
        password: "{{ vault_registry_password }}"
    extra_args:
      - --push-retry=3
      - --compressed-caching=false

- name: Build the two DockerCoins services at once; unchanged sources are skipped
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://github.com/jpetazzo/container.training
      version: main
    insecure: true
    max_concurrent: 2
    builds:
      - context_sub_path: dockercoins/rng
        destinations: [registry:5000/rng:latest]
      - context_sub_path: dockercoins/worker
        destinations: [registry:5000/worker:latest]
        build_args:
          PYTHON_VERSION: "3.12"
  register: services

- name: Show what each build did
  ansible.builtin.debug:
    msg: "{{ item.image }}: {{ item.skipped_reason | default('built in ' ~ item.duration ~ ' s') }}"
  loop: "{{ services.results }}"

- name: Build a directory of the controller; .dockerignore applies, an unchanged directory is skipped
  kiln.kaniko.build:
    namespace: builds
    local_context:
      path: "{{ playbook_dir }}/app"
      max_size: 500Mi
    destinations:
      - registry:5000/app:dev
    insecure: true

- name: Build without a registry and bring the image back as a tarball
  kiln.kaniko.build:
    namespace: builds
    local_context:
      path: "{{ playbook_dir }}/app"
    destinations:
      - app:1.0                       # the name of the image in the tarball
    tarball:
      dest: /tmp/app.tar
  register: app_tar

- name: Load it with skopeo
  ansible.builtin.command: skopeo copy docker-archive:{{ app_tar.tarball.path }} docker://registry.example.com/app:1.0
  changed_when: true

- name: Leave the tarball in a PersistentVolumeClaim for the next job
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://github.com/jpetazzo/container.training
    context_sub_path: dockercoins/rng
    destinations:
      - rng:latest
    tarball:
      pvc: artifacts
      path: images/rng.tar

- name: Run the in-cluster registry over TLS; the role returns the CA it made in kiln_registry_ca
  ansible.builtin.include_role:
    name: kiln.kaniko.registry
  vars:
    kiln_registry_tls: true

- name: Put the registry's CA into a ConfigMap of the build namespace
  kubernetes.core.k8s:
    definition:
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: registry-ca
        namespace: builds
      data:
        ca.crt: "{{ kiln_registry_ca }}"

- name: Push over TLS, checking the registry's certificate against that CA
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://github.com/jpetazzo/container.training
    context_sub_path: dockercoins/rng
    destinations:
      - "{{ kiln_registry_endpoint }}/dockercoins/rng:1.0"
    registry_ca:
      - registry: "{{ kiln_registry_endpoint }}"
        config_map: registry-ca

- name: Put the token of the private package index into a Secret of the build namespace
  kubernetes.core.k8s:
    definition:
      apiVersion: v1
      kind: Secret
      metadata:
        name: npm-auth
        namespace: builds
      stringData:
        token: "{{ vault_npm_token }}"
  no_log: true

- name: Build with it; the Dockerfile reads it in RUN --mount=type=secret,id=npm_token (at /run/secrets/npm_token)
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://git.example.com/team/web.git
    destinations:
      - registry.example.com/team/web:1.0
    build_secrets:
      - id: npm_token
        secret: npm-auth
        key: token

- name: Set the connection once for this collection and kubernetes.core's k8s modules
  module_defaults:
    group/kiln.kaniko.k8s:
      kubeconfig: ~/.kube/lab.yaml
      context: lab
  block:
    - name: Make sure the namespace exists
      kubernetes.core.k8s:
        kind: Namespace
        name: builds

    - name: Check that the build would run, without running it
      kiln.kaniko.build:
        namespace: builds
        git:
          repo: https://github.com/jpetazzo/container.training
        context_sub_path: dockercoins/worker
        destinations:
          - registry:5000/worker:latest
        insecure: true
      check_mode: true
"""

RETURN = r"""
pod_name:
  description: Name of the build pod.
  returned: when the pod was created
  type: str
  sample: kiln-build-x7k2p
pod_kept:
  description: Whether the pod was left in the cluster (see O(keep_pod)).
  returned: when the pod was created
  type: bool
  sample: false
digest:
  description:
    - Digest of the pushed image, or of the existing image when the build was skipped.
    - With O(platforms), the digest of the index.
  returned: success, when pushed or skipped
  type: str
  sample: sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1
manifests:
  description: With O(platforms), one entry per platform, in the order of O(platforms).
  returned: with O(platforms)
  type: list
  elements: dict
  contains:
    platform:
      description: The platform, as given in O(platforms).
      type: str
      sample: linux/arm64
    digest:
      description: The digest of the platform's image, which the index lists.
      type: str
      sample: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    pod_name:
      description: The platform's build pod (none when it was skipped).
      type: str
      sample: kiln-build-linux-arm64-4kq9z
    duration:
      description: Seconds from the creation of the platform's pod to its end.
      type: float
      sample: 38.2
    commit:
      description: The commit the platform's pod built.
      type: str
      sample: 5d1bd4d9f8d2b2c34cbdc1a3e6d2c0b6fbbd2f1a
    build_key:
      description: The build key of the platform's image.
      type: str
      sample: sha256:0a2a6a5b1b6c4ad7c1e0fbb3f5d2de7b6d7a9d7f9a3e1b4c9b3d2e1f0a9b8c7d
    skip_check:
      description: The platform's skip check, as O(force) and the registry decided it.
      type: str
      sample: missing
    skipped:
      description: Whether the registry held the platform's image already (no pod ran for it).
      type: bool
      sample: false
    pod_kept:
      description: Whether the platform's pod was left in the cluster.
      type: bool
      sample: false
    attempts:
      description: The pods of the platform, as RV(attempts) lists them (none when it was skipped).
      type: list
      elements: dict
      sample: [{pod_name: kiln-build-linux-arm64-4kq9z, node: arm-1, reason: Completed, message: null}]
    failed:
      description: Set when the platform failed or was cancelled because another one failed.
      type: bool
      sample: true
    msg:
      description: Why the platform failed.
      type: str
      sample: "Cancelled: the build of linux/arm64 failed"
platform_tags:
  description:
    - With O(platforms), what became of the per-platform tags once the index was written (see O(platforms)).
    - C(null) when no index was written (the build was skipped or failed).
  returned: with O(platforms)
  type: dict
  contains:
    deleted:
      description: The per-platform tags deleted, as image references.
      type: list
      elements: str
      sample: [registry:5000/team/app:1.0-linux-amd64, registry:5000/team/app:1.0-linux-arm64]
    kept:
      description: The per-platform tags that stay in the registry, as image references.
      type: list
      elements: str
      sample: []
    reason:
      description: Why tags were kept (the registry's answer), or C(null).
      type: str
      sample: >-
        http://registry:5000 keeps the tag 1.0-linux-amd64 of team/app: it deletes manifests by digest only, not
        tags (distribution before 3.0) (HTTP 400: DIGEST_INVALID: provided digest did not match uploaded content)
platforms:
  description: The platforms of the index, as given in O(platforms).
  returned: with O(platforms)
  type: list
  elements: str
  sample: [linux/amd64, linux/arm64]
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
  description: Seconds from the creation of the pod to the end of the build.
  returned: when the pod was created
  type: float
  sample: 42.7
rc:
  description:
    - Exit code of the container the build ended in; V(0) on success.
    - Kaniko exits with the exit code of a failing C(RUN) step.
  returned: when a container ended
  type: int
  sample: 0
container:
  description:
    - The container the build ended (or failed) in, V(clone) (or V(receive) with O(local_context)), V(kaniko),
      or V(export) (O(tarball)).
  returned: when the pod was created
  type: str
  sample: kaniko
reason:
  description:
    - Why the build ended, such as V(Completed), V(Error), V(OOMKilled), V(ErrImagePull), V(Unschedulable),
      V(FailedMount), V(DeadlineExceeded), V(Evicted), V(Timeout) or V(Deleted).
    - For a pod lost through no fault of the build (see O(retries)), V(NodeLost) (its node stopped reporting),
      V(NodeDeleted), or the reason Kubernetes gave in the pod's C(DisruptionTarget) condition
      (V(EvictionByEvictionAPI), V(PreemptionByScheduler), V(DeletionByTaintManager), V(DeletionByPodGC)), or
      the kubelet's (V(Evicted) under node pressure, V(Terminated) when the node shut down).
  returned: when the pod was created
  type: str
  sample: Completed
attempts:
  description:
    - Each pod of the build, in order; more than one when a pod was lost through no fault of the build and
      O(retries) ran the build again.
  returned: when a pod of the build ended
  type: list
  elements: dict
  contains:
    pod_name:
      description: The pod.
      type: str
      sample: kiln-build-x7k2p
    node:
      description: The node it ran on (none when it was never scheduled).
      type: str
      sample: worker-2
    reason:
      description: Why it ended, as RV(reason) says it.
      type: str
      sample: NodeLost
    message:
      description: What happened, naming the node for a lost pod.
      type: str
      sample: "node worker-2 stopped reporting to the API server: the node lifecycle controller marked the pod not
        ready at 2026-11-24T10:04:31Z"
  sample:
    - pod_name: kiln-build-x7k2p
      node: worker-2
      reason: NodeLost
      message: "node worker-2 stopped reporting to the API server: the node lifecycle controller marked the pod not
        ready at 2026-11-24T10:04:31Z"
    - pod_name: kiln-build-a2-q8w4z
      node: worker-1
      reason: Completed
      message: null
hint:
  description: What to look at to fix a failure.
  returned: failure
  type: str
  sample: "the build ran out of memory: raise pod.resources.limits.memory, or add --compressed-caching=false to extra_args"
log_lines:
  description: The last O(log_lines) lines of the log, the clone's followed by Kaniko's.
  returned: when the pod was created
  type: list
  elements: str
  sample:
    - "INFO[0012] Pushing image to registry:5000/rng:latest"
    - "INFO[0013] Pushed registry:5000/rng@sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1"
events:
  description: Warning events of the pod, on failure.
  returned: when the pod was created
  type: list
  elements: str
  sample:
    - "Failed: Failed to pull image \"ghcr.io/osscontainertools/kaniko:v0\": not found"
build_key:
  description:
    - The build key, written into the image as the label C(io.kiln.build-key).
    - A sha256 over the commit (or the sha256 of the packed O(local_context)), O(context_sub_path), O(dockerfile),
      O(git.submodules), O(build_args), O(target), O(labels), O(platform), O(extra_args) and O(executor_image). Destinations, caching, pod settings and
      credentials are not part of it. A new base image under the same tag does not change it; use O(force).
    - With O(build_secrets), also their ids and the Secret and key that feed each, but not the values; a new value in a
      Secret does not change it either.
    - With O(platforms), a sha256 over the build keys of the platforms (each image carries its own, in RV(manifests)).
  returned: when O(git.version) could be resolved, or O(local_context) packed
  type: str
  sample: sha256:9f2c1b0e6a8d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b
local_context:
  description:
    - The local build context that was packed (O(local_context)), its size in bytes and the sha256 of its tar.
  returned: with O(local_context), when it could be packed
  type: dict
  sample:
    path: /home/ci/app
    size: 52439040
    sha256: 1f0e3dad99908345f7439f8ffabdffc4c6f2c1e8b4c2d7a1e0f9b8a7c6d5e4f3
tarball:
  description:
    - Where the image tarball is (C(path), on the host that runs the module, or C(pvc) and C(path) in it),
      its C(size) in bytes and C(sha256).
  returned: with O(tarball), when the build succeeded or was skipped
  type: dict
  sample:
    path: /tmp/app.tar
    size: 7865344
    sha256: 9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab
skip_check:
  description:
    - What the look for an existing image found. V(found) (the build was skipped), V(missing) (a destination
      lacks it), V(forced) (O(force=true)), or V(unavailable) (it could not be made; see RV(skip_detail)).
  returned: when the options are valid
  type: str
  sample: found
skip_detail:
  description: The details of RV(skip_check).
  returned: when the options are valid
  type: str
  sample: "registry:5000/rng:latest holds an image of another build key (commit 5d1bd4d9f8d2b2c34cbdc1a3e6d2c0b6fbbd2f1a)"
skipped_reason:
  description: Why no pod was created; the build's image is already in the registry.
  returned: when the build was skipped
  type: str
  sample: registry:5000/rng:latest already holds an image built from commit 5d1bd4d9 with the same build key
cache_repo:
  description:
    - Where Kaniko caches layers, when the cache is on (see O(cache)).
    - With O(platforms), the base of the platforms' cache repositories, each of which adds C(-<os>-<arch>[-<variant>]).
  returned: when the options are valid
  type: str
  sample: registry:5000/rng/cache
signed:
  description:
    - With O(sign), whether the image is signed. V(false) when a step after Kaniko failed (the image was pushed).
  returned: with O(sign) or O(sbom), when the image was pushed
  type: bool
  sample: true
signatures:
  description:
    - With O(sign), where the signature is, in each destination's repository (cosign's tag C(sha256-<hex>.sig)).
  returned: with O(sign), on success
  type: list
  elements: str
  sample: [registry:5000/rng:sha256-3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1.sig]
attestations:
  description:
    - With O(sign) and O(sbom), where the signed SBOM attestation is, in each destination's repository (C(.att)).
  returned: with O(sign) and O(sbom), on success
  type: list
  elements: str
  sample: [registry:5000/rng:sha256-3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1.att]
sbom:
  description:
    - With O(sbom), the SBOM's format, where it is in each destination's repository (signed, C(.att); unsigned, the
      artifact C(<repository>@<digest>) that refers to the image, or cosign's C(.sbom) tag where an earlier version
      of the collection attached it), the attestation's predicate type (signed) or the artifact's media type
      (unsigned), and, with O(sbom.dest), the file and its C(sha256).
  returned: with O(sbom), on success
  type: dict
  sample:
    format: spdx-json
    dest: /srv/sboms/rng.spdx.json
    sha256: 9f2c1e0b7d6a5c4b3a29180706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3
    predicate_type: https://spdx.dev/Document
    media_type: null
    references: [registry:5000/rng:sha256-3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1.att]
results:
  description:
    - With O(builds), the result of each build in the order of O(builds), with the keys a single build returns
      (RV(digest), RV(image), RV(commit), RV(skipped_reason), RV(pod_name), RV(log_lines), RV(hint), ...), and
      C(failed) and C(msg).
  returned: with O(builds)
  type: list
  elements: dict
  sample:
    - changed: false
      failed: false
      digest: sha256:3b1e8c59a0f4f3b6fe2c6c7a7f0a56d5ba0d8ac8bd2c1c0e7e4c43b2d8cbd8e1
      skipped_reason: registry:5000/rng:latest already holds an image built from commit 5d1bd4d9 with the same build key
pod:
  description: The pod that would be created.
  returned: check mode
  type: dict
  sample:
    apiVersion: v1
    kind: Pod
    metadata:
      generateName: kiln-build-
      namespace: builds
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.edge import run
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.backend import KubernetesBackend
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options.build import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    argument_spec,
    build_options,
)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    run(module, KubernetesBackend(build_options()))


if __name__ == '__main__':
    main()
