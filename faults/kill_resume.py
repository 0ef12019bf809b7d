#!/usr/bin/env python3
"""kill -9 during a checkpointing run (issue 14, fault injection 1).

A run checkpointing every few steps is SIGKILLed at random moments (start-up
and the first checkpoint included) and resumed after every kill, until
FAULT_KILLS kills happened; when a run finishes before that, a new cycle
starts in a new directory. After every kill the checkpoint on disk (if any)
must be whole (tiling and per-tensor CRC-32C, checked here independently of
Ranker) and every resume must succeed. Each finished cycle must end with the
uninterrupted run's `checkpoint.safetensors` tensors, bit for bit, and its
telemetry, byte for byte except the wall-clock fields.

Prints one summary line; exits 1 when any count that must be 0 is not.
"""

import argparse
import os
import random
import sys
import time

import faultlib


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker")
    parser.add_argument("--kills", type=int, default=int(os.environ.get("FAULT_KILLS", "100")))
    parser.add_argument("--rows", type=int, default=30000, help="synthetic rows (the run's length)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FAULT_SEED", "14")))
    parser.add_argument("--workdir", default=os.environ.get("FAULT_WORKDIR", "/tmp/ranker-faults"))
    args = parser.parse_args()
    ranker = faultlib.ranker_path(args.ranker)
    work = faultlib.fresh_directory(os.path.join(args.workdir, "kill-resume"))
    config = faultlib.write_config(work, "run.json", faultlib.synthetic_config(rows=args.rows))
    rng = random.Random(args.seed)

    straight = os.path.join(work, "straight")
    start = time.monotonic()
    status, _, err = faultlib.run(ranker, ["train", "--config", config, "--out", straight])
    duration = time.monotonic() - start
    if status != 0:
        sys.exit(f"the uninterrupted run failed ({status}): {err}")
    expected_telemetry = faultlib.normalized_telemetry(straight)
    straight_checkpoint = os.path.join(straight, "checkpoint.safetensors")

    kills = early_kills = resumes = cycles = torn = resume_failures = telemetry_mismatches = tensor_mismatches = 0
    log = os.path.join(work, "log.txt")
    while kills < args.kills:
        cycles += 1
        directory = os.path.join(work, f"cycle-{cycles}")
        checkpoint = os.path.join(directory, "checkpoint.safetensors")
        while True:
            resume = os.path.exists(directory)
            arguments = ["train", "--config", config] + (["--resume", directory] if resume else ["--out", directory])
            resumes += resume
            # A random moment of the run: up to a third of its length from this start.
            delay = rng.uniform(0.0, duration / 3) if kills < args.kills else 3600.0
            killed, status = faultlib.run_and_kill(ranker, arguments, delay, log)
            if killed:
                kills += 1
                early_kills += not os.path.exists(checkpoint)
                if os.path.exists(checkpoint):
                    problems = faultlib.checkpoint_problems(checkpoint)
                    if problems:
                        torn += 1
                        print(f"torn checkpoint after kill {kills}: {problems}", file=sys.stderr)
                continue
            if status != 0:
                resume_failures += 1
                with open(log, errors="replace") as f:
                    print(f"cycle {cycles}: ranker {' '.join(arguments)} failed ({status}):\n"
                          + f.read()[-2000:], file=sys.stderr)
                break
            if faultlib.normalized_telemetry(directory) != expected_telemetry:
                telemetry_mismatches += 1
                print(f"cycle {cycles}: telemetry differs from the uninterrupted run's", file=sys.stderr)
            differing = faultlib.tensor_differences(straight_checkpoint, checkpoint)
            if differing:
                tensor_mismatches += 1
                print(f"cycle {cycles}: tensors differ: {differing[:5]}", file=sys.stderr)
            break
        if resume_failures:
            break

    print(f"kill_resume: kills={kills} before_first_checkpoint={early_kills} resumes={resumes} cycles={cycles} run_seconds={duration:.1f} "
          f"torn={torn} resume_failures={resume_failures} telemetry_mismatches={telemetry_mismatches} "
          f"tensor_mismatches={tensor_mismatches}")
    failed = torn or resume_failures or telemetry_mismatches or tensor_mismatches or kills < args.kills
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
