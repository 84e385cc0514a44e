#!/usr/bin/env python3
"""Record what a distribution registry really answers when a tag is deleted, for the unit tests of the registry
client and of the multi-arch build's tag cleanup.

    python3 tests/lab/record_registry.py BINARY NAME tests/unit/plugins/module_utils/_registry/recorded

BINARY is a registry binary (Debian's /usr/bin/docker-registry for 2.8, `lab.py go registry`'s build for 3); it
runs here, on a port of its own on 127.0.0.1, with a root directory under /tmp, never the lab's registry. Each
scenario pushes two platform images under per-platform tags and an OCI index of them under `v1` (as a build of
platforms does), then makes the requests the module makes, and writes NAME.json: per request its method, path,
status, the headers the client reads and the body. With deletes enabled, `registry garbage-collect
--delete-untagged` then runs (the registry stopped, as the role's job does) and the recording says which
manifests are still served afterwards.
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPOSITORY = "kiln/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
KEPT_HEADERS = ("Content-Type", "Docker-Content-Digest", "Docker-Distribution-Api-Version", "Link")
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))

CONFIG = """version: 0.1
log:
  level: error
  fields: {service: kiln-record}
storage:
  delete: {enabled: %(delete)s}
  filesystem: {rootdirectory: %(root)s}
http:
  addr: 127.0.0.1:%(port)d
  secret: kiln-record-only
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dump(doc):
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self, binary, work, delete):
        self.binary, self.work, self.port = binary, work, free_port()
        self.root = work / "data"
        self.config = work / ("config-%s.yml" % ("delete" if delete else "nodelete"))
        self.config.write_text(CONFIG % {"delete": "true" if delete else "false", "root": self.root,
                                         "port": self.port})
        self.process = None

    def __enter__(self):
        env = dict(os.environ, OTEL_TRACES_EXPORTER="none")
        self.process = subprocess.Popen([self.binary, "serve", str(self.config)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=open(self.work / "registry.log", "ab"))
        for _ in range(100):
            try:
                self.request("GET", "/v2/")
                return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("record_registry: %s did not answer on port %d" % (self.binary, self.port))

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(10)

    def request(self, method, path, data=None, headers=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def push_blob(self, data):
        status, headers, _body = self.request("POST", "/v2/%s/blobs/uploads/" % REPOSITORY, data=b"")
        assert status == 202, status
        location = headers["Location"]
        location = location.split("127.0.0.1:%d" % self.port, 1)[-1]
        sep = "&" if "?" in location else "?"
        status, _headers, body = self.request("PUT", "%s%sdigest=%s" % (location, sep, digest_of(data)), data=data,
                                              headers={"Content-Type": "application/octet-stream"})
        assert status == 201, (status, body)
        return {"digest": digest_of(data), "size": len(data)}

    def push_manifest(self, reference, body, media_type):
        status, _headers, answer = self.request("PUT", "/v2/%s/manifests/%s" % (REPOSITORY, reference), data=body,
                                                headers={"Content-Type": media_type})
        assert status == 201, (status, answer)
        return {"mediaType": media_type, "digest": digest_of(body), "size": len(body)}


def push_build(registry):
    """Two platform images under v1-<os>-<arch> and their index under v1; returns the index's descriptors."""
    entries = []
    for os_name, arch in PLATFORMS:
        layer = registry.push_blob(("layer of %s/%s\n" % (os_name, arch)).encode())
        config = dump({"architecture": arch, "os": os_name, "config": {"Labels": {"kiln.kaniko/build-key": arch}},
                       "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}})
        config_desc = registry.push_blob(config)
        manifest = dump({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                         "config": dict(config_desc, mediaType=OCI_CONFIG),
                         "layers": [dict(layer, mediaType=OCI_LAYER)]})
        entry = registry.push_manifest("v1-%s-%s" % (os_name, arch), manifest, OCI_MANIFEST)
        entries.append(dict(entry, platform={"os": os_name, "architecture": arch}))
    index = dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    return registry.push_manifest("v1", index, OCI_INDEX), entries


def answer(registry, method, path, headers=None):
    status, response_headers, body = registry.request(method, path, headers=headers)
    kept = [[name, response_headers[name]] for name in KEPT_HEADERS if response_headers.get(name)]
    return {"method": method, "path": path, "status": status, "headers": kept, "body": body.decode()}


def scenario(binary, work, delete):
    answers = {}
    with Registry(binary, work, delete) as registry:
        index, entries = push_build(registry)
        tag_path = "/v2/%s/manifests/v1-linux-amd64" % REPOSITORY
        answers["delete_tag"] = answer(registry, "DELETE", tag_path)
        answers["delete_tag_again"] = answer(registry, "DELETE", tag_path)
        answers["delete_unknown_repository"] = answer(registry, "DELETE", "/v2/kiln/none/manifests/v1-linux-amd64")
        answers["tags_after"] = answer(registry, "GET", "/v2/%s/tags/list" % REPOSITORY)
        accept = {"Accept": OCI_MANIFEST}
        image_path = "/v2/%s/manifests/%s" % (REPOSITORY, entries[0]["digest"])
        answers["image_by_digest"] = answer(registry, "HEAD", image_path, headers=accept)
        answers["index"] = {"digest": index["digest"], "entries": [entry["digest"] for entry in entries]}
    if delete:
        gc = subprocess.run([binary, "garbage-collect", "--delete-untagged", str(registry.config)],
                            capture_output=True, text=True, env=dict(os.environ, OTEL_TRACES_EXPORTER="none"),
                            check=False)
        answers["garbage_collect"] = {"returncode": gc.returncode, "summary": [
            line for line in gc.stdout.splitlines() if "eligible for deletion" in line and "blob " not in line
            or "blobs marked" in line]}
        with Registry(binary, work, delete) as registry:
            answers["image_after_gc"] = answer(registry, "HEAD", image_path, headers=accept)
            answers["index_after_gc"] = answer(registry, "HEAD", "/v2/%s/manifests/v1" % REPOSITORY,
                                               headers={"Accept": OCI_INDEX})
    return answers


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, name, out = argv[1], argv[2], Path(argv[3])
    # `registry --version` prints its path first: "/usr/bin/docker-registry github.com/docker/distribution 2.8.2+ds1".
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.split()[1:]
    recording = {"registry": " ".join(version), "scenarios": {}}
    for delete in (True, False):
        work = Path(tempfile.mkdtemp(prefix="kiln-record-registry-"))
        try:
            recording["scenarios"]["delete_enabled" if delete else "delete_disabled"] = scenario(binary, work, delete)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / (name + ".json")).write_text(json.dumps(recording, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
