"""Writes OCI image archives from local directories, without pulling anything.

Layers are made with GNU tar (sorted, mtime 0, numeric owners) and gzip with a fixed header, so the
same inputs always give the same digests, and a cached archive can be recognised by its manifest digest.
"""

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def layer_from_dir(root, out_path):
    """Tar `root` (its contents, not itself) into a gzip layer at out_path; returns (digest, diff_id, size)."""
    out_path = Path(out_path)
    diff = hashlib.sha256()
    tar = subprocess.Popen(
        ["tar", "--sort=name", "--mtime=@0", "--numeric-owner", "--xattrs", "--format=posix",
         "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "-C", str(root), "-cf", "-", "."],
        stdout=subprocess.PIPE,
    )
    with open(out_path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
        for chunk in iter(lambda: tar.stdout.read(1 << 20), b""):
            diff.update(chunk)
            gz.write(chunk)
    if tar.wait() != 0:
        raise RuntimeError("tar of %s failed" % root)
    return "sha256:" + _sha256_file(out_path), "sha256:" + diff.hexdigest(), out_path.stat().st_size


def write_archive(out_tar, names, layers, config, history=None):
    """Write an OCI layout archive.

    names: full references ("docker.io/library/busybox:1.35"), each recorded for `ctr images import`.
    layers: list of (path, digest, diff_id, size) from layer_from_dir.
    config: the image config's "config" part (Entrypoint, Cmd, Env, User, WorkingDir, Labels).
    history: what made each layer, bottom first (what `created_by` says); the same generic line when None.
    Returns the manifest digest.
    """
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer[2] for layer in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": line}
                    for line in history or ["kiln lab image builder"] * len(layers)],
    }
    config_bytes = json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer[1], "size": layer[3]} for layer in layers],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": MEDIA_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
                },
            }
            for name in names
        ],
    }

    def add_bytes(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    tmp = Path(str(out_tar) + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(tar, "index.json", json.dumps(index, sort_keys=True).encode())
        add_bytes(tar, "blobs/sha256/" + config_digest.split(":")[1], config_bytes)
        add_bytes(tar, "blobs/sha256/" + manifest_digest.split(":")[1], manifest_bytes)
        for path, digest, _diff_id, _size in layers:
            tar.add(str(path), arcname="blobs/sha256/" + digest.split(":")[1])
    tmp.rename(out_tar)
    return manifest_digest
