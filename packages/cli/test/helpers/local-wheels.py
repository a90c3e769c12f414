"""Collects real wheels from pip's local wheel directories, for offline tests.

``python3 local-wheels.py OUT NAME...`` copies each project's newest pure-Python wheel from the
machine's pip sources (``pip config``: find-links and ``file://`` indexes) into OUT and prints
one ``project filename`` line per wheel. A project that ships only platform wheels whose ``.py``
sources are complete (charset-normalizer: mypyc-compiled copies beside its sources) is repacked
as ``py3-none-any`` without the native modules. Exits 3 when a project has no wheel here.
"""

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_dirs():
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    dirs = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        for part in value.strip().strip("'\"").split():
            path = part.removeprefix("file://")
            if key.endswith("find-links"):
                dirs.append(path)
            elif key.endswith("index-url"):
                dirs.append(os.path.join(os.path.dirname(path.rstrip("/")), "files"))
    return [d for i, d in enumerate(dirs) if os.path.isdir(d) and d not in dirs[:i]]


def version_key(version):
    return [int(x) if x.isdigit() else 0 for x in re.split(r"[.+-]", version)]


def find(name):
    pure, native = [], []
    for d in wheel_dirs():
        for f in os.listdir(d):
            parts = f.removesuffix(".whl").split("-")
            if not f.endswith(".whl") or norm(parts[0]) != norm(name):
                continue
            entry = (version_key(parts[1]), os.path.join(d, f))
            (pure if parts[-1] == "any" and parts[-2] == "none" else native).append(entry)
    if pure:
        return max(pure)[1], False
    if native:
        return max(native)[1], True
    print(f"no wheel for {name} in {wheel_dirs()}", file=sys.stderr)
    sys.exit(3)


def repack(src, out_dir):
    dist, version = os.path.basename(src).split("-")[:2]
    dest = os.path.join(out_dir, f"{dist}-{version}-py3-none-any.whl")
    records = []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = info.filename
            if name.endswith((".so", "/RECORD", "/")):
                continue
            data = zin.read(name)
            if name.endswith(".dist-info/WHEEL"):
                data = re.sub(rb"Root-Is-Purelib: \w+", b"Root-Is-Purelib: true", data)
                data = re.sub(rb"(?m)^Tag: .*\n", b"", data) + b"Tag: py3-none-any\n"
            zout.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append(f"{name},sha256={digest.decode()},{len(data)}")
        record = f"{dist}-{version}.dist-info/RECORD"
        zout.writestr(record, "\n".join([*records, f"{record},,"]) + "\n")
    return dest


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:]:
        src, native = find(name)
        path = repack(src, out) if native else shutil.copy(src, out)
        print(name, os.path.basename(path))


main()
