#!/usr/bin/env python3
"""oci-image.py — a multi-arch OCI image for the container-client tests, and its push

    oci-image.py build DIR [--seed S] [--layers MIB,MIB,...] [--platforms P,P] [--tag T]
    oci-image.py push DIR REGISTRY REPO:TAG [--creds USER:PASS]
    oci-image.py files DIR PLATFORM
    oci-image.py info DIR

build writes an OCI image layout in DIR (oci-layout, index.json, blobs/sha256/): one image
index tagged T (default "v1") naming one image manifest per platform (default
linux/amd64,linux/arm64), each with its own config and its own gzip'd tar layers, layer i
holding /layer-i/data of about MIB[i] MiB (fractions allowed) of random bytes plus a small
text file, so each compressed layer is about that size. Everything is a function of the seed
(no timestamps), so a layout with the same arguments has the same digests. With --cache
CACHEDIR the layout is built once under CACHEDIR, in a directory named after this script's
hash and the arguments, and DIR becomes a symbolic link to it: the tests of one build tree
share it, and concurrent builders race harmlessly (each builds aside and renames).

push copies the layout to REGISTRY (host:port, plain http) as REPO:TAG by the registry API
(blobs by monolithic upload, then the manifests, then the index), following a Bearer
challenge to its token realm with the Basic credentials, as any registry client does.

files prints what a PLATFORM's image unpacks to, one "SHA256  ./PATH" line per regular
file, sorted: what a runtime's mounted rootfs must hold. info prints the layout's summary
as JSON: the index digest, and per platform the manifest, config and layer digests and
sizes, and "blob_bytes" (config plus layers: what a client pulling that platform fetches).
"""
import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
MIB = 1048576


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def put(self, data):
        digest = sha256(data)
        path = self.path(digest)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        return {"digest": digest, "size": len(data)}

    def path(self, digest):
        return os.path.join(self.root, "blobs", "sha256", digest.split(":", 1)[1])

    def read(self, digest):
        with open(self.path(digest), "rb") as f:
            return f.read()


def make_layer(rng, index, size):
    """A tar of /layer-INDEX/{data,README}, gzip'd without a timestamp: (tar, tar.gz)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo(f"layer-{index}")
        directory.type = tarfile.DIRTYPE
        directory.mode = 0o755
        tar.addfile(directory)
        for name, body in ((f"layer-{index}/data", rng.randbytes(size)),
                           (f"layer-{index}/README", f"layer {index}, {size} bytes\n".encode())):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(body))
    raw = tar_bytes.getvalue()
    packed = io.BytesIO()
    # Level 1: the data is random, a higher level would only cost time.
    with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=1, mtime=0, filename="") as gz:
        gz.write(raw)
    return raw, packed.getvalue()


def build(root, seed, layers_mib, platforms, tag):
    layout = Layout(root)
    manifests = []
    for number, platform in enumerate(platforms):
        os_name, arch = platform.split("/", 1)
        # One stream per platform: the images share no layer.
        rng = random.Random(f"{seed}/{platform}")
        layer_descs, diff_ids = [], []
        for i, mib in enumerate(layers_mib):
            raw, packed = make_layer(rng, i, int(mib * MIB))
            diff_ids.append(sha256(raw))
            layer_descs.append(dict(layout.put(packed), mediaType=LAYER_TYPE))
        config = {
            "architecture": arch,
            "os": os_name,
            "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"oci-image.py layer {i}"} for i in range(len(layers_mib))],
        }
        config_desc = dict(layout.put(canonical(config)), mediaType=CONFIG_TYPE)
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": config_desc,
                    "layers": layer_descs}
        manifests.append(dict(layout.put(canonical(manifest)), mediaType=MANIFEST_TYPE,
                              platform={"architecture": arch, "os": os_name}))
    index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": manifests}
    index_desc = dict(layout.put(canonical(index)), mediaType=INDEX_TYPE,
                      annotations={"org.opencontainers.image.ref.name": tag})
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [index_desc]}, f)


def load(root):
    layout = Layout(root)
    with open(os.path.join(root, "index.json")) as f:
        top = json.load(f)["manifests"][0]
    index = json.loads(layout.read(top["digest"]))
    images = {}
    for desc in index["manifests"]:
        platform = f"{desc['platform']['os']}/{desc['platform']['architecture']}"
        manifest = json.loads(layout.read(desc["digest"]))
        images[platform] = {"manifest": desc, "config": manifest["config"],
                            "layers": manifest["layers"]}
    return layout, top, images


def info(root):
    _, top, images = load(root)
    out = {"index": top["digest"], "tag": top["annotations"]["org.opencontainers.image.ref.name"],
           "platforms": {}}
    for platform, image in images.items():
        blobs = [image["config"]] + image["layers"]
        out["platforms"][platform] = {
            "manifest": image["manifest"]["digest"],
            "config": image["config"]["digest"],
            "layers": [{"digest": l["digest"], "size": l["size"]} for l in image["layers"]],
            "blob_bytes": sum(b["size"] for b in blobs),
        }
    return out


def files(root, platform):
    """The regular files of PLATFORM's rootfs: layers applied in order (no whiteouts here)."""
    layout, _, images = load(root)
    found = {}
    for layer in images[platform]["layers"]:
        with tarfile.open(layout.path(layer["digest"]), mode="r:gz") as tar:
            for member in tar:
                if member.isfile():
                    found["./" + member.name] = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
    return [f"{found[name]}  {name}" for name in sorted(found)]


