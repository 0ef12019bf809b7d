#!/usr/bin/env python3
"""Checks and scores a Ranker ONNX export with onnx and onnxruntime.

Usage:
    onnx_score.py check MODEL.onnx
        onnx.checker.check_model (full check: types and shapes inferred) and a
        summary of the graph as JSON: inputs, outputs, opset, operators, metadata.
    onnx_score.py score-csv MODEL.onnx ENCODING.json ROWS.csv [--output SCORES.csv]
        Turns raw CSV rows into the model's inputs with the exported encoding
        (`ranker export --format onnx --encoding`; docs/EXPORT.md) and scores
        them: a header with the output names, then one row of probabilities per
        input row — what `ranker predict` writes for the same rows.
    onnx_score.py cases MANIFEST.json
        Test driver: for every case of the manifest, checks the model and scores
        the binary inputs it names at each batch size, writing the scores as
        little-endian float32 (see `run_cases`).
    onnx_score.py bench MODEL.onnx ENCODING.json ROWS.csv --ranker BIN --run RUN_DIR [--batch-size 4096] [--repeats 5]
        In one run, on the same rows: `BIN predict --run RUN_DIR --threads 1` (wall
        time of the whole command: read and encode the CSV, score, write the
        scores) and onnxruntime on one thread (intra_op_num_threads=1; the model
        only, rows encoded once beforehand), best of --repeats each; prints JSON
        with both samples/s.

Needs onnx, onnxruntime and numpy (`make onnx-venv`).
"""

import argparse
import csv
import json
import math
import sys
import time

import numpy as np


def session(path, threads=1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def check(path):
    """onnx.checker.check_model with full_check (shape inference), then a summary."""
    import onnx

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)

    def shape(value):
        return [d.dim_param if d.dim_param else d.dim_value for d in value.type.tensor_type.shape.dim]

    return {
        "ir_version": model.ir_version,
        "opset": {o.domain: o.version for o in model.opset_import},
        "inputs": {v.name: {"type": v.type.tensor_type.elem_type, "shape": shape(v)} for v in model.graph.input},
        "outputs": {v.name: {"type": v.type.tensor_type.elem_type, "shape": shape(v)} for v in model.graph.output},
        "operators": sorted({(n.domain, n.op_type) for n in model.graph.node}),
        "metadata": {p.key: p.value for p in model.metadata_props},
    }


def score(sess, ids, dense, batch_size, sequences=()):
    """probabilities for rows ids (N x F, int64) and dense (N x D, float32), batch_size rows per run;
    sequences: per sequence field (name, ids N x L int64, mask N x L float32), fed as <name>_ids, <name>_mask."""
    parts = []
    for start in range(0, ids.shape[0], batch_size):
        end = min(ids.shape[0], start + batch_size)
        feeds = {"sparse_ids": ids[start:end], "dense": dense[start:end]}
        for name, sequence_ids, mask in sequences:
            feeds[name + "_ids"] = sequence_ids[start:end]
            feeds[name + "_mask"] = mask[start:end]
        (p,) = sess.run(["probabilities"], feeds)
        parts.append(p)
    return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------
# the encoding (DatasetEncoding, docs/EXPORT.md "Encoding")


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


