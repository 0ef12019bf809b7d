#!/usr/bin/env python3
"""Corrupted state files (issue 14, fault injection 3).

A finished run's `checkpoint.safetensors` and `best.safetensors` are damaged
one way at a time, each in a fresh copy of the run directory: truncated at
several offsets, their header edited (length, a shape, a dtype, an offset, a
metadata value, a byte that is not UTF-8), one bit of a tensor's data
flipped. Then `ranker train --resume` (which reads both files) and `ranker
eval` (best, or `--weights last` for the checkpoint) must refuse: exit status
1..127 (never a crash, never 0), the damaged file named on standard error,
and for a flipped bit the tensor too.

`ranker eval --weights last` reads the `model/` tensors of a checkpoint only,
so flips of optimizer and weighting tensors are put to resume alone.

Prints one summary line; exits 1 when any count that must be 0 is not.
"""

import argparse
import os
import random
import re
import shutil
import sys

import faultlib


def truncations(st):
    size = len(st.data)
    offsets = [0, 4, 8, 8 + st.header_length // 2, st.buffer_start,
               st.buffer_start + (size - st.buffer_start) // 2, size - 1]
    return [(f"truncated to {n} bytes", st.data[:n], None) for n in sorted(set(offsets))]


def header_edits(st, rng):
    """Edits of the header that change what it says (an edit of white space would not)."""
    header = st.data[8:st.buffer_start].decode("utf-8")
    edits = []

    def replaced(description, pattern, replace):
        m = re.search(pattern, header)
        if m:
            changed = header[:m.start(1)] + replace(m.group(1)) + header[m.end(1):]
            assert len(changed) == len(header)
            edits.append((description, st.data[:8] + changed.encode("utf-8") + st.data[st.buffer_start:], None))

    length = st.header_length + 8
    edits.append(("header length + 8", length.to_bytes(8, "little") + st.data[8:], None))
    edits.append(("header length 2^63", (1 << 63).to_bytes(8, "little") + st.data[8:], None))
    replaced("a shape digit changed", r'"shape":\[(\d)', lambda d: str((int(d) + 1) % 10))
    replaced("dtype F32 -> F16", r'"dtype":"(F32)"', lambda _: "F16")
    replaced("a data_offsets digit changed", r'"data_offsets":\[\d+,(\d)', lambda d: str((int(d) + 3) % 10))
    replaced("a metadata value changed", r'"format":"(r)', lambda _: "R")
    replaced("a stored checksum changed", r'"crc32c_header":"(.)', lambda c: "0" if c != "0" else "1")
    position = 8 + rng.randrange(st.header_length // 4, st.header_length // 2)
    edits.append(("a header byte set to 0xFF (not UTF-8)",
                  st.data[:position] + b"\xff" + st.data[position + 1:], None))
    return edits


def flips(st, names, rng):
    result = []
    for name in names:
        _, _, begin, end = st.tensors[name]
        if end == begin:
            continue
        position = st.buffer_start + rng.randrange(begin, end)
        bit = 1 << rng.randrange(8)
        damaged = st.data[:position] + bytes([st.data[position] ^ bit]) + st.data[position + 1:]
        result.append((f"one bit of tensor {name} flipped", damaged, name))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker")
    parser.add_argument("--flips", type=int, default=int(os.environ.get("FAULT_FLIPS", "0")),
                        help="tensors to flip a bit in per file (0: every tensor)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FAULT_SEED", "14")))
    parser.add_argument("--workdir", default=os.environ.get("FAULT_WORKDIR", "/tmp/ranker-faults"))
    args = parser.parse_args()
    ranker = faultlib.ranker_path(args.ranker)
    rng = random.Random(args.seed)
    work = faultlib.fresh_directory(os.path.join(args.workdir, "corrupt"))
    body = faultlib.synthetic_config(rows=4000, epochs=1, checkpoint_every=10)
    config = faultlib.write_config(work, "run.json", body)
    original = os.path.join(work, "run")
    status, _, err = faultlib.run(ranker, ["train", "--config", config, "--out", original])
    if status != 0:
        sys.exit(f"the run failed ({status}): {err}")

    cases = refusals = crashes = silent = unnamed = 0
    for file_name in ["checkpoint.safetensors", "best.safetensors"]:
        st = faultlib.SafeTensors(os.path.join(original, file_name))
        names = sorted(st.tensors)
        if args.flips:
            names = rng.sample(names, min(args.flips, len(names)))
        damages = truncations(st) + header_edits(st, rng) + flips(st, names, rng)
        for number, (description, data, tensor) in enumerate(damages):
            directory = os.path.join(work, f"case-{file_name.split('.')[0]}-{number}")
            shutil.rmtree(directory, ignore_errors=True)
            shutil.copytree(original, directory)
            damaged = os.path.join(directory, file_name)
            with open(damaged, "wb") as f:
                f.write(data)
            commands = [["train", "--config", config, "--resume", directory]]
            reads_model_only = tensor is not None and file_name == "checkpoint.safetensors" \
                and not tensor.startswith("model/")
            if not reads_model_only:
                commands.append(["eval", directory] + (["--weights", "last"] if file_name.startswith("checkpoint") else []))
            for arguments in commands:
                cases += 1
                status, _, err = faultlib.run(ranker, arguments)
                what = f"{file_name}, {description}: ranker {arguments[0]}"
                if status == 0:
                    silent += 1
                    print(f"{what} succeeded", file=sys.stderr)
                elif status >= 128:
                    crashes += 1
                    print(f"{what} crashed ({status}): {err[-1500:]}", file=sys.stderr)
                elif damaged not in err or (tensor is not None and tensor not in err):
                    unnamed += 1
                    print(f"{what} refused without naming {damaged} {tensor or ''}: {err[-1500:]}", file=sys.stderr)
                else:
                    refusals += 1
            shutil.rmtree(directory, ignore_errors=True)

    print(f"corrupt: cases={cases} refused_naming_file={refusals} crashes={crashes} silent_successes={silent} "
          f"unnamed={unnamed}")
    sys.exit(1 if crashes or silent or unnamed or refusals != cases else 0)


if __name__ == "__main__":
    main()
