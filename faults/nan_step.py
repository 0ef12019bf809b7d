#!/usr/bin/env python3
"""NaN and infinity inside a training step (issue 14, fault injection 4).

`ranker-fault-inject` (faults/injector, a test program: `ranker` itself
cannot inject anything) trains the synthetic MMoE run and writes a value —
`nan`, `inf`, `-inf` — at step S into one of three sites: a dense input of
the batch (before the forward pass), one task's loss (after the forward
pass), one tensor's gradient (after the backward pass). For each site, value
and stability policy this script checks, from the files the run leaves:

* stop: exit status 2, one `nan` event, at step S, and a `stop` event; the
  checkpoint's model and optimizer tensors equal bit for bit those of a clean
  `ranker train` cut before step S (`--max-steps S`): nothing changed;
* skip: cut right after step S (`max_steps` S+1), exit 0, one `nan` event at
  step S, one `skip` event; tensors again equal the clean run cut before S;
* rollback: exit 0, the first `nan` event at step S with a `rollback` event at
  S, the run goes on to its end and every model tensor is finite.

Every checkpoint must also be whole (tiling, per-tensor CRC-32C).
Prints one summary line; exits 1 when any count that must be 0 is not.
"""

import argparse
import json
import math
import os
import struct
import sys

import faultlib

VALUES = ["nan", "inf", "-inf"]
POLICIES = ["stop", "skip", "rollback"]


def injector_path(argument, ranker):
    path = argument or os.path.join(os.path.dirname(ranker), "ranker-fault-inject")
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} is not built: swift build -c release -Xswiftc -enable-testing --product ranker-fault-inject")
    return path


def events(run_directory):
    """(kind, step) of every event line of the run's telemetry."""
    found = []
    with open(os.path.join(run_directory, "telemetry.jsonl"), encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("type") == "event":
                found.append((record["kind"], record["step"]))
    return found


def state_tensors(path):
    """name -> bytes of the checkpoint's model and optimizer tensors."""
    st = faultlib.SafeTensors(path)
    return {n: st.tensor_bytes(n) for n in st.tensors if n.startswith(("model/", "optimizer/"))}


def non_finite_tensors(path):
    st = faultlib.SafeTensors(path)
    bad = []
    for name, (dtype, _, _, _) in st.tensors.items():
        if not name.startswith("model/") or dtype != "F32":
            continue
        data = st.tensor_bytes(name)
        if not all(math.isfinite(x) for (x,) in struct.iter_unpack("<f", data)):
            bad.append(name)
    return bad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker")
    parser.add_argument("--injector", help="ranker-fault-inject (default: beside --ranker)")
    parser.add_argument("--values", default=",".join(VALUES), help="comma-separated values to inject")
    parser.add_argument("--step", type=int, default=11, help="the step S that gets the fault")
    parser.add_argument("--workdir", default=os.environ.get("FAULT_WORKDIR", "/tmp/ranker-faults"))
    args = parser.parse_args()
    ranker = faultlib.ranker_path(args.ranker)
    injector = injector_path(args.injector, ranker)
    work = faultlib.fresh_directory(os.path.join(args.workdir, "nan-step"))
    step = args.step

    def config(policy, max_steps):
        body = faultlib.synthetic_config(rows=3000, epochs=1, checkpoint_every=0, name="nan-step")
        body["training"]["max_steps"] = max_steps
        body["training"]["eval_every_steps"] = 5
        body["stability"] = {"policy": policy, "max_rollbacks": 2}
        return faultlib.write_config(work, f"{policy}-{max_steps}.json", body)

    clean = os.path.join(work, "clean-before")
    status, _, err = faultlib.run(ranker, ["train", "--config", config("stop", step), "--out", clean])
    if status != 0:
        sys.exit(f"the clean run cut before step {step} failed ({status}): {err}")
    before = state_tensors(os.path.join(clean, "checkpoint.safetensors"))
    with open(os.path.join(clean, "telemetry.jsonl"), encoding="utf-8") as f:
        parameters = json.loads(f.readline())["parameters"]
    # A dense layer's weights inside the model, and an embedding table.
    dense = next(p for p in parameters if p.endswith(".W") and not p.startswith("embedding"))
    table = next(p for p in parameters if p.startswith("embedding"))
    sites = ["input", "loss:0", "loss:1", f"gradient:{dense}", f"gradient:{table}"]

    cases = caught = crashes = missed = wrong_step = changed = torn = not_finite = 0
    for site in sites:
        for value in args.values.split(","):
            for policy in POLICIES:
                cases += 1
                what = f"{site}={value} under {policy}"
                directory = os.path.join(work, f"{site.replace(':', '-').replace('/', '_')}-{value}-{policy}")
                max_steps = step + 1 if policy == "skip" else 0
                status, out, err = faultlib.run(injector, ["--config", config(policy, max_steps), "--out", directory,
                                                           "--fault", f"{site}@{step}={value}"])
                expected_status = 2 if policy == "stop" else 0
                if status >= 128 or status != expected_status:
                    crashes += status >= 128
                    missed += status < 128
                    print(f"{what}: exit status {status}, expected {expected_status}: {err[-1500:]}{out[-500:]}",
                          file=sys.stderr)
                    continue
                seen = events(directory)
                nan_steps = [s for k, s in seen if k == "nan"]
                reaction = {"stop": "stop", "skip": "skip", "rollback": "rollback"}[policy]
                first = nan_steps[:1] == [step] and (reaction, step) in seen
                exact = nan_steps == [step] if policy != "rollback" else first
                if not nan_steps:
                    missed += 1
                    print(f"{what}: no nan event: {seen}", file=sys.stderr)
                    continue
                if not (first and exact):
                    wrong_step += 1
                    print(f"{what}: events {seen}, expected nan and {reaction} at step {step}", file=sys.stderr)
                    continue
                checkpoint = os.path.join(directory, "checkpoint.safetensors")
                problems = faultlib.checkpoint_problems(checkpoint)
                if problems:
                    torn += 1
                    print(f"{what}: checkpoint not whole: {problems}", file=sys.stderr)
                    continue
                if policy == "rollback":
                    bad = non_finite_tensors(checkpoint)
                    if bad:
                        not_finite += 1
                        print(f"{what}: non-finite tensors after the run: {bad}", file=sys.stderr)
                        continue
                else:
                    after = state_tensors(checkpoint)
                    differ = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
                    if differ:
                        changed += 1
                        print(f"{what}: tensors differ from the clean run cut before step {step}: {differ}",
                              file=sys.stderr)
                        continue
                caught += 1

    print(f"nan_step: cases={cases} caught_at_step={caught} (sites {len(sites)}, values {args.values}, "
          f"policies {len(POLICIES)}) crashes={crashes} missed={missed} wrong_step={wrong_step} "
          f"changed_parameters={changed} torn={torn} not_finite={not_finite}")
    sys.exit(1 if caught != cases else 0)


if __name__ == "__main__":
    main()