class Encoder:
    """Raw CSV rows -> (sparse_ids, dense, sequences) with a frozen encoding, written from its documentation:
    a vocabulary field's value values[i] has id i + 1, any other value id 0; a hash field's id is
    FNV-1a-64(UTF-8 bytes) mod vocabulary; a dense value x becomes ((log1p x or x) - mean) / sd
    (sd 1 when 0; mean 0, sd 1 for transforms that do not standardize), rounded to float32 once.
    A sequence field's cell is split at its schema column's separator (default "|"; an empty cell is
    an empty list, an empty value between separators an error), its last max_length values kept (the
    most recent), each encoded as a sparse value is: in the field's own vocabulary (values, unseen 0) or
    buckets (hash), or in those of the sparse field it shares a table with (shares_embedding_with).
    The ids are padded with 0 to max_length on the right, with a mask of 1 (present) and 0 (padding)."""

    def __init__(self, encoding):
        schema = encoding["schema"]
        self.format = schema.get("format", {})
        self.column_names = schema.get("column_names")
        for spec in schema.get("columns", []):
            for key in ("missing", "default", "missing_markers"):
                if key in spec:
                    raise ValueError(f"column {spec.get('name', spec.get('column'))}: '{key}' is not supported by this encoder")
        self.named_columns = {
            spec["name"]: spec["column"]
            for spec in schema.get("columns", [])
            if "name" in spec and "column" in spec
        }
        self.sparse = encoding["sparse_fields"]
        self.dense = encoding["dense_features"]
        self.lookup = [
            {v: i + 1 for i, v in enumerate(f["values"])} if f["encoding"] == "vocabulary" else None for f in self.sparse
        ]
        self.sequences = encoding.get("sequence_fields", [])
        self.sequence_separators = []
        self.sequence_encoders = []
        sequence_specs = [spec for spec in schema.get("columns", []) if spec.get("role") == "sequence"]
        for field in self.sequences:
            spec = next((c for c in sequence_specs if c.get("name", c.get("column")) == field["name"]), None)
            separator = (spec or {}).get("separator", "|")
            if len(separator.encode("utf-8")) != 1:
                raise ValueError(f"sequence field {field['name']}: separator {separator!r} is not one byte")
            self.sequence_separators.append(separator)
            shared = field.get("shares_embedding_with")
            if shared is not None:
                f = [s["name"] for s in self.sparse].index(shared)
                self.sequence_encoders.append((self.lookup[f], self.sparse[f]["vocabulary"]))
            elif field["encoding"] == "vocabulary":
                self.sequence_encoders.append(({v: i + 1 for i, v in enumerate(field["values"])}, field["vocabulary"]))
            else:
                self.sequence_encoders.append((None, field["vocabulary"]))

    @staticmethod
    def encode_value(lookup, vocabulary, value):
        if lookup is not None:
            return lookup.get(value, 0)
        return fnv1a64(value.encode("utf-8")) % vocabulary

    def column_index(self, name, header):
        reference = self.named_columns.get(name, name)
        if isinstance(reference, int):
            return reference
        names = header if header is not None else self.column_names
        if names is None or reference not in names:
            raise ValueError(f"no column {reference!r} in the header or column_names")
        return names.index(reference)

    def read(self, path):
        separator = self.format.get("separator", ",")
        quote = self.format.get("quote", '"')
        trim = self.format.get("trim", "none")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=separator, quotechar=quote)
            rows = [row for row in reader if row]
        header = None
        if self.format.get("header", False):
            header, rows = [c.strip() for c in rows[0]], rows[1:]
        if trim != "none":
            rows = [[c.strip() for c in row] for row in rows]
        sparse_columns = [self.column_index(f["name"], header) for f in self.sparse]
        dense_columns = [self.column_index(d["name"], header) for d in self.dense]
        sequence_columns = [self.column_index(s["name"], header) for s in self.sequences]
        ids = np.zeros((len(rows), len(self.sparse)), dtype=np.int64)
        dense = np.zeros((len(rows), len(self.dense)), dtype=np.float32)
        sequences = [
            (s["name"], np.zeros((len(rows), s["max_length"]), dtype=np.int64),
             np.zeros((len(rows), s["max_length"]), dtype=np.float32))
            for s in self.sequences
        ]
        for r, row in enumerate(rows):
            line = r + 1 + (1 if header is not None else 0)
            for f, (field, column) in enumerate(zip(self.sparse, sparse_columns)):
                if column >= len(row):
                    raise ValueError(f"{path}:{line}: no column {column + 1} ({field['name']})")
                ids[r, f] = self.encode_value(self.lookup[f], field["vocabulary"], row[column])
            for s, (field, column) in enumerate(zip(self.sequences, sequence_columns)):
                if column >= len(row):
                    raise ValueError(f"{path}:{line}: no column {column + 1} ({field['name']})")
                cell = row[column]
                if cell == "":
                    continue
                values = cell.split(self.sequence_separators[s])
                if any(v == "" for v in values):
                    raise ValueError(f"{path}:{line}: column {column + 1} ({field['name']}): an empty value in "
                                     f"the list {cell!r}")
                kept = values[-field["max_length"]:]
                lookup, vocabulary = self.sequence_encoders[s]
                _, sequence_ids, mask = sequences[s]
                for i, value in enumerate(kept):
                    sequence_ids[r, i] = self.encode_value(lookup, vocabulary, value)
                    mask[r, i] = 1
            for j, (feature, column) in enumerate(zip(self.dense, dense_columns)):
                if column >= len(row):
                    raise ValueError(f"{path}:{line}: no column {column + 1} ({feature['name']})")
                try:
                    x = float(row[column])
                except ValueError:
                    raise ValueError(f"{path}:{line}: column {column + 1} ({feature['name']}): expected a number, "
                                     f"found {row[column]!r}") from None
                transform = feature["transform"]
                if transform in ("log1p", "log1p_standardize"):
                    x = math.log1p(x)
                if transform in ("standardize", "log1p_standardize"):
                    sd = feature["standard_deviation"] or 1.0
                    x = (x - feature["mean"]) / sd
                dense[r, j] = np.float32(x)
        return ids, dense, sequences


def read_encoding(path):
    with open(path) as f:
        encoding = json.load(f)
    if encoding.get("format") != "ranker-encoding/1":
        raise ValueError(f"{path}: not a Ranker encoding (format {encoding.get('format')!r})")
    return encoding


# --------------------------------------------------------------------------
# commands


