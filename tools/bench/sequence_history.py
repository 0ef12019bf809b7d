#!/usr/bin/env python3
"""The README table of sequence features: MMoE on the synthetic click log with a
behaviour history (200,000 rows, 2 tasks, history_length 20), the history left out,
mean-pooled and attended, seeds 1-3 (data and training), 4 epochs, one thread.

Usage: python3 tools/bench/sequence_history.py [--ranker .build/release/ranker] [--work /tmp/seqbench]
       [--rows 200000] [--epochs 4] [--seeds 1 2 3] [--poolings none mean attention]
       [--set history_session=1 ...]
Prints one line per run: pooling, seed, test AUC task_1, task_2, mean, training samples/s
(from the run's telemetry `end` record), then the means per pooling. --set overrides a key of
the synthetic settings (a JSON value), e.g. to see how the AUCs follow history_signal.
"""
import argparse, json, os, shutil, subprocess

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--ranker", default=".build/release/ranker")
p.add_argument("--work", default="/tmp/seqbench")
p.add_argument("--rows", type=int, default=200000)
p.add_argument("--epochs", type=int, default=4)
p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
p.add_argument("--poolings", nargs="+", default=["none", "mean", "attention"])
p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
a = p.parse_args()
overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in a.set)}
os.makedirs(a.work, exist_ok=True)
results = {}
for seed in a.seeds:
    for pooling in a.poolings:
        name = f"history-{pooling}-{seed}" + "".join(f"-{k}-{v}" for k, v in overrides.items())
        config = {"name": name,
                  "data": {"source": "synthetic",
                           "synthetic": {"rows": a.rows, "tasks": 2, "positive_rates": [0.2, 0.08],
                                         "task_correlation": 0.5, "seed": seed, "history_length": 20,
                                         "history_signal": 1.0, "history_focus": 0.3, "history_preference": 0.5,
                                         "history_session": 0.5, "history_pooling": pooling, **overrides}},
                  "model": {"model": "mmoe", "experts": 8, "expert_hidden": [64, 32], "tower_hidden": [16]},
                  "optimizer": {"kind": "clippy", "preset": "project", "learning_rate": 0.2},
                  "balancer": {"weighting": {"method": "fixed"}},
                  "training": {"epochs": a.epochs, "batch_size": 512, "seed": seed, "threads": 1},
                  "output": {"progress": "none", "report": False},
                  "stability": {"policy": "stop"}}
        path = os.path.join(a.work, name + ".json")
        with open(path, "w") as f:
            json.dump(config, f)
        run = os.path.join(a.work, "run-" + name)
        shutil.rmtree(run, ignore_errors=True)   # a fresh run, not a resume of an earlier one
        subprocess.run([a.ranker, "train", "--config", path, "--out", run], check=True, stdout=subprocess.DEVNULL)
        end = [json.loads(l) for l in open(os.path.join(run, "telemetry.jsonl"))][-1]
        aucs = [end["test"][t]["auc"] for t in ("task_1", "task_2")]
        row = (sum(aucs) / 2, end["train_samples_per_s"])
        results.setdefault(pooling, []).append(row)
        print(pooling, seed, *(round(x, 4) for x in aucs), round(row[0], 4), round(row[1]), flush=True)
for pooling, rows in results.items():
    print(f"{pooling}: mean AUC {sum(r[0] for r in rows) / len(rows):.4f}, "
          f"samples/s {sum(r[1] for r in rows) / len(rows):.0f}")
