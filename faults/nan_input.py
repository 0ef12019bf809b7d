#!/usr/bin/env python3
"""NaN and infinity in input rows (issue 14, fault injection 4, the part the
command line reaches).

A dense value `nan`, `inf`, `-inf`, `Infinity` or `1e39` (beyond Float) is
written into one row of a CSV file — the train file, the valid file, or the
input of `ranker predict`. Each command must refuse before it trains or
writes anything: exit status 1..127, `file:line` of the row on standard
error, no checkpoint and no output file. Losses and gradients that turn
non-finite inside a step cannot be reached from the command line; the
XCTest `FaultInjectionTests` injects them through the library under each
stability policy.

Prints one summary line; exits 1 when any count that must be 0 is not.
"""

import argparse
import json
import os
import random
import sys

import faultlib

VALUES = ["nan", "NaN", "inf", "-inf", "Infinity", "1e39"]


def rows(count, rng):
    lines = []
    for _ in range(count):
        item = rng.randrange(30)
        click = 1 if rng.random() < (0.8 if item % 3 == 0 else 0.2) else 0
        buy = 1 if click and rng.random() < (0.7 if item % 2 == 0 else 0.1) else 0
        lines.append(f"{click},{buy},item{item},{rng.random() * 10:.3f}")
    return lines


def write_csv(path, lines):
    with open(path, "w") as f:
        f.write("click,buy,item,price\n" + "\n".join(lines) + "\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FAULT_SEED", "14")))
    parser.add_argument("--workdir", default=os.environ.get("FAULT_WORKDIR", "/tmp/ranker-faults"))
    args = parser.parse_args()
    ranker = faultlib.ranker_path(args.ranker)
    rng = random.Random(args.seed)
    work = faultlib.fresh_directory(os.path.join(args.workdir, "nan-input"))
    clean = {part: rows(n, rng) for part, n in [("train", 600), ("valid", 200), ("test", 200)]}
    schema = os.path.join(work, "schema.json")
    with open(schema, "w") as f:
        json.dump({"columns": [{"column": "click", "role": "label"}, {"column": "buy", "role": "label"},
                               {"column": "item", "role": "sparse", "dimension": 4},
                               {"column": "price", "role": "dense"}]}, f)

    def config(directory, files):
        return faultlib.write_config(directory, "run.json", {
            "name": "nan-input",
            "data": {"source": "csv", "schema": schema,
                     "files": [{"path": files[p], "part": p} for p in ("train", "valid", "test")]},
            "model": {"model": "shared_bottom", "bottom_hidden": [8], "tower_hidden": [4]},
            "optimizer": {"kind": "adagrad", "learning_rate": 0.1},
            "training": {"epochs": 1, "batch_size": 64, "seed": 1, "checkpoint_every_steps": 2},
            "output": {"progress": "none", "report": False}})

    base = faultlib.fresh_directory(os.path.join(work, "clean"))
    files = {p: write_csv(os.path.join(base, f"{p}.csv"), clean[p]) for p in clean}
    trained = os.path.join(base, "run")
    status, _, err = faultlib.run(ranker, ["train", "--config", config(base, files), "--out", trained])
    if status != 0:
        sys.exit(f"the clean run failed ({status}): {err}")

    cases = refused = crashes = silent = unnamed = wrote = 0
    for number, value in enumerate(VALUES):
        for target in ["train", "valid", "predict"]:
            cases += 1
            directory = faultlib.fresh_directory(os.path.join(work, f"case-{number}-{target}"))
            part = "test" if target == "predict" else target
            poisoned = list(clean[part])
            row = rng.randrange(len(poisoned))
            fields = poisoned[row].split(",")
            fields[3] = value
            poisoned[row] = ",".join(fields)
            location = f"{os.path.join(directory, part + '.csv')}:{row + 2}"
            if target == "predict":
                source = write_csv(os.path.join(directory, "test.csv"), poisoned)
                output = os.path.join(directory, "scores.csv")
                status, _, err = faultlib.run(ranker, ["predict", "--run", trained, "--input", source,
                                                       "--output", output])
                left = os.path.exists(output)
            else:
                mine = dict(files)
                mine[part] = write_csv(os.path.join(directory, f"{part}.csv"), poisoned)
                run_directory = os.path.join(directory, "run")
                status, _, err = faultlib.run(ranker, ["train", "--config", config(directory, mine),
                                                       "--out", run_directory])
                left = os.path.exists(os.path.join(run_directory, "checkpoint.safetensors"))
            what = f"{value} in {target}"
            if status == 0:
                silent += 1
                print(f"{what}: succeeded", file=sys.stderr)
            elif status >= 128:
                crashes += 1
                print(f"{what}: crashed ({status}): {err[-1500:]}", file=sys.stderr)
            elif location not in err:
                unnamed += 1
                print(f"{what}: refused without naming {location}: {err[-1500:]}", file=sys.stderr)
            else:
                refused += 1
            if left:
                wrote += 1
                print(f"{what}: a checkpoint or output file was written", file=sys.stderr)

    print(f"nan_input: cases={cases} refused_naming_row={refused} crashes={crashes} silent_successes={silent} "
          f"unnamed={unnamed} files_written={wrote}")
    sys.exit(1 if crashes or silent or unnamed or wrote or refused != cases else 0)


if __name__ == "__main__":
    main()
