#!/usr/bin/env python3
"""OCI image-layout archives for the real node's locally built images (no registry, no docker, no umoci).

  oci.py layer OUT.tar.gz < layer.tar         gzip a layer tar; prints {"digest", "diff_id", "size"}
  oci.py image SPEC.json OUT.oci.tar          write an image-layout tar from a spec (see write_image)
  oci.py name ARCHIVE                         the image name an archive carries (what `ctr images import` will use)
  oci.py unpack ARCHIVE ROOTFS [PLATFORM]     apply the layers to ROOTFS (whiteouts honoured); prints the config
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
REF_NAME = "org.opencontainers.image.ref.name"
# containerd's importer prefers this one over REF_NAME; both carry the full name so any reader gets the same answer
CONTAINERD_NAME = "io.containerd.image.name"
CHUNK = 1 << 20


class _HashingWriter(io.RawIOBase):
    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)


def cmd_layer(out):
    raw = hashlib.sha256()
    tmp = out + ".part"
    with open(tmp, "wb") as f:
        hw = _HashingWriter(f)
        # mtime=0 and no file name in the gzip header: the same tar gives the same blob digest
        with gzip.GzipFile(filename="", mode="wb", fileobj=hw, mtime=0, compresslevel=6) as gz:
            while True:
                b = sys.stdin.buffer.read(CHUNK)
                if not b:
                    break
                raw.update(b)
                gz.write(b)
    os.replace(tmp, out)
    json.dump({"digest": "sha256:" + hw.h.hexdigest(), "diff_id": "sha256:" + raw.hexdigest(), "size": hw.n}, sys.stdout)
    print()


def _blob(obj):
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def _add_bytes(tar, name, data):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
    tar.addfile(ti, io.BytesIO(data))


def write_image(spec, out):
    """spec: {"name", "platform": {"os", "architecture"}, "config": {...}, "history": [...],
    "layers": [{"path", "digest", "diff_id", "size"}], "annotations": {...}}"""
    layers = spec["layers"]
    config = {
        "architecture": spec["platform"]["architecture"],
        "os": spec["platform"]["os"],
        "config": spec["config"],
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": spec.get("history", []),
    }
    if "created" in spec:
        config["created"] = spec["created"]
    config_data, config_digest = _blob(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_data)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": l["digest"], "size": l["size"]} for l in layers],
    }
    if spec.get("annotations"):
        manifest["annotations"] = spec["annotations"]
    manifest_data, manifest_digest = _blob(manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "digest": manifest_digest,
            "size": len(manifest_data),
            "platform": spec["platform"],
            "annotations": {REF_NAME: spec["name"], CONTAINERD_NAME: spec["name"]},
        }],
    }
    tmp = out + ".part"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add_bytes(tar, "index.json", json.dumps(index, indent=2).encode())
        for d in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(ti)
        _add_bytes(tar, "blobs/sha256/" + config_digest[7:], config_data)
        _add_bytes(tar, "blobs/sha256/" + manifest_digest[7:], manifest_data)
        seen = set()
        for l in layers:
            if l["digest"] in seen:
                continue
            seen.add(l["digest"])
            ti = tarfile.TarInfo("blobs/sha256/" + l["digest"][7:])
            ti.size, ti.mode, ti.mtime = os.path.getsize(l["path"]), 0o644, 0
            if ti.size != l["size"]:
                raise SystemExit(f"oci.py: {l['path']} is {ti.size} bytes, its record says {l['size']}")
            with open(l["path"], "rb") as f:
                tar.addfile(ti, f)
    os.replace(tmp, out)
    print(json.dumps({"manifest": manifest_digest, "config": config_digest}))


class Archive:
    """An OCI image-layout or `docker save` tar, read in place."""

    def __init__(self, path):
        self.tar = tarfile.open(path, "r:")
        self.members = {m.name[2:] if m.name.startswith("./") else m.name: m for m in self.tar.getmembers()}

    def read(self, name):
        m = self.members.get(name)
        if m is None:
            raise SystemExit(f"oci.py: {name} is not in the archive")
        return self.tar.extractfile(m).read()

    def blob(self, digest):
        algo, hexd = digest.split(":", 1)
        return self.read(f"blobs/{algo}/{hexd}")

    def blob_file(self, digest):
        algo, hexd = digest.split(":", 1)
        return self.tar.extractfile(self.members[f"blobs/{algo}/{hexd}"])

    def is_oci(self):
        return "index.json" in self.members


def image_name(archive):
    a = Archive(archive)
    if a.is_oci():
        index = json.loads(a.read("index.json"))
        for m in index.get("manifests", []):
            ann = m.get("annotations") or {}
            for key in (CONTAINERD_NAME, REF_NAME):
                name = ann.get(key, "")
                # a bare tag ("v0.4.11") would be imported as import-<date>:v0.4.11 without --base-name
                if name and any(c in name for c in "/:@"):
                    return name
        raise SystemExit(f"oci.py: {archive}: no manifest in index.json carries a full image name in "
                         f"{CONTAINERD_NAME} or {REF_NAME} (a bare tag is not enough)")
    if "manifest.json" in a.members:
        for entry in json.loads(a.read("manifest.json")):
            for tag in entry.get("RepoTags") or []:
                return tag
        raise SystemExit(f"oci.py: {archive}: docker archive without RepoTags")
    raise SystemExit(f"oci.py: {archive} is neither an OCI image layout nor a docker archive")


# ownership and modes are the point of unpacking an image: newer Pythons' default "data" filter would drop them
_TRUSTED = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}


def _select_manifest(a, platform):
    os_, arch = platform.split("/")[:2]
    if a.is_oci():
        desc = json.loads(a.read("index.json"))["manifests"]
        while True:
            pick = [d for d in desc if not d.get("platform") or
                    (d["platform"].get("os") == os_ and d["platform"].get("architecture") == arch)]
            if not pick:
                raise SystemExit(f"oci.py: no manifest for {platform}")
            d = pick[0]
            doc = json.loads(a.blob(d["digest"]))
            if d["mediaType"] in (OCI_INDEX, DOCKER_MANIFEST_LIST) or "manifests" in doc:
                desc = doc["manifests"]
                continue
            config = json.loads(a.blob(doc["config"]["digest"]))
            return config, [(l["digest"], l["mediaType"]) for l in doc["layers"]], a.blob_file
    entry = json.loads(a.read("manifest.json"))[0]
    config = json.loads(a.read(entry["Config"]))
    return config, [(p, "tar") for p in entry["Layers"]], lambda p: a.tar.extractfile(a.members[p])


def _safe_join(root, name):
    p = os.path.normpath(os.path.join(root, name.lstrip("/")))
    if p != root and not p.startswith(root + os.sep):
        raise SystemExit(f"oci.py: layer entry escapes the root: {name}")
    # a symlinked parent must not carry a later entry out of the root either
    parent = os.path.dirname(p)
    real = os.path.realpath(parent)
    if real != root and not real.startswith(root + os.sep):
        raise SystemExit(f"oci.py: layer entry {name} goes through a symlink out of the root")
    return p


def _remove(p):
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p)
    elif os.path.lexists(p):
        os.unlink(p)


def unpack(archive, root, platform="linux/amd64"):
    root = os.path.realpath(root)
    os.makedirs(root, exist_ok=True)
    a = Archive(archive)
    config, layers, opener = _select_manifest(a, platform)
    for ref, _media in layers:
        # tarfile's "r|*" sniffs gzip vs plain, which covers OCI gzip layers and docker-save plain ones
        with tarfile.open(fileobj=opener(ref), mode="r|*") as lt:
            for m in lt:
                name = m.name[2:] if m.name.startswith("./") else m.name
                if name in ("", "."):
                    continue
                d, base = os.path.split(name)
                if base == ".wh..wh..opq":
                    target = _safe_join(root, d)
                    if os.path.isdir(target):
                        for child in os.listdir(target):
                            _remove(os.path.join(target, child))
                    continue
                if base.startswith(".wh."):
                    _remove(_safe_join(root, os.path.join(d, base[4:])))
                    continue
                target = _safe_join(root, name)
                if not m.isdir() and os.path.lexists(target):
                    _remove(target)
                elif m.isdir() and os.path.lexists(target) and not os.path.isdir(target):
                    _remove(target)
                m.name = name
                if m.islnk():
                    m.linkname = m.linkname[2:] if m.linkname.startswith("./") else m.linkname
                lt.extract(m, root, numeric_owner=True, set_attrs=True, **_TRUSTED)
    json.dump(config, sys.stdout, indent=2)
    print()


def main(argv):
    if len(argv) >= 2 and argv[0] == "layer":
        cmd_layer(argv[1])
    elif len(argv) == 3 and argv[0] == "image":
        with open(argv[1]) as f:
            write_image(json.load(f), argv[2])
    elif len(argv) == 2 and argv[0] == "name":
        print(image_name(argv[1]))
    elif len(argv) in (3, 4) and argv[0] == "unpack":
        unpack(argv[1], argv[2], *(argv[3:]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
