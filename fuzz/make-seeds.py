#!/usr/bin/env python3
"""Seed the fuzz corpora from the published test vectors (tests/vectors/manifest.json).

Usage: python3 fuzz/make-seeds.py OUT_DIR   -> OUT_DIR/{extract,config,certificate,decision,structured}/
Each seed is in the input format the target's comment describes. `structured` gets an empty
directory: it builds its certificates itself, and its empty input is already a valid chain.
"""
import base64
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# In the order of certgate's `Format::NAMES` (src/extract/mod.rs): the extract target picks the
# format by its index. tests/vectors.rs checks that the two lists agree.
FORMATS = ["auto", "base64-der", "hex-der", "pem", "url-pem", "rfc9440", "xfcc", "xfcc-json"]


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/seeds")
    vectors_dir = ROOT / "tests" / "vectors"
    manifest = json.loads((vectors_dir / "manifest.json").read_text())
    for target in ["extract", "config", "certificate", "decision", "structured"]:
        (out / target).mkdir(parents=True, exist_ok=True)

    def write(target, data):
        name = hashlib.sha1(data).hexdigest()
        (out / target / name).write_bytes(data)

    for v in manifest["vectors"]:
        values = [(vectors_dir / h["value_file"]).read_bytes() for h in v["headers"]]
        fmt = v["format"] if v["format"] in FORMATS else "auto"
        selector = bytes([FORMATS.index(fmt)])
        cert_values = [val for h, val in zip(v["headers"], values) if "secret" not in h["name"].lower()]
        write("extract", selector + b"\x1e".join(cert_values))
        records = "\x1e".join(f"{k}={val}" for k, val in v["variables"].items())
        write("config", records.encode())
        request = "GET /api/values\n"
        for h, val in zip(v["headers"], values):
            request += f"{h['name']}: {val.decode('utf-8', 'replace').replace(chr(10), chr(31))}\n"
        request += "\n" + "\n".join(f"{k}={val.replace(chr(10), chr(31))}" for k, val in v["variables"].items())
        write("decision", request.encode())
        if fmt == "base64-der" and v["category"] in ("valid", "expired", "forged", "wrong-eku"):
            try:
                write("certificate", base64.b64decode(values[0].strip(), validate=True))
            except Exception:
                pass
    ca = "".join(l for l in manifest["ca_pem"].splitlines() if not l.startswith("-----"))
    write("certificate", base64.b64decode(ca))
    print(f"seeded {out}")


if __name__ == "__main__":
    main()
