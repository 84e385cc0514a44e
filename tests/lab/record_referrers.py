"""Record what a registry answers about what refers to an image: the unit tests' fixtures of supply/check.py.

    python3 tests/lab/record_referrers.py http://HOST:PORT REPOSITORY DIGEST[,DIGEST...] PUBLIC_KEY SOURCE OUT.json

For each digest: its manifest, the referrers API (GET /v2/<repository>/referrers/<digest>), the referrers
tag schema's fallback tag (sha256-<hex>) and cosign's legacy tags (.sig, .att, .sbom); then every manifest
those name, by digest, and every layer blob of those manifests. Each answer is kept as the registry gave it
(status, Content-Type, the OCI-Subject and Docker-Content-Digest headers, the body in base64), under its path,
so that the shared fake registry of the unit tests serves exactly these answers. SOURCE says what wrote the
artifacts (tool, version, commands, registry and its version); PUBLIC_KEY is the file of the key they were
signed with.
"""

import base64
import json
import sys
import urllib.error
import urllib.request

ACCEPT = ", ".join(("application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"))
KEPT_HEADERS = ("Content-Type", "OCI-Subject", "Docker-Content-Digest")


def get(base, path, answers):
    """GET path once; keep the answer; return (status, body)."""
    if path in answers:
        answer = answers[path]
        return answer["status"], base64.b64decode(answer["body"])
    request = urllib.request.Request(base + path, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a registry on this machine
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    answers[path] = {"status": status, "body": base64.b64encode(body).decode(),
                     "headers": [[name, headers[name]] for name in KEPT_HEADERS if headers.get(name)]}
    return status, body


def manifest_and_blobs(base, repository, reference, answers):
    status, body = get(base, "/v2/%s/manifests/%s" % (repository, reference), answers)
    if status != 200:
        return None
    doc = json.loads(body)
    for layer in doc.get("layers") or []:
        get(base, "/v2/%s/blobs/%s" % (repository, layer["digest"]), answers)
    return doc


def record(base, repository, digests):
    answers = {}
    for digest in digests:
        tag = digest.replace(":", "-")
        get(base, "/v2/%s/manifests/%s" % (repository, digest), answers)
        status, body = get(base, "/v2/%s/referrers/%s" % (repository, digest), answers)
        named = [item["digest"] for item in json.loads(body).get("manifests") or []] if status == 200 else []
        index = manifest_and_blobs(base, repository, tag, answers)
        named += [item["digest"] for item in (index or {}).get("manifests") or []]
        for suffix in ("sig", "att", "sbom"):
            manifest_and_blobs(base, repository, "%s.%s" % (tag, suffix), answers)
        for referrer in named:
            manifest_and_blobs(base, repository, referrer, answers)
    return answers


def main(argv):
    base, repository, digests, key, source, out = argv[1:7]
    fixture = {"source": source, "repository": repository, "digests": digests.split(","),
               "public_key": open(key).read(), "answers": record(base.rstrip("/"), repository, digests.split(","))}
    with open(out, "w") as handle:
        json.dump(fixture, handle, indent=1, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv)