def run_cases(manifest_path):
    """MANIFEST.json: {"cases": [{"model": M.onnx, "ids": I.bin, "dense": D.bin, "rows": N,
    "sparse_fields": F, "dense_features": D, "batches": {"1": OUT1.bin, "4096": OUT2.bin},
    "batch_rows": {"1": n1}, "sequences": [{"name": S, "ids": SI.bin, "mask": SM.bin, "length": L}]}]}:
    ids little-endian int64 N x F, dense float32 N x D, per sequence field (optional) its padded ids
    int64 N x L and mask float32 N x L (the inputs <name>_ids, <name>_mask); for each batch size b
    the first batch_rows[b] rows (all N when absent) scored b rows per run, written as float32.
    With "safetensors": S and "reference_rows": n, the first n rows are also scored by
    tools/export_predict.py (numpy, float64, from the safetensors export of the same model: an
    implementation that shares no code with Ranker nor with the ONNX graph) and the largest
    |onnxruntime - numpy| is reported as "numpy_reference_max_abs_diff".
    Prints each case's check summary as one JSON line."""
    with open(manifest_path) as f:
        manifest = json.load(f)
    for case in manifest["cases"]:
        summary = check(case["model"])
        n, nf, nd = case["rows"], case["sparse_fields"], case["dense_features"]
        ids = np.fromfile(case["ids"], dtype="<i8").reshape(n, nf)
        dense = np.fromfile(case["dense"], dtype="<f4").reshape(n, nd)
        sequences = [
            (s["name"], np.fromfile(s["ids"], dtype="<i8").reshape(n, s["length"]),
             np.fromfile(s["mask"], dtype="<f4").reshape(n, s["length"]))
            for s in case.get("sequences", [])
        ]
        sess = session(case["model"])
        for batch, out in case["batches"].items():
            rows = int(case.get("batch_rows", {}).get(batch, n))
            p = score(sess, ids[:rows], dense[:rows], int(batch), [(m, i[:rows], k[:rows]) for m, i, k in sequences])
            p.astype("<f4").tofile(out)
        if "safetensors" in case:
            import os

            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import export_predict

            k = int(case["reference_rows"])
            tensors, metadata = export_predict.read_safetensors(case["safetensors"])
            rows = [
                {"ids": ids[r].tolist(), "dense": dense[r].tolist(),
                 "sequences": {m: [int(v) for v, present in zip(i[r], mask[r]) if present == 1] for m, i, mask in sequences}}
                for r in range(k)
            ]
            _, reference = export_predict.predict(tensors, metadata, rows)
            p = score(sess, ids[:k], dense[:k], k, [(m, i[:k], mask[:k]) for m, i, mask in sequences])
            summary["numpy_reference_max_abs_diff"] = float(np.abs(p - reference).max())
        print(json.dumps({"model": case["model"], "check": "passed", **summary}), flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("model")
    s = sub.add_parser("score-csv")
    s.add_argument("model")
    s.add_argument("encoding")
    s.add_argument("rows")
    s.add_argument("--output")
    s.add_argument("--batch-size", type=int, default=4096)
    m = sub.add_parser("cases")
    m.add_argument("manifest")
    b = sub.add_parser("bench")
    b.add_argument("model")
    b.add_argument("encoding")
    b.add_argument("rows")
    b.add_argument("--batch-size", type=int, default=4096)
    b.add_argument("--repeats", type=int, default=5)
    b.add_argument("--ranker", required=True, help="the ranker executable")
    b.add_argument("--run", required=True, help="the run directory MODEL.onnx was exported from")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            print(json.dumps(check(args.model)))
        elif args.command == "cases":
            run_cases(args.manifest)
        elif args.command == "score-csv":
            ids, dense, sequences = Encoder(read_encoding(args.encoding)).read(args.rows)
            sess = session(args.model)
            outputs = json.loads(sess.get_modelmeta().custom_metadata_map["outputs"])
            p = score(sess, ids, dense, args.batch_size, sequences)
            lines = [",".join(outputs)] + [",".join(repr(float(v)) for v in row) for row in p]
            text = "\n".join(lines) + "\n"
            if args.output:
                with open(args.output, "w") as f:
                    f.write(text)
            else:
                sys.stdout.write(text)
        elif args.command == "bench":
            import subprocess
            import tempfile

            ids, dense, sequences = Encoder(read_encoding(args.encoding)).read(args.rows)
            n = int(ids.shape[0])
            sess = session(args.model, threads=1)
            score(sess, ids, dense, args.batch_size, sequences)  # warm-up
            best_ort = math.inf
            for _ in range(args.repeats):
                start = time.perf_counter()
                score(sess, ids, dense, args.batch_size, sequences)
                best_ort = min(best_ort, time.perf_counter() - start)
            best_ranker = math.inf
            with tempfile.TemporaryDirectory() as scratch:
                out = f"{scratch}/scores.csv"
                command = [args.ranker, "predict", "--run", args.run, "--input", args.rows, "--output", out,
                           "--threads", "1", "--batch-size", str(args.batch_size)]
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                    best_ranker = min(best_ranker, time.perf_counter() - start)
            print(json.dumps({"rows": n, "batch_size": args.batch_size, "threads": 1, "repeats": args.repeats,
                              "ranker_predict_seconds": best_ranker, "ranker_predict_samples_per_second": n / best_ranker,
                              "onnxruntime_seconds": best_ort, "onnxruntime_samples_per_second": n / best_ort,
                              "onnxruntime_over_ranker_predict": best_ranker / best_ort}))
    except (ValueError, KeyError, OSError) as error:
        print(f"onnx_score: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
