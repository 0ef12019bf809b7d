#!/usr/bin/env python3
"""Predictions of a Ranker model export, with plain numpy.

Usage:
    python3 tools/export_predict.py MODEL.safetensors INPUT.json [--output OUT.json]

MODEL.safetensors is written by `ModelExport.write` (Swift) or `ranker export`.
The file is parsed here directly (8-byte little-endian header length, JSON
header, raw little-endian F32 tensors), so only numpy is needed; when the
`safetensors` package is importable, its loader is used as a cross-check.

INPUT.json:
    {"rows": [{"ids": [3, 0, 2], "dense": [0.5, -1.25]}, ...]}
`ids` has one id per sparse field, in the order of model_config.sparse_fields
(or an object {"field name": id}); `dense` has model_config.dense_features values.
With sequence fields (model_config.sequence_fields) a row also has
`"sequences": {"history": [4, 17, 17], ...}` (or a list of lists in field order):
the ids of each list, already encoded, at most max_length of them (the most recent).

Output (stdout or --output):
    {"outputs": ["click", "like"], "predictions": [[p_click, p_like], ...]}
Predictions are probabilities for binary tasks and raw values for regression
tasks; for ESMM the outputs are ctr, cvr, ctcvr.

The forward equations (docs/EXPORT.md, ALGORITHMS.md 3) are written out here
from the parameter names; nothing is imported from Ranker. With `batch_norm` /
`gate_batch_norm` in model_config, BatchNorm runs in evaluation mode with the
exported running statistics (ALGORITHMS.md 3.2.1); dropout is off at prediction.
"""

import argparse
import json
import struct
import sys

import numpy as np


# --------------------------------------------------------------------------
# safetensors


