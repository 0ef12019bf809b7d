#!/usr/bin/env python3
"""Disk full (issue 14, fault injection 2).

The run directory lives on a tmpfs too small for the whole run, at several
sizes between a few pages and most of what the run writes. Each run must
fail with a clear error (exit status 1..127, "No space left on device" and a
file of the run directory named on standard error), leave any checkpoint
whole, and resume on a bigger disk (a copy of the directory) to the end,
with the uninterrupted run's final tensors bit for bit and its telemetry
byte for byte except the wall-clock fields.

Needs `mount -t tmpfs` (root); exits 77 when mounting is not permitted.
Prints one summary line; exits 1 when any count that must be 0 is not.
"""

import argparse
import os
import shutil
import subprocess
import sys

import faultlib


def footprint(directory):
    """Bytes the run directory holds, plus one checkpoint (written beside the old one, then renamed)."""
    total = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(directory) for f in files)
    return total + os.path.getsize(os.path.join(directory, "checkpoint.safetensors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker")
    parser.add_argument("--sizes", type=int, default=int(os.environ.get("FAULT_DISK_SIZES", "8")),
                        help="how many tmpfs sizes, spread over 2%%..90%% of the run's footprint")
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--workdir", default=os.environ.get("FAULT_WORKDIR", "/tmp/ranker-faults"))
    args = parser.parse_args()
    ranker = faultlib.ranker_path(args.ranker)
    work = faultlib.fresh_directory(os.path.join(args.workdir, "disk-full"))
    body = faultlib.synthetic_config(rows=args.rows, epochs=2, checkpoint_every=20)
    config = faultlib.write_config(work, "run.json", body)

    straight = os.path.join(work, "straight")
    status, _, err = faultlib.run(ranker, ["train", "--config", config, "--out", straight])
    if status != 0:
        sys.exit(f"the uninterrupted run failed ({status}): {err}")
    expected_telemetry = faultlib.normalized_telemetry(straight)
    need = footprint(straight)
    fractions = [0.02 + 0.88 * i / max(1, args.sizes - 1) for i in range(args.sizes)]
    sizes = sorted({max(4096, int(need * f) // 4096 * 4096) for f in fractions})

    runs = enospc = unclear = crashes = completed_on_small_disk = torn = 0
    resumed = resume_failures = mismatches = with_checkpoint = 0
    for size in sizes:
        mount = faultlib.fresh_directory(os.path.join(work, f"tmpfs-{size // 1024}k"))
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            print(f"disk_full: cannot mount a tmpfs: {mounted.stderr.strip()}", file=sys.stderr)
            sys.exit(faultlib.SKIP_STATUS)
        try:
            directory = os.path.join(mount, "run")
            status, _, err = faultlib.run(ranker, ["train", "--config", config, "--out", directory])
            runs += 1
            if status == 0:
                completed_on_small_disk += 1
                print(f"{size} bytes: the run fit", file=sys.stderr)
                continue
            if status >= 128:
                crashes += 1
                print(f"{size} bytes: crashed ({status}): {err[-1500:]}", file=sys.stderr)
            elif "No space left on device" in err and mount in err:
                enospc += 1
            else:
                unclear += 1
                print(f"{size} bytes: unclear failure ({status}): {err[-1500:]}", file=sys.stderr)
            checkpoint = os.path.join(directory, "checkpoint.safetensors")
            if os.path.exists(checkpoint):
                with_checkpoint += 1
                problems = faultlib.checkpoint_problems(checkpoint)
                if problems:
                    torn += 1
                    print(f"{size} bytes: torn checkpoint: {problems}", file=sys.stderr)
            bigger = os.path.join(work, f"resumed-{size // 1024}k")
            shutil.rmtree(bigger, ignore_errors=True)
            if os.path.exists(directory):
                shutil.copytree(directory, bigger)
                arguments = ["train", "--config", config, "--resume", bigger]
            else:
                arguments = ["train", "--config", config, "--out", bigger]
        finally:
            subprocess.run(["umount", mount], check=False)
        status, _, err = faultlib.run(ranker, arguments)
        if status != 0:
            resume_failures += 1
            print(f"{size} bytes: resume on a bigger disk failed ({status}): {err[-1500:]}", file=sys.stderr)
            continue
        resumed += 1
        differing = faultlib.tensor_differences(os.path.join(straight, "checkpoint.safetensors"),
                                                os.path.join(bigger, "checkpoint.safetensors"))
        if differing or faultlib.normalized_telemetry(bigger) != expected_telemetry:
            mismatches += 1
            print(f"{size} bytes: after resuming, tensors {differing[:5]} differ or the telemetry does",
                  file=sys.stderr)

    print(f"disk_full: sizes={len(sizes)} ({sizes[0] // 1024}k..{sizes[-1] // 1024}k of a {need // 1024}k run) "
          f"runs={runs} enospc_clear={enospc} with_checkpoint={with_checkpoint} resumed={resumed} "
          f"unclear={unclear} crashes={crashes} torn={torn} resume_failures={resume_failures} "
          f"mismatches={mismatches} fit={completed_on_small_disk}")
    sys.exit(1 if unclear or crashes or torn or resume_failures or mismatches or completed_on_small_disk else 0)


if __name__ == "__main__":
    main()
