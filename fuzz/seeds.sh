#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/corpus/: the hand-made ones
# (fuzz/make_seeds.py) and the checkpoints written by the library's own
# safetensors writer (the checkpoint harness, run once with
# RANKER_FUZZ_WRITE_SEEDS). Needs the executables of fuzz/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 fuzz/make_seeds.py
empty=$(mktemp); trap 'rm -f "$empty"' EXIT
RANKER_ROOT=$PWD RANKER_FUZZ_WRITE_SEEDS=fuzz/corpus/checkpoint .build/fuzz/checkpoint -runs=1 "$empty" >/dev/null 2>&1
ls -l fuzz/corpus/checkpoint
