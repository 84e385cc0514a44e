"""The bad-input matrix: options that cannot work, and what each must say.

Each case changes a valid task (BASE) and names the option the message must name and the words of the fix it
must give. test_bad_inputs.py runs them all on the lab and checks that none creates anything in the cluster;
errors_table.py writes docs/errors.md from what they answered.

In ``args``, {namespace}, {registry}, {git}, {git_ssh} and {unreachable_kubeconfig} are filled in from the lab, and
{contexts} is a directory holding app/ (a Dockerfile and 8 KiB), bad-pattern/ and lone-bang/ (app/ with a
.dockerignore of "[" and of "!", lines Docker refuses) and file.txt; in ``environment`` (the task's),
{path_without_slirp4netns} is a PATH on which every program of the tests' PATH is but slirp4netns.
DROP removes an option of BASE.
"""

DROP = object()

BASE = {
    "kiln.kaniko.build": {
        "namespace": "{namespace}",
        "git": {"repo": "{git}/smoke.git"},
        "destinations": ["{registry}/{namespace}/smoke:bad-input"],
        "registry_mirrors": ["{registry}"],
        "insecure_registries": ["{registry}"],
        "insecure": True,
        "timeout": 120,
    },
    "kiln.kaniko.container_build": {
        "git": {"repo": "{git}/smoke.git"},
        "destinations": ["{registry}/{namespace}/smoke:bad-input"],
        "registry_mirrors": ["{registry}"],
        "insecure_registries": ["{registry}"],
        "insecure": True,
        "image_pull_policy": "Never",
        "timeout": 120,
    },
    "kiln.kaniko.image_info": {
        "reference": "{registry}/{namespace}/smoke:bad-input",
        "insecure": True,
    },
    # The role's variables; the namespace is one the role would create, and must still not exist afterwards.
    "kiln.kaniko.registry": {
        "kiln_registry_namespace": "kiln-faults-role-absent",
    },
}

# Secrets the cases refer to; made in the namespace before the cases run.
SECRETS = {
    "git-token-only": {"token": "not-a-real-token"},
    "git-no-credentials": {"note": "neither token nor username and password"},
    "registry-wrong-key": {"auth.json": "{}"},
}

ABSENT_NAMESPACE = "kiln-faults-absent"
ABSENT_ROLE_NAMESPACE = "kiln-faults-role-absent"


def case(id, module, option, fix, what, args, kubeconfig=None, gap=None, environment=None):
    """One bad input. ``kubeconfig`` replaces the lab's for the case, ``environment`` is the task's (a host that
    lacks something); ``gap`` says why the answer does not yet name the option and the fix (the test then expects
    that it does not, and the table lists it apart)."""
    return {"id": id, "module": module, "option": option, "fix": fix, "what": what, "args": args,
            "kubeconfig": kubeconfig, "gap": gap, "environment": environment}


BUILD = "kiln.kaniko.build"
CONTAINER_BUILD = "kiln.kaniko.container_build"
IMAGE_INFO = "kiln.kaniko.image_info"
REGISTRY_ROLE = "kiln.kaniko.registry"
ROLES = (REGISTRY_ROLE,)

