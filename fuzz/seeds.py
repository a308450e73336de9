#!/usr/bin/env python3
"""Writes the raw seed inputs of each target under fuzz/work/seeds/<target>,
from the pack's files, the rule tests and the sample generator's output;
`cargo xtask fuzz <target> --seconds 0 --cmin` style minimization (libFuzzer
-merge=1) then keeps the few that reach distinct coverage in
fuzz/corpus/<target>. Run from the repository root."""
import glob, hashlib, json, os, random

import sys

OUT = "fuzz/work/seeds"


def write(target, data):
    os.makedirs(f"{OUT}/{target}", exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(f"{OUT}/{target}/{name}", "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# front_end: mode byte 0 = rule, 1 = data model, 2 = predicates.
rules = sorted(glob.glob("rules/kubernetes/*.yml") + glob.glob("rules/gcp_k8s/*.yml"))
for path in rules:
    write("front_end", b"\x00" + read(path))
for path in sorted(glob.glob("rule-macros/tests/ui/fixtures/*.yml")):
    write("front_end", b"\x00" + read(path))
for path in sorted(glob.glob("generated-tests/conformance/**/*.yml", recursive=True))[:60]:
    write("front_end", b"\x00" + read(path))
for i, path in enumerate(sorted(glob.glob("rules/data_models/*.yml"))):
    write("front_end", bytes([1 + 3 * i]) + read(path))
for i, path in enumerate(sorted(glob.glob("rules/predicates/*.yml"))):
    write("front_end", bytes([2 + 3 * i]) + read(path))

# ndjson_reader: config byte, then lines: the sample (in runs of lines), the
# bad-lines example, and every rule test event as one line.
sample = read("examples/k8s_audit_sample.ndjson").split(b"\n")
for start in range(0, min(len(sample), 400), 20):
    write("ndjson_reader", bytes([2 + 3 * (start % 5)]) + b"\n".join(sample[start:start + 20]) + b"\n")
write("ndjson_reader", b"\x02" + read("examples/k8s_audit_bad_lines.ndjson"))
write("ndjson_reader", b"\x00" + read("examples/k8s_audit_bad_lines.ndjson"))
events = []
for path in rules:
    text = read(path).decode()
    # The test logs are YAML; the compiled tests hold them as JSON, so take
    # the sample's events instead when PyYAML is missing.
    try:
        import yaml  # type: ignore
    except ImportError:
        break
    doc = yaml.safe_load(text)
    for test in doc.get("Tests", []) or []:
        log = test.get("Log")
        if isinstance(log, dict):
            events.append(json.dumps(log, separators=(",", ":"), default=str).encode())
for i in range(0, len(events), 8):
    write("ndjson_reader", b"\x02" + b"\n".join(events[i:i + 8]) + b"\r\n")

# differential: the generator is structure-aware; its seeds are bytes that
# drive it (random, of a few sizes).
rng = random.Random(8)
for size in [16, 64, 256, 1024, 4096] * 8:
    write("differential", bytes(rng.getrandbits(8) for _ in range(size)))
