#!/usr/bin/env python3
"""kill -9 of one MPI rank of a data-parallel run (issue 14, fault injection 5).

`ranker train --ranks 2` (mpirun, two replicas, rank 0 writes the run
directory, a checkpoint every few steps) is started; once rank 0 has written
`config.json`, after a random delay within the run, one rank chosen at
random (rank 0, the writer, or rank 1) gets SIGKILL. Must hold each time:

* the whole job ends within 60 s with a non-zero exit status, and no
  process of it is left running;
* the checkpoint on disk, if any, is whole (tiling and per-tensor CRC-32C,
  checked here independently of Ranker);
* `ranker train --ranks 2 --resume DIR` then runs to the end, and its
  checkpoint's tensors equal bit for bit, and its telemetry byte for byte
  (wall-clock fields aside), those of the same run never interrupted.

Prints one summary line; exits 1 when any count that must be 0 is not, and
77 when mpirun is missing (the XCTest then skips, or fails under CI).
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import faultlib


def descendants(root):
    """pid -> command name of the processes below `root` (from /proc)."""
    parent, name = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        pid = int(entry)
        name[pid] = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parent[pid] = int(fields[1])
    found = {}
    for pid in parent:
        p = parent.get(pid)
        while p and p > 1:
            if p == root:
                found[pid] = name[pid]
                break
            p = parent.get(p)
    return found


def rank_of(pid):
    """The MPI rank of process `pid` (Open MPI's OMPI_COMM_WORLD_RANK), or None."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                    return int(item.split(b"=", 1)[1])
    except OSError:
        pass
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker")
    parser.add_argument("--kills", type=int, default=int(os.environ.get("FAULT_RANK_KILLS", "10")))
    parser.add_argument("--rows", type=int, default=30000, help="synthetic rows (the run's length)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FAULT_SEED", "14")))
    parser.add_argument("--workdir", default=os.environ.get("FAULT_WORKDIR", "/tmp/ranker-faults"))
    args = parser.parse_args()
    ranker = faultlib.ranker_path(args.ranker)
    if shutil.which("mpirun") is None:
        print("kill_rank: mpirun (Open MPI) is not on the PATH; `make deps` installs it", file=sys.stderr)
        sys.exit(faultlib.SKIP_STATUS)
    work = faultlib.fresh_directory(os.path.join(args.workdir, "kill-rank"))
    config = faultlib.write_config(work, "run.json", faultlib.synthetic_config(rows=args.rows))
    rng = random.Random(args.seed)
    log = os.path.join(work, "log.txt")

    straight = os.path.join(work, "straight")
    start = time.monotonic()
    status, _, err = faultlib.run(ranker, ["train", "--ranks", "2", "--config", config, "--out", straight])
    duration = time.monotonic() - start
    if status != 0:
        sys.exit(f"the uninterrupted 2-rank run failed ({status}): {err}")
    expected_telemetry = faultlib.normalized_telemetry(straight)
    straight_checkpoint = os.path.join(straight, "checkpoint.safetensors")

    kills = {0: 0, 1: 0}
    hung = survivors = zero_status = torn = resume_failures = tensor_mismatches = telemetry_mismatches = 0
    slowest = 0.0
    attempt = 0
    while sum(kills.values()) < args.kills:
        attempt += 1
        if attempt > 3 * args.kills + 5:
            sys.exit(f"kill_rank: only {sum(kills.values())} kills in {attempt - 1} attempts: the runs end too soon")
        directory = os.path.join(work, f"run-{attempt}")
        written = os.path.join(directory, "config.json")
        with open(log, "ab") as output:
            job = subprocess.Popen([ranker, "train", "--ranks", "2", "--config", config, "--out", directory],
                                   stdout=output, stderr=output)
            began = time.monotonic()
            while not os.path.exists(written) and job.poll() is None and time.monotonic() - began < 120:
                time.sleep(0.01)
            # Up to half the run's length after rank 0 reached the trainer.
            deadline = time.monotonic() + rng.uniform(0.0, duration / 2)
            while time.monotonic() < deadline and job.poll() is None:
                time.sleep(0.005)
            ranks = {pid: rank_of(pid) for pid, name in descendants(job.pid).items() if name == "ranker"}
            ranks = {pid: r for pid, r in ranks.items() if r is not None}
            if job.poll() is not None or len(ranks) != 2:
                # The run ended (or was not yet two ranks) before the kill: not counted, tried again.
                if job.poll() is None:
                    for pid in [job.pid] + list(descendants(job.pid)):
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                job.wait()
                shutil.rmtree(directory, ignore_errors=True)
                continue
            victim = rng.choice(sorted(ranks))
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            kills[ranks[victim]] += 1
            try:
                status = job.wait(timeout=60)
            except subprocess.TimeoutExpired:
                hung += 1
                print(f"kill {attempt}: the job still runs 60 s after SIGKILL of rank {ranks[victim]}", file=sys.stderr)
                for pid in [job.pid] + list(descendants(job.pid)):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                job.wait()
                continue
            slowest = max(slowest, time.monotonic() - killed_at)
        if status == 0:
            zero_status += 1
            print(f"kill {attempt}: the job exited 0 after SIGKILL of rank {ranks[victim]}", file=sys.stderr)
        time.sleep(0.5)
        left = [pid for pid in ranks if pid != victim and os.path.exists(f"/proc/{pid}")
                and open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z"]
        if left:
            survivors += 1
            print(f"kill {attempt}: rank process(es) {left} still running", file=sys.stderr)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
        checkpoint = os.path.join(directory, "checkpoint.safetensors")
        if os.path.exists(checkpoint):
            problems = faultlib.checkpoint_problems(checkpoint)
            if problems:
                torn += 1
                print(f"kill {attempt}: torn checkpoint: {problems}", file=sys.stderr)
                continue
        status, _, err = faultlib.run(ranker, ["train", "--ranks", "2", "--config", config, "--resume", directory])
        if status != 0:
            resume_failures += 1
            print(f"kill {attempt}: resume failed ({status}): {err[-1500:]}", file=sys.stderr)
            continue
        differ = faultlib.tensor_differences(checkpoint, straight_checkpoint)
        if differ:
            tensor_mismatches += 1
            print(f"kill {attempt}: final tensors differ from the uninterrupted run: {differ[:5]}", file=sys.stderr)
        if faultlib.normalized_telemetry(directory) != expected_telemetry:
            telemetry_mismatches += 1
            print(f"kill {attempt}: telemetry differs from the uninterrupted run", file=sys.stderr)
        shutil.rmtree(directory, ignore_errors=True)

    print(f"kill_rank: kills={kills[0] + kills[1]} (rank0={kills[0]} rank1={kills[1]}) attempts={attempt} "
          f"run_seconds={duration:.1f} slowest_stop_seconds={slowest:.1f} hung={hung} zero_status={zero_status} "
          f"survivors={survivors} torn={torn} resume_failures={resume_failures} "
          f"tensor_mismatches={tensor_mismatches} telemetry_mismatches={telemetry_mismatches}")
    sys.exit(1 if hung or zero_status or survivors or torn or resume_failures or tensor_mismatches
             or telemetry_mismatches else 0)


if __name__ == "__main__":
    main()