CASES = [
    # ---------------------------------------------------------------- types and unknown options
    case("wrong-type", BUILD, "timeout", "int", "a word where seconds are expected",
         {"timeout": "soon"}),
    case("unknown-option", BUILD, "destination", "Supported parameters include",
         "a misspelt option (destination for destinations)",
         {"destination": ["{registry}/x/y:1"]}),
    case("unknown-suboption", BUILD, "branch", "Supported parameters include",
         "an option git does not have (branch for version)",
         {"git": {"repo": "{git}/smoke.git", "branch": "main"}}),
    case("missing-suboption", BUILD, "repo", "missing required arguments", "git without repo",
         {"git": {"version": "main"}}),
    case("wrong-choice", BUILD, "keep_pod", "one of: on_failure, always, never", "a value keep_pod does not know",
         {"keep_pod": "sometimes"}),
    case("unquoted-build-arg", BUILD, "build_args.DEBUG", "quote it", "a YAML boolean as a build argument",
         {"build_args": {"DEBUG": True}}),
    case("zero-timeout", BUILD, "timeout", "positive number of seconds", "timeout 0",
         {"timeout": 0}),
    # ---------------------------------------------------------------- names and references
    case("destination-upper-case", BUILD, "destinations[0]", "use e.g. registry:5000/team/app:tag",
         "an upper-case repository", {"destinations": ["{registry}/Team/App:1"]}),
    case("destination-digest", BUILD, "destinations[0]", "a destination is a name[:tag]",
         "a destination with a digest",
         {"destinations": ["{registry}/team/app@sha256:" + "0" * 64]}),
    case("destination-bad-tag", BUILD, "destinations[0]", "use e.g. registry:5000/team/app:tag",
         "a tag that starts with a dash", {"destinations": ["{registry}/team/app:-1"]}),
    case("destination-non-ascii-tag", BUILD, "destinations[0]", "ASCII letters",
         "a tag with a letter that is not ASCII", {"destinations": ["{registry}/app:café"]}),
    case("destination-hex-name", BUILD, "destinations[0]", "use e.g. registry:5000/team/app:tag",
         "64 hex digits (an image ID) as a destination", {"destinations": ["0123456789abcdef" * 4]}),
    case("executor-image-invalid", BUILD, "executor_image", "use e.g.", "an executor image with upper case",
         {"executor_image": "Kaniko/Executor:latest"}),
    case("executor-image-unknown-digest", BUILD, "executor_image", "sha256, sha384 or sha512",
         "an executor image pinned by a digest of an unknown algorithm",
         {"executor_image": "ghcr.io/osscontainertools/kaniko@md5:" + "0" * 32}),
    case("push-without-destination", BUILD, "destinations", "set push: false", "no destination to push to",
         {"destinations": DROP}),
    case("invalid-name", BUILD, "name", "lower-case letters, digits and -", "a pod name with capitals",
         {"name": "Build_1"}),
    case("invalid-namespace-name", BUILD, "namespace", "lower-case letters, digits and -",
         "a namespace name with an underscore", {"namespace": "team_builds"}),
    case("reserved-label", BUILD, "pod.labels.app.kubernetes.io/managed-by", "choose another label",
         "a pod label the module sets itself", {"pod": {"labels": {"app.kubernetes.io/managed-by": "me"}}}),
    case("platform-without-os", BUILD, "platform", "os/arch", "an architecture without the OS",
         {"platform": "amd64"}),
    case("git-version-range", BUILD, "git.version", "branch, tag or commit", "a revision range as version",
         {"git": {"repo": "{git}/smoke.git", "version": "main..dev"}}),
    case("extra-args-owned-flag", BUILD, "extra_args[0]", "set through destinations",
         "a flag an option sets", {"extra_args": ["--destination=elsewhere/app:1"]}),
    case("cache-repo-without-cache", BUILD, "cache_repo", "set cache to true or auto", "cache_repo with cache off",
         {"cache": False, "cache_repo": "{registry}/cache"}),
    case("cache-ttl-words", BUILD, "cache_ttl", "such as 336h", "a duration in words",
         {"cache": True, "cache_ttl": "2 weeks"}),
    case("toleration-exists-with-value", BUILD, "pod.tolerations[0].value", "must be empty",
         "a toleration with operator Exists and a value",
         {"pod": {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "yes"}]}}),
    case("no-source", BUILD, "git", "builds", "neither git nor builds", {"git": DROP}),
    case("builds-unknown-key", BUILD, "builds[0].destination", "did you mean destinations?",
         "a misspelt option in an item of builds",
         {"git": DROP, "destinations": DROP,
          "builds": [{"git": {"repo": "{git}/smoke.git"}, "destination": ["{registry}/x/y:1"]}]}),
    case("zero-concurrency", BUILD, "max_concurrent", "1 or more", "max_concurrent 0",
         {"max_concurrent": 0}),
    # ---------------------------------------------------------------- quantities
    case("memory-unit", BUILD, "pod.resources.limits.memory", "use e.g. 500m, 2, 1Gi or 512Mi",
         "4GB (Kubernetes writes 4G or 4Gi)", {"pod": {"resources": {"limits": {"memory": "4GB"}}}}),
    case("negative-cpu", BUILD, "pod.resources.requests.cpu", "negative", "a negative CPU request",
         {"pod": {"resources": {"requests": {"cpu": "-1"}}}}),
    case("request-over-limit", BUILD, "pod.resources.requests.memory", "more than the limit",
         "a request above its limit",
         {"pod": {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}}),
    # ---------------------------------------------------------------- git sources and paths
    case("file-url", BUILD, "git.repo", "use https://, ssh://, git:// or user@host:path",
         "a file:// URL, which the cluster cannot reach", {"git": {"repo": "file:///srv/git/app.git"}}),
    case("ftp-url", BUILD, "git.repo", "use https://, ssh://, git:// or user@host:path", "an ftp:// URL",
         {"git": {"repo": "ftp://example.com/app.git"}}),
    case("local-path", BUILD, "git.repo", "use https://host/path", "a path on the controller",
         {"git": {"repo": "/srv/git/app.git"}}),
    case("password-in-url", BUILD, "git.repo", "name it in git.secret", "a token inside the URL",
         {"git": {"repo": "https://ci:hunter2@example.com/app.git"}}),
    case("dockerfile-outside-context", BUILD, "dockerfile", "give a path inside it",
         "a Dockerfile above the context", {"context_sub_path": "slow", "dockerfile": "../Dockerfile"}),
    case("dockerfile-absolute", BUILD, "dockerfile", "give a path relative to", "an absolute Dockerfile path",
         {"dockerfile": "/workspace/Dockerfile"}),
    case("context-outside-repository", BUILD, "context_sub_path", "give a path inside it",
         "a context above the repository", {"context_sub_path": "../other"}),
    # ---------------------------------------------------------------- credentials
    case("both-registry-credentials", BUILD, "registry_secret|registry_auth", "mutually exclusive",
         "registry_secret and registry_auth together",
         {"registry_secret": "push-secret",
          "registry_auth": [{"server": "{registry}", "username": "ci", "password": "not-a-real-password"}]}),
    case("empty-registry-password", BUILD, "registry_auth[0].password", "must not be empty",
         "registry_auth with an empty password",
         {"registry_auth": [{"server": "{registry}", "username": "u", "password": ""}]}),
    case("missing-git-secret", BUILD, "git.secret", "create it", "a git.secret that does not exist",
         {"git": {"repo": "{git}/private/smoke.git", "secret": "no-such-secret"}}),
    case("missing-registry-secret", BUILD, "registry_secret", "create it", "a registry_secret that does not exist",
         {"registry_secret": "no-such-secret"}),
    case("ssh-secret-without-key", BUILD, "git.secret", "ssh-privatekey and known_hosts",
         "an SSH URL with a Secret that holds only a token",
         {"git": {"repo": "{git_ssh}/smoke.git", "secret": "git-token-only"}}),
    case("https-secret-without-credentials", BUILD, "git.secret", "token", "a git Secret without credentials",
         {"git": {"repo": "{git}/private/smoke.git", "secret": "git-no-credentials"}}),
    case("registry-secret-wrong-key", BUILD, "registry_secret", ".dockerconfigjson",
         "a registry Secret without a docker config", {"registry_secret": "registry-wrong-key"}),
    # ---------------------------------------------------------------- registry_ca
    case("registry-ca-url", BUILD, "registry_ca[0].registry", "give the registry as host[:port]",
         "a registry given as a URL",
         {"registry_ca": [{"registry": "https://registry.example.com:5000", "config_map": "registry-ca"}]}),
    case("registry-ca-both-sources", BUILD, "registry_ca[0]", "not both", "a CA from a Secret and a ConfigMap at once",
         {"registry_ca": [{"registry": "registry.example.com", "secret": "registry-ca", "config_map": "registry-ca"}]}),
    case("registry-ca-with-skip-tls-verify", BUILD, "registry_ca", "leave skip_tls_verify out",
         "a CA for registries whose certificates are not checked",
         {"skip_tls_verify": True, "registry_ca": [{"registry": "registry.example.com", "secret": "registry-ca"}]}),
    case("registry-ca-missing-config-map", BUILD, "registry_ca[0].config_map", "create it",
         "a CA ConfigMap that does not exist",
         {"registry_ca": [{"registry": "registry.example.com:5000", "config_map": "no-such-config-map"}]}),
    case("registry-ca-missing-key", BUILD, "registry_ca[0].key", "name the key that holds it",
         "a CA Secret without the key ca.crt",
         {"registry_ca": [{"registry": "registry.example.com:5000", "secret": "git-token-only"}]}),
    # ---------------------------------------------------------------- build_secrets
    case("build-secrets-duplicate-id", BUILD, "build_secrets[1].id", "an id of its own",
         "a build secret id given twice",
         {"build_secrets": [{"id": "token", "secret": "git-token-only", "key": "token"},
                            {"id": "token", "secret": "git-token-only", "key": "token"}]}),
    case("build-secrets-id-with-comma", BUILD, "build_secrets[0].id", "use letters, digits",
         "a build secret id with a comma, which Kaniko's --secret splits on",
         {"build_secrets": [{"id": "npm,src=/etc/shadow", "secret": "git-token-only", "key": "token"}]}),
    case("build-secrets-missing-secret", BUILD, "build_secrets[0].secret", "create it",
         "a build secret from a Secret that does not exist",
         {"build_secrets": [{"id": "token", "secret": "no-such-secret", "key": "token"}]}),
    case("build-secrets-missing-key", BUILD, "build_secrets[0].key", "give the key that holds it",
         "a build secret from a Secret without that key",
         {"build_secrets": [{"id": "npmrc", "secret": "git-token-only", "key": "npmrc"}]}),
    case("build-secrets-in-extra-args", BUILD, "extra_args[0]", "set through build_secrets", "--secret in extra_args",
         {"extra_args": ["--secret=id=token,src=/etc/hostname"]}),
    # ---------------------------------------------------------------- sign and sbom
    case("sign-missing-key-secret", BUILD, "sign.key_secret", "create it", "a signing key Secret that does not exist",
         {"sign": {"key_secret": "no-such-keys"}}),
    case("sign-key-secret-not-cosign", BUILD, "sign.key_secret", "cosign generate-key-pair k8s://",
         "a signing key Secret without cosign's keys", {"sign": {"key_secret": "git-token-only"}}),
    case("sign-key-secret-bad-name", BUILD, "sign.key_secret", "lower-case letters",
         "a signing key Secret name Kubernetes refuses", {"sign": {"key_secret": "Cosign_Keys"}}),
    case("sign-without-push", BUILD, "sign", "leave push true", "signing a build that pushes nothing",
         {"sign": {"key_secret": "no-such-keys"}, "push": False}),
    case("sbom-with-tarball", BUILD, "sbom", "push to destinations instead", "an SBOM of a tarball build",
         {"sbom": {}, "tarball": {"dest": "/tmp/kiln-faults-sbom.tar"}}),
    case("sbom-bad-format", BUILD, "format", "one of: spdx-json, cyclonedx-json",
         "an SBOM format syft is not asked for here", {"sbom": {"format": "spdx-tag-value"}}),
    case("sbom-unwritable-dest", BUILD, "sbom.dest", "writable", "an SBOM file in a directory that does not exist",
         {"sbom": {"dest": "/nonexistent/kiln/sbom.json"}}),
    case("sbom-dest-with-platforms", BUILD, "sbom.dest", "several platforms", "one SBOM file for several platforms",
         {"sbom": {"dest": "/tmp/kiln-faults-sbom.json"}, "platforms": ["linux/amd64", "linux/arm64"],
          "cross_build": True}),
    # ---------------------------------------------------------------- the cluster and the controller
    case("absent-namespace", BUILD, "namespace", "create it first", "a namespace that does not exist",
         {"namespace": ABSENT_NAMESPACE}),
    case("unreachable-api-server", BUILD, "kubeconfig", "Cannot reach the Kubernetes API server",
         "a kubeconfig whose server does not answer", {"kubeconfig": "{unreachable_kubeconfig}"}),
    case("unwritable-log-path", BUILD, "log_path", "writable", "a log file in a directory that does not exist",
         {"log_path": "/nonexistent/kiln/build.log"}),
    # ---------------------------------------------------------------- local_context and tarball
    case("local-context-and-git", BUILD, "git|local_context", "mutually exclusive", "both sources at once",
         {"local_context": {"path": "{contexts}/app"}}),
    case("local-context-missing", BUILD, "local_context.path", "give the directory", "a directory that does not exist",
         {"git": DROP, "local_context": {"path": "/nonexistent/kiln/app"}}),
    case("local-context-file", BUILD, "local_context.path", "not a file", "a file instead of a directory",
         {"git": DROP, "local_context": {"path": "{contexts}/file.txt"}}),
    case("local-context-relative", BUILD, "local_context.path", "give an absolute path", "a relative path",
         {"git": DROP, "local_context": {"path": "app"}}),
    case("local-context-without-dockerfile", BUILD, "dockerfile", "relative to it",
         "a Dockerfile the directory does not hold", {"git": DROP, "local_context": {"path": "{contexts}"}}),
    case("local-context-too-big", BUILD, "local_context.max_size", "raise local_context.max_size",
         "a context larger than max_size",
         {"git": DROP, "local_context": {"path": "{contexts}/app", "max_size": "4Ki"}}),
    case("local-context-bad-size", BUILD, "local_context.max_size", "200Mi", "a size that is not a quantity",
         {"git": DROP, "local_context": {"path": "{contexts}/app", "max_size": "big"}}),
    case("local-context-bad-dockerignore-pattern", BUILD, "local_context", "escape a literal",
         "a .dockerignore pattern Docker refuses", {"git": DROP, "local_context": {"path": "{contexts}/bad-pattern"}}),
    case("local-context-dockerignore-lone-bang", BUILD, "local_context", "write the path to take back after the '!'",
         "a .dockerignore line of a lone '!'", {"git": DROP, "local_context": {"path": "{contexts}/lone-bang"}}),
    case("tarball-and-push", BUILD, "push", "leave push out", "tarball with push true",
         {"push": True, "tarball": {"dest": "{contexts}/app.tar"}}),
    case("tarball-dest-and-pvc", BUILD, "tarball", "give either dest", "both dest and pvc",
         {"tarball": {"dest": "{contexts}/app.tar", "pvc": "artifacts", "path": "app.tar"}}),
    case("tarball-pvc-without-path", BUILD, "tarball.path", "images/app.tar", "a claim without the file's path",
         {"tarball": {"pvc": "artifacts"}}),
    case("tarball-without-destination", BUILD, "destinations", "to name the image in the tarball",
         "a tarball with no image name", {"destinations": DROP, "tarball": {"dest": "{contexts}/app.tar"}}),
    case("tarball-dest-unwritable", BUILD, "tarball.dest", "writable", "a file in a directory that does not exist",
         {"tarball": {"dest": "/nonexistent/kiln/app.tar"}}),
    # ---------------------------------------------------------------- image_info
    case("image-info-invalid-reference", IMAGE_INFO, "reference", "use e.g. registry:5000/team/app:tag",
         "an upper-case repository", {"reference": "{registry}/Team/App:1"}),
    case("image-info-bad-digest", IMAGE_INFO, "reference", "sha256:", "a digest that is too short",
         {"reference": "{registry}/team/app@sha256:abc"}),
    case("image-info-unknown-digest", IMAGE_INFO, "reference", "sha256, sha384 or sha512",
         "a digest of an algorithm go-digest does not know", {"reference": "{registry}/team/app@blake3:" + "0" * 64}),
    case("image-info-non-ascii-tag", IMAGE_INFO, "reference", "ASCII letters", "a tag with a letter that is not ASCII",
         {"reference": "{registry}/app:café"}),
    case("image-info-hex-name", IMAGE_INFO, "reference", "image ID", "64 hex digits (an image ID) as the reference",
         {"reference": "0123456789abcdef" * 4}),
    case("image-info-unreachable-registry", IMAGE_INFO, "reference", "check", "a registry that does not answer",
         {"reference": "127.0.0.1:1/team/app:1"}),
    case("image-info-tls-to-plain-http", IMAGE_INFO, "insecure", "insecure: true",
         "HTTPS to a plain-HTTP registry", {"insecure": False}),
    case("image-info-wrong-type", IMAGE_INFO, "timeout", "int", "a word where seconds are expected",
         {"timeout": "soon"}),
    case("image-info-unknown-option", IMAGE_INFO, "tag", "Supported parameters include",
         "an option image_info does not have", {"tag": "1"}),
    case("image-info-user-without-password", IMAGE_INFO, "password", "required together",
         "username without password", {"username": "ci"}),
    case("image-info-missing-ca", IMAGE_INFO, "ca_path", "does not exist", "a CA file that does not exist",
         {"insecure": False, "ca_path": "/nonexistent/ca.crt"}),
    # ---------------------------------------------------------------- the registry role
    case("role-port-type", REGISTRY_ROLE, "kiln_registry_port", "int", "a word as the port",
         {"kiln_registry_port": "five-thousand"}),
    case("role-storage-choice", REGISTRY_ROLE, "kiln_registry_storage", "one of", "a storage kind the role lacks",
         {"kiln_registry_storage": "nfs"}),
    case("role-users-type", REGISTRY_ROLE, "kiln_registry_users", "to dict", "users as one string, not a list of dicts",
         {"kiln_registry_users": "admin:secret"}),
    case("role-gc-without-pvc", REGISTRY_ROLE, "kiln_registry_gc", "kiln_registry_storage=pvc",
         "garbage collection of an emptyDir", {"kiln_registry_gc": True, "kiln_registry_storage": "emptydir"}),
    case("role-cert-without-key", REGISTRY_ROLE, "kiln_registry_tls_key", "go together",
         "a TLS certificate without its key",
         {"kiln_registry_tls": True, "kiln_registry_tls_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n"
                                                              "-----END CERTIFICATE-----\n"}),
    case("role-node-port", REGISTRY_ROLE, "kiln_registry_node_port", "node port range", "node port 0",
         {"kiln_registry_service_type": "NodePort", "kiln_registry_node_port": 0}),
    case("role-namespace-name", REGISTRY_ROLE, "kiln_registry_namespace", "lower-case",
         "a namespace name with capitals", {"kiln_registry_namespace": "Team_Registry"}),
    case("role-namespace-too-long", REGISTRY_ROLE, "kiln_registry_namespace", "at most 63",
         "a namespace name longer than a DNS label", {"kiln_registry_namespace": "kiln-" + "r" * 60}),
    case("role-unreachable-api-server", REGISTRY_ROLE, "kubeconfig", "check kubeconfig/host",
         "a kubeconfig whose server does not answer", {}, kubeconfig="{unreachable_kubeconfig}"),
    # ---------------------------------------------------------------- container_build: build's checks, and its own
    case("container-pod-option", CONTAINER_BUILD, "namespace", "Supported parameters include",
         "an option only a pod has (namespace)", {"namespace": "{namespace}"}),
    case("container-git-secret", CONTAINER_BUILD, "secret", "Supported parameters include",
         "git.secret, a Secret of the cluster, where the credentials are options",
         {"git": {"repo": "{git}/smoke.git", "secret": "git-token-only"}}),
    case("container-bad-destination", CONTAINER_BUILD, "destinations[0]", "repository names are lower case",
         "an upper-case repository", {"destinations": ["{registry}/Team/app:1"]}),
    case("container-owned-flag", CONTAINER_BUILD, "extra_args[0]", "set through destinations",
         "a flag an option sets", {"extra_args": ["--destination=x:1"]}),
    case("container-zero-timeout", CONTAINER_BUILD, "timeout", "positive number of seconds", "timeout 0",
         {"timeout": 0}),
    case("container-ssh-without-key", CONTAINER_BUILD, "git.key_file", "git.known_hosts_file",
         "an SSH repository without a key", {"git": {"repo": "{git_ssh}/smoke.git"}}),
    case("container-username-alone", CONTAINER_BUILD, "git.password", "go together",
         "git.username without git.password", {"git": {"repo": "{git}/smoke.git", "username": "kiln"}}),
    case("container-missing-key-file", CONTAINER_BUILD, "git.key_file", "readable file",
         "a key file that does not exist",
         {"git": {"repo": "{git_ssh}/smoke.git", "key_file": "/nonexistent/id", "known_hosts_file": "/etc/hosts"}}),
    case("container-relative-ca", CONTAINER_BUILD, "registry_ca[0].path", "absolute path",
         "a CA file given by a relative path",
         {"registry_ca": [{"registry": "registry.example.com", "path": "ca.pem"}], "insecure": False}),
    case("container-local-context-file", CONTAINER_BUILD, "local_context.path", "directory",
         "a file as the context", {"git": DROP, "local_context": {"path": "{contexts}/file.txt"}}),
    case("container-no-slirp4netns", CONTAINER_BUILD, "network", "apt-get install slirp4netns",
         "the default network, slirp4netns, on a host whose podman finds no slirp4netns (a PATH without it)", {},
         environment={"PATH": "{path_without_slirp4netns}"}),
]


