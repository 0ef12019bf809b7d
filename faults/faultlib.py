"""Shared helpers of the fault-injection scripts (standard library only).

They drive the built `ranker` executable (`.build/release/ranker`, or
`--ranker PATH`) as a user does and judge what it leaves on disk:
safetensors files are parsed here, independently of Ranker's reader, and
their per-tensor CRC-32C (`crc32c_tensors` in `__metadata__`) recomputed.
"""

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_RANKER = os.path.join(REPOSITORY, ".build", "release", "ranker")

# Exit status of a script whose precondition is missing (the XCTests skip on it).
SKIP_STATUS = 77

# Telemetry fields that hold wall-clock readings (TELEMETRY.md); everything else
# of a resumed run must equal the uninterrupted run byte for byte.
WALL_CLOCK_FIELDS = ("started", "samples_per_s", "train_samples_per_s")


def ranker_path(argument):
    path = argument or os.environ.get("RANKER") or DEFAULT_RANKER
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} is not built: swift build -c release -Xswiftc -enable-testing --product ranker")
    return path


def write_config(directory, name, body):
    """Writes the run configuration `body` (a dict) to `directory/name` and returns its path."""
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(body, f, indent=1)
    return path


def synthetic_config(rows=30000, epochs=2, checkpoint_every=7, name="faults"):
    """The configuration of KillAndResumeCommandTests: MMoE on the synthetic click log, one thread."""
    return {
        "name": name,
        "data": {"source": "synthetic", "synthetic": {"rows": rows, "users": 300, "items": 800, "tasks": 2}},
        "model": {"model": "mmoe", "experts": 3, "expert_hidden": [32, 16], "tower_hidden": [8]},
        "optimizer": {"kind": "adagrad", "learning_rate": 0.05},
        "balancer": {"weighting": {"method": "fixed"}},
        "training": {"epochs": epochs, "batch_size": 64, "seed": 3, "threads": 1,
                     "checkpoint_every_steps": checkpoint_every},
        "output": {"progress": "none", "report": False},
    }


def run(ranker, arguments, timeout=600):
    """Runs `ranker arguments` to its end; returns (status, stdout, stderr).
    A status of 128 + n means the process died of signal n."""
    p = subprocess.run([ranker] + arguments, capture_output=True, text=True, timeout=timeout)
    status = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return status, p.stdout, p.stderr


def run_and_kill(ranker, arguments, delay, log_path):
    """Starts `ranker arguments` and SIGKILLs it after `delay` seconds if it
    still runs. Returns (killed, status)."""
    with open(log_path, "ab") as log:
        p = subprocess.Popen([ranker] + arguments, stdout=log, stderr=log)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.002)
        killed = False
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            killed = True
        status = p.wait()
    return killed and status == -signal.SIGKILL, (status if status >= 0 else 128 - status)


def normalized_telemetry(run_directory):
    """telemetry.jsonl with every wall-clock value replaced by a marker."""
    with open(os.path.join(run_directory, "telemetry.jsonl"), encoding="utf-8") as f:
        text = f.read()
    for field in WALL_CLOCK_FIELDS:
        text = re.sub('"%s":("[^"]*"|[^,}]*)' % field, '"%s":"<wall-clock>"' % field, text)
    return text


# --- safetensors ---------------------------------------------------------------------------

def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli); crc32c(b"123456789") == 0xE3069283."""
    c = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        c = table[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


class SafeTensors:
    """A parsed safetensors file: `header_length`, `header` (the JSON object),
    `tensors` (name -> (dtype, shape, begin, end)) and the raw `data`."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        if len(self.data) < 8:
            raise ValueError(f"{len(self.data)} bytes, no header length")
        (self.header_length,) = struct.unpack("<Q", self.data[:8])
        if self.header_length > len(self.data) - 8:
            raise ValueError(f"header length {self.header_length} beyond the file's {len(self.data)} bytes")
        self.header = json.loads(self.data[8:8 + self.header_length].decode("utf-8"))
        self.buffer_start = 8 + self.header_length
        self.metadata = self.header.get("__metadata__", {})
        self.tensors = {name: (e["dtype"], e["shape"], e["data_offsets"][0], e["data_offsets"][1])
                        for name, e in self.header.items() if name != "__metadata__"}

    def tensor_bytes(self, name):
        _, _, begin, end = self.tensors[name]
        return self.data[self.buffer_start + begin:self.buffer_start + end]

    def problems(self):
        """What is wrong with the file (empty when it is whole): tiling of the
        buffer and every tensor's CRC-32C."""
        found = []
        cursor = 0
        for name, (_, _, begin, end) in sorted(self.tensors.items(), key=lambda item: item[1][2]):
            if begin != cursor:
                found.append(f"{name} starts at {begin}, expected {cursor}")
            cursor = end
        if self.buffer_start + cursor != len(self.data):
            found.append(f"tensors end at {self.buffer_start + cursor}, the file at {len(self.data)}")
            return found
        sums = json.loads(self.metadata.get("crc32c_tensors", "{}"))
        for name in self.tensors:
            if name not in sums:
                found.append(f"{name} has no checksum")
            elif int(sums[name], 16) != crc32c(self.tensor_bytes(name)):
                found.append(f"{name} fails its CRC-32C")
        return found


def checkpoint_problems(path):
    """What is wrong with the safetensors file at `path` (layout, checksums), or []."""
    try:
        return SafeTensors(path).problems()
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        return [str(error)]


def tensor_differences(path_a, path_b):
    """Names of the tensors whose bytes differ between two safetensors files
    (a tensor present in only one counts)."""
    a, b = SafeTensors(path_a), SafeTensors(path_b)
    names = sorted(set(a.tensors) | set(b.tensors))
    return [n for n in names if n not in a.tensors or n not in b.tensors or a.tensor_bytes(n) != b.tensor_bytes(n)]


def fresh_directory(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path
