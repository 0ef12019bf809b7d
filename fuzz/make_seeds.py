#!/usr/bin/env python3
"""Writes the hand-made seed files of fuzz/corpus/ (run from the repository root).

csv/: one small valid CSV per schema, prefixed with the byte that selects the
schema in fuzz/harnesses/csv.swift (0-4: schemas/ in name order, 5: the
synthetic schema), and an encoding.json (byte 6). config/: the run
configurations in configs/ and examples/. telemetry/: a few lines in the
TELEMETRY.md format. The checkpoint seeds come from the library itself
(fuzz/seeds.sh runs the checkpoint harness with RANKER_FUZZ_WRITE_SEEDS).
"""
import glob, json, os, shutil

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "fuzz", "corpus")
names = ["ali-ccp-aitm", "ali-ccp-torch-rechub", "aliexpress", "census-income", "kuairand"]

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

def header_csv(schema, rows=3):
    """A header and `rows` rows that satisfy a header schema with named columns."""
    columns, values = [], {}
    for spec in schema["columns"]:
        cols = spec.get("columns") or [spec["column"]]
        for c in cols:
            if c not in columns:
                columns.append(c)
            role = spec["role"]
            if role == "label":
                values[c] = lambda r: str(r % 2)
            elif role == "dense":
                values[c] = lambda r: str(0.5 * r + 1)
            elif role == "day":
                values[c] = lambda r: str(20220504 + r * 2)
            elif role == "ignore" and c in values:
                pass
            elif role == "ignore":
                values[c] = lambda r: "x%d" % r
            elif c not in values:
                values[c] = lambda r: "v%d" % (r % 2)
    lines = [",".join(columns)]
    for r in range(rows):
        lines.append(",".join(values[c](r) for c in columns))
    return ("\n".join(lines) + "\n").encode()

for index, name in enumerate(names):
    schema = json.load(open(os.path.join(root, "schemas", name + ".json")))
    if schema.get("format", {}).get("header", True):
        body = header_csv(schema)
    else:  # census-income: 42 columns, no header
        rows = []
        for r in range(3):
            fields = []
            for c in range(42):
                if c in (0, 5, 16, 17, 18, 30, 39):
                    fields.append(str(20 + r * 7 + c))
                elif c == 7:
                    fields.append(" Never married" if r % 2 else " Married-civilian spouse present")
                elif c == 41:
                    fields.append(" 50000+." if r % 2 else " - 50000.")
                else:
                    fields.append(" v%d" % ((r + c) % 3))
            rows.append(",".join(fields))
        body = ("\n".join(rows) + "\n").encode()
    write(os.path.join(corpus, "csv", "%d-%s.csv" % (index, name)), bytes([index]) + body)

synthetic = (b'click,item,tag,price,user,date,id\n1,b,red,1.5,u1,20240101,r1\n'
             b'0,a,"blue, green",3,u2,20240102,r2\n1,q,a,-1,u1,20240103,r3\n')
write(os.path.join(corpus, "csv", "5-synthetic.csv"), bytes([5]) + synthetic)

encoding = {
    "format": "ranker-encoding/1", "ranker_version": "0.1.0",
    "schema": {"name": "synthetic", "format": {"separator": ",", "header": True},
               "columns": [{"column": "click", "role": "label"},
                           {"column": "item", "role": "sparse", "dimension": 3},
                           {"column": "tag", "role": "sparse", "encoding": "hash", "buckets": 7},
                           {"column": "price", "role": "dense", "transform": "standardize"}]},
    "tasks": [{"name": "click"}],
    "sparse_fields": [{"name": "item", "encoding": "vocabulary", "vocabulary": 4, "dimension": 3,
                       "values": ["b", "a", "q"]},
                      {"name": "tag", "encoding": "hash", "vocabulary": 7, "dimension": 8}],
    "dense_features": [{"name": "price", "transform": "standardize", "mean": 2, "standard_deviation": 1}],
}
write(os.path.join(corpus, "csv", "6-encoding.json"), bytes([6]) + json.dumps(encoding).encode())

for path in sorted(glob.glob(os.path.join(root, "configs", "*.json")) +
                   glob.glob(os.path.join(root, "examples", "*", "*.json"))):
    name = os.path.relpath(path, root).replace("/", "-")
    shutil.copy(path, os.path.join(corpus, "config", name))

telemetry = [
    '{"type": "run", "name": "mmoe-synthetic", "model": "mmoe", "tasks": ["click", "like"], "combiner": "fixed", '
    '"combiner_kind": "loss_weights", "optimizer": "clippy_adagrad", "parameters": ["embedding.user", "experts.0.W"], '
    '"started": "2026-11-23T14:00:00Z"}',
    '{"type": "step", "step": 17, "epoch": 0, "day": null, "lr": 0.01, "losses": [0.61, 0.33], "weights": [1.0, 1.0], '
    '"grad_norms": [0.8, 0.2], "cosines": [[1, -0.1], [-0.1, 1]], "conflicting_pairs": 1, "pinv_fallbacks": 0, '
    '"clip_factors": {"embedding.user": 1.0, "experts.0.W": 0.42}, "samples_per_s": 51234.5}',
    '{"type": "step", "step": 18, "epoch": 0, "day": null, "lr": 0.01, "losses": [null, 0.31], "weights": [1.0, 1.0], '
    '"samples_per_s": 50000}',
    '{"type": "eval", "step": 400, "epoch": 0, "split": "valid", "metrics": {"click": {"auc": 0.71, "gauc": 0.64, '
    '"logloss": 0.52, "users": 900, "impressions": 20000}}, "mean_auc": 0.70}',
    '{"type": "event", "step": 733, "kind": "spike", "task": "click", "parameter": "experts.0.W", "value": 4.2, '
    '"message": "loss 4.2 above 3x its moving average 1.1"}',
    '{"type": "end", "step": 5000, "best_step": 4000, "best_mean_auc": 0.72, "stopped": "completed", '
    '"test": {"click": {"auc": 0.71}}}',
]
write(os.path.join(corpus, "telemetry", "full.jsonl"), ("\n".join(telemetry) + "\n").encode())
write(os.path.join(corpus, "telemetry", "truncated.jsonl"), ("\n".join(telemetry[:3]) + '\n{"type": "st').encode())
write(os.path.join(corpus, "telemetry", "run-only.jsonl"), (telemetry[0] + "\r\n\n").encode())