def fill(value, context):
    """``value`` with the {placeholders} of strings filled in from ``context``."""
    if isinstance(value, str):
        return value.format(**context)
    if isinstance(value, dict):
        return {key: fill(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, context) for item in value]
    return value


def task_args(item, context):
    """The module arguments of one case: BASE with the case's changes, filled in."""
    args = dict(BASE[item["module"]])
    for key, value in item["args"].items():
        if value is DROP:
            args.pop(key, None)
        else:
            args[key] = value
    return fill(args, context)


def tasks(item, variable, context):
    """The tasks that run one case and leave its result (failed, msg) in ``variable``."""
    args = task_args(item, context)
    if item["module"] not in ROLES:
        task = {"name": item["id"], item["module"]: args, "register": variable, "ignore_errors": True}
        if item["environment"]:
            task["environment"] = fill(item["environment"], context)
        return [task]
    block = {
        "name": item["id"],
        "block": [{"ansible.builtin.include_role": {"name": item["module"]}, "vars": args}],
        "rescue": [{"ansible.builtin.set_fact": {variable: "{{ ansible_failed_result | combine({'failed': true}) }}"}}],
    }
    if item["kubeconfig"]:
        kubeconfig = fill(item["kubeconfig"], context)
        block["module_defaults"] = {"group/kubernetes.core.k8s": {"kubeconfig": kubeconfig},
                                    "group/kiln.kaniko.k8s": {"kubeconfig": kubeconfig}}
    return [{"name": item["id"] + ": until it fails",
             "ansible.builtin.set_fact": {variable: {"failed": False, "msg": "(the role did not fail)"}}}, block]