# --- push ------------------------------------------------------------------


class Registry:
    def __init__(self, host, creds):
        self.base = f"http://{host}"
        self.creds = creds
        self.tokens = {}
        self.authorization = None

    def _token(self, challenge):
        # Bearer realm="…",service="…",scope="…"
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm")
        key = params.get("scope", "")
        if key not in self.tokens:
            request = urllib.request.Request(realm + "?" + urllib.parse.urlencode(params))
            if self.creds:
                request.add_header("Authorization",
                                   "Basic " + base64.b64encode(self.creds.encode()).decode())
            with urllib.request.urlopen(request, timeout=30) as answer:
                body = json.load(answer)
            self.tokens[key] = body.get("token") or body["access_token"]
        return self.tokens[key]

    def request(self, method, url, data=None, headers=None, accept=(200, 201, 202, 404)):
        """One request, with the credentials the last challenge asked for (a body is not
        sent twice: the registry may close on a 401 before reading it)."""
        if not url.startswith("http"):
            url = self.base + url
        for attempt in range(2):
            request = urllib.request.Request(url, data=data, method=method)
            for key, value in (headers or {}).items():
                request.add_header(key, value)
            if self.authorization:
                request.add_header("Authorization", self.authorization)
            try:
                with urllib.request.urlopen(request, timeout=120) as answer:
                    return answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as error:
                challenge = error.headers.get("WWW-Authenticate", "")
                if error.code == 401 and attempt == 0 and challenge:
                    if challenge.startswith("Bearer "):
                        self.authorization = "Bearer " + self._token(challenge)
                    else:
                        self.authorization = "Basic " + base64.b64encode(self.creds.encode()).decode()
                    continue
                if error.code in accept:
                    return error.code, error.headers, error.read()
                raise RuntimeError(f"{method} {url}: {error.code} {error.read()[:300]!r}")
        raise RuntimeError(f"{method} {url}: still 401 with credentials")

    def push_blob(self, repo, desc, data):
        status, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{desc['digest']}")
        if status == 200:
            return
        # The upload's POST asks for push: its challenge gets the token the PUT needs.
        _, headers, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/", data=b"")
        location = urllib.parse.urljoin(self.base + "/", headers["Location"])
        location += ("&" if "?" in location else "?") + "digest=" + desc["digest"]
        self.request("PUT", location, data=data,
                     headers={"Content-Type": "application/octet-stream"}, accept=(201,))

    def push_manifest(self, repo, reference, media_type, data):
        self.request("PUT", f"/v2/{repo}/manifests/{reference}", data=data,
                     headers={"Content-Type": media_type}, accept=(201,))


def push(root, host, target, creds):
    repo, _, tag = target.rpartition(":")
    layout, top, images = load(root)
    registry = Registry(host, creds)
    for image in images.values():
        for desc in [image["config"]] + image["layers"]:
            registry.push_blob(repo, desc, layout.read(desc["digest"]))
        registry.push_manifest(repo, image["manifest"]["digest"], MANIFEST_TYPE,
                               layout.read(image["manifest"]["digest"]))
    registry.push_manifest(repo, tag, INDEX_TYPE, layout.read(top["digest"]))


def build_cached(directory, cache, args):
    with open(os.path.abspath(__file__), "rb") as f:
        key = hashlib.sha256(f.read() + repr(args).encode()).hexdigest()[:16]
    os.makedirs(cache, exist_ok=True)
    final = os.path.join(os.path.abspath(cache), "image-" + key)
    if not os.path.exists(os.path.join(final, "index.json")):
        aside = tempfile.mkdtemp(prefix=".building-", dir=cache)
        build(aside, *args)
        try:
            os.rename(aside, final)
        except OSError:
            # Another builder finished first: theirs has the same digests.
            shutil.rmtree(aside)
    if os.path.lexists(directory):
        os.remove(directory)
    os.symlink(final, directory)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build")
    b.add_argument("dir")
    b.add_argument("--seed", default="dfly")
    b.add_argument("--layers", default="2,3,4", help="MiB per layer, comma-separated")
    b.add_argument("--platforms", default="linux/amd64,linux/arm64")
    b.add_argument("--tag", default="v1")
    b.add_argument("--cache", help="build once under this directory, DIR a link to it")
    p = commands.add_parser("push")
    p.add_argument("dir")
    p.add_argument("registry")
    p.add_argument("target", help="REPO:TAG")
    p.add_argument("--creds", default="")
    f = commands.add_parser("files")
    f.add_argument("dir")
    f.add_argument("platform")
    i = commands.add_parser("info")
    i.add_argument("dir")
    args = parser.parse_args()

    if args.command == "build":
        build_args = (args.seed, [float(x) for x in args.layers.split(",")],
                      args.platforms.split(","), args.tag)
        if len(build_args[1]) < 1 or len(build_args[2]) < 1:
            parser.error("at least one layer and one platform")
        if args.cache:
            build_cached(args.dir, args.cache, build_args)
        else:
            build(args.dir, *build_args)
    elif args.command == "push":
        push(args.dir, args.registry, args.target, args.creds)
    elif args.command == "files":
        print("\n".join(files(args.dir, args.platform)))
    elif args.command == "info":
        print(json.dumps(info(args.dir), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