def read_safetensors(path):
    """Returns (tensors: name -> float64 array, metadata: dict)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    buffer = memoryview(data)[8 + n :]
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        shape = entry["shape"]
        if end - begin != 4 * int(np.prod(shape, dtype=np.int64)) or end > len(buffer):
            raise ValueError(f"{path}: tensor {name}: offsets {begin, end} do not fit shape {shape}")
        array = np.frombuffer(buffer[begin:end], dtype="<f4").reshape(shape)
        tensors[name] = array.astype(np.float64)
    cross_check_with_safetensors_package(path, tensors, metadata)
    return tensors, metadata


def cross_check_with_safetensors_package(path, tensors, metadata):
    """When the reference `safetensors` package is installed, it must read the same."""
    try:
        from safetensors import safe_open
    except ImportError:
        return
    with safe_open(path, framework="numpy") as f:
        if (f.metadata() or {}) != metadata:
            raise ValueError(f"{path}: safetensors package reads different metadata")
        if set(f.keys()) != set(tensors):
            raise ValueError(f"{path}: safetensors package reads different tensor names")
        for name in f.keys():
            if not np.array_equal(f.get_tensor(name).astype(np.float64), tensors[name], equal_nan=True):
                raise ValueError(f"{path}: safetensors package reads different values for {name}")


# --------------------------------------------------------------------------
# building blocks (ALGORITHMS.md 3.1, 3.2, 3.4)


def relu(z):
    return np.maximum(z, 0.0)


def sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def batch_norm(T, name, z):
    """BatchNorm1d in evaluation mode (ALGORITHMS.md 3.2.1), the running statistics of the export:
    gamma (z - running_mean) / sqrt(running_var + 1e-5) + beta, per column."""
    mean, var = T[name + ".running_mean"], T[name + ".running_var"]
    return T[name + ".gamma"] * (z - mean) / np.sqrt(var + 1e-5) + T[name + ".beta"]


def dense(T, name, x):
    """y = x W + b, W: in x out, b: 1 x out (absent for bias-free gates)."""
    y = x @ T[name + ".W"]
    if name + ".b" in T:
        y = y + T[name + ".b"]
    return y


def hidden_layer(T, name, x, bn):
    """Linear -> (BatchNorm) -> ReLU; dropout is the identity at prediction."""
    z = dense(T, name, x)
    if bn:
        z = batch_norm(T, name + ".bn", z)
    return relu(z)


def mlp(T, name, x, layer_count, last_linear, bn):
    """Layers name.0 .. name.{layer_count-1}; hidden layers (with BatchNorm when bn) except a tower's last,
    which is a plain Linear."""
    for i in range(layer_count):
        if last_linear and i == layer_count - 1:
            x = dense(T, f"{name}.{i}", x)
        else:
            x = hidden_layer(T, f"{name}.{i}", x, bn)
    return x


def tower(T, name, x, tower_hidden, bn):
    return mlp(T, name, x, len(tower_hidden) + 1, last_linear=True, bn=bn)[:, 0]


def expert_group(T, name, u, count, hidden, bn):
    """`count` experts reading u: name.0 is the concatenated first layer
    (in x count*h1, expert e owns columns e*h1:(e+1)*h1; so does its BatchNorm name.0.bn),
    name.<e>.<i> the later layers."""
    h = hidden_layer(T, name + ".0", u, bn)
    h1 = hidden[0]
    outputs = []
    for e in range(count):
        he = h[:, e * h1 : (e + 1) * h1]
        if len(hidden) > 1:
            he = mlp(T, f"{name}.{e}", he, len(hidden) - 1, last_linear=False, bn=bn)
        outputs.append(he)
    return outputs


def gate(T, name, u, experts, bn):
    """p = softmax_rows(u Wg (+ bg)) (with BatchNorm name.bn on the logits when bn);
    f = sum_e p[:, e] * E_e."""
    a = dense(T, name, u)
    if bn:
        a = batch_norm(T, name + ".bn", a)
    a = a - a.max(axis=1, keepdims=True)
    p = np.exp(a)
    p = p / p.sum(axis=1, keepdims=True)
    return sum(p[:, e : e + 1] * experts[e] for e in range(len(experts)))


# --------------------------------------------------------------------------
# models (ALGORITHMS.md 3.3 - 3.6)


def model_input(T, config, rows):
    """x = [E_1[id_1], ..., E_F[id_F], dense] (B x D)."""
    fields = config.get("sparse_fields", [])
    n_dense = config.get("dense_features", 0)
    parts = []
    for f_index, field in enumerate(fields):
        table = T["embedding." + field["name"]]
        ids = []
        for r, row in enumerate(rows):
            row_ids = row["ids"]
            i = row_ids[field["name"]] if isinstance(row_ids, dict) else row_ids[f_index]
            if not (0 <= int(i) < table.shape[0]):
                raise ValueError(f"row {r}: id {i} outside field {field['name']} (vocabulary {table.shape[0]})")
            ids.append(int(i))
        parts.append(table[np.array(ids, dtype=np.int64)])
    for s_index, field in enumerate(config.get("sequence_fields", [])):
        parts.append(pooled_sequence(T, config, field, s_index, rows, parts))
    if n_dense > 0:
        dense_rows = [row.get("dense", []) for row in rows]
        for r, values in enumerate(dense_rows):
            if len(values) != n_dense:
                raise ValueError(f"row {r}: {len(values)} dense values, the model has {n_dense}")
        parts.append(np.array(dense_rows, dtype=np.float64).reshape(len(rows), n_dense))
    return np.concatenate(parts, axis=1)


def pooled_sequence(T, config, field, s_index, rows, parts):
    """One sequence field's pooled vectors (B x d): over each row's ids k_i = E[id_i] of the table
    embedding.<shares_embedding_with or name>,
      sum:       sum_i k_i
      mean:      (1/n) sum_i k_i
      attention: sum_i w_i k_i, s_i = MLP_attention.<name>([q, k_i, q - k_i, q * k_i]) (ReLU hidden layers,
                 a linear last layer to 1), w_i = s_i or softmax_i(s_i) with attention_softmax;
                 q is the target sparse field's embedding (its slice of x, `parts`).
    An empty list pools to zeros in every mode."""
    name = field["name"]
    table = T["embedding." + (field.get("shares_embedding_with") or name)]
    d = table.shape[1]
    out = np.zeros((len(rows), d))
    if field["pooling"] == "attention":
        target = [f["name"] for f in config["sparse_fields"]].index(field["target"])
        queries = parts[target]
    for r, row in enumerate(rows):
        lists = row.get("sequences", {})
        ids = lists.get(name, []) if isinstance(lists, dict) else lists[s_index]
        ids = [int(i) for i in ids]
        if len(ids) > field["max_length"]:
            raise ValueError(f"row {r}: {len(ids)} ids in sequence {name}, max_length is {field['max_length']}")
        for i in ids:
            if not (0 <= i < table.shape[0]):
                raise ValueError(f"row {r}: id {i} outside sequence {name} (vocabulary {table.shape[0]})")
        if not ids:
            continue
        k = table[np.array(ids, dtype=np.int64)]
        if field["pooling"] == "sum":
            out[r] = k.sum(axis=0)
        elif field["pooling"] == "mean":
            out[r] = k.mean(axis=0)
        else:
            q = np.broadcast_to(queries[r], k.shape)
            z = np.concatenate([q, k, q - k, q * k], axis=1)
            scores = mlp(T, "attention." + name, z, len(field["attention_hidden"]) + 1, last_linear=True, bn=False)[:, 0]
            if field.get("attention_softmax", False):
                e = np.exp(scores - scores.max())
                scores = e / e.sum()
            out[r] = (scores[:, None] * k).sum(axis=0)
    return out


def task_logits(T, config, x):
    """Logits (B x T) of Shared-Bottom, MMoE and PLE."""
    tasks = [t["name"] for t in config["tasks"]]
    kind = config["model"]
    tower_hidden = config["tower_hidden"]
    bn = config.get("batch_norm", False)
    gate_bn = config.get("gate_batch_norm", False)
    if kind == "shared_bottom":
        s = mlp(T, "bottom", x, len(config["bottom_hidden"]), last_linear=False, bn=bn)
        columns = [tower(T, f"tower.{t}", s, tower_hidden, bn) for t in tasks]
    elif kind == "mmoe":
        experts = expert_group(T, "experts", x, config["experts"], config["expert_hidden"], bn)
        columns = [tower(T, f"tower.{t}", gate(T, f"gate.{t}", x, experts, gate_bn), tower_hidden, bn) for t in tasks]
    elif kind == "ple":
        levels = config["levels"]
        ms, msh = config["specific_experts"], config["shared_experts"]
        hidden = config["expert_hidden"]
        u_task = [x for _ in tasks]
        u_shared = x
        for level in range(1, levels + 1):
            prefix = f"level{level}"
            specific = [
                expert_group(T, f"{prefix}.specific.{t}", u_task[k], ms, hidden, bn) if ms > 0 else []
                for k, t in enumerate(tasks)
            ]
            shared = expert_group(T, f"{prefix}.shared", u_shared, msh, hidden, bn) if msh > 0 else []
            new_task = [
                gate(T, f"{prefix}.gate.{t}", u_task[k], specific[k] + shared, gate_bn) for k, t in enumerate(tasks)
            ]
            if level < levels:
                all_specific = [e for k in range(len(tasks)) for e in specific[k]]
                u_shared = gate(T, f"{prefix}.shared_gate", u_shared, all_specific + shared, gate_bn)
            u_task = new_task
        columns = [tower(T, f"tower.{t}", u_task[k], tower_hidden, bn) for k, t in enumerate(tasks)]
    else:
        raise ValueError(f"unknown model kind {kind}")
    return np.stack(columns, axis=1)


def predict(T, metadata, rows):
    config = json.loads(metadata["model_config"])
    x = model_input(T, config, rows)
    if config["model"] == "esmm":
        tower_hidden = config["tower_hidden"]
        bn = config.get("batch_norm", False)
        p_ctr = sigmoid(tower(T, "tower.ctr", x, tower_hidden, bn))
        p_cvr = sigmoid(tower(T, "tower.cvr", x, tower_hidden, bn))
        return ["ctr", "cvr", "ctcvr"], np.stack([p_ctr, p_cvr, p_ctr * p_cvr], axis=1)
    z = task_logits(T, config, x)
    kinds = [t.get("kind", "binary") for t in config["tasks"]]
    out = np.stack([sigmoid(z[:, k]) if kinds[k] == "binary" else z[:, k] for k in range(len(kinds))], axis=1)
    return [t["name"] for t in config["tasks"]], out


def main(argv):
    parser = argparse.ArgumentParser(description="Predictions of a Ranker model export (numpy only).")
    parser.add_argument("model", help="the .safetensors export")
    parser.add_argument("input", help="JSON with rows of ids and dense features")
    parser.add_argument("--output", help="write the predictions here instead of stdout")
    args = parser.parse_args(argv)
    try:
        tensors, metadata = read_safetensors(args.model)
        if metadata.get("format") != "ranker-export/1":
            raise ValueError(f"{args.model}: not a Ranker export (format {metadata.get('format')})")
        with open(args.input) as f:
            rows = json.load(f)["rows"]
        names, predictions = predict(tensors, metadata, rows)
    except (ValueError, KeyError, OSError) as error:
        print(f"export_predict: {error}", file=sys.stderr)
        return 2
    text = json.dumps({"outputs": names, "predictions": predictions.tolist()})
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
