"""Float64 PyTorch mirror of Ranker's census Shared-Bottom training step.

Reads Ranker's initial weights (a checkpoint of a run with a vanishing learning
rate), replays Ranker's epoch shuffle (xoshiro256** seeded with seed ^
0x5DEECE66D1CE5EED, Fisher-Yates with Lemire's bounded ints), trains the
torch-rechub Shared-Bottom structure (Linear -> BatchNorm1d -> ReLU, towers
[16] -> 1, Adagrad lr 0.05, initial accumulator 0.1, eps 1e-10, BCE summed
over the two tasks) in float64 or float32, and compares each step's task
losses with Ranker's telemetry of the same seed.

Usage (BENCHMARKS.md, "Census-income with BatchNorm", the mirror):
    python tools/bench/census_shared_bottom_mirror.py INIT.safetensors TELEMETRY.jsonl SEED BITS [EPOCHS]
INIT.safetensors: the checkpoint of `census-mmoe --models shared_bottom --seed SEED
--epochs 1` run with learning_rate 1e-30 (the initial weights); TELEMETRY.jsonl: the
telemetry of the real run with the same seed; BITS: 64 or 32. Needs torch, numpy,
scikit-learn and ../shared/bench/census_prep.py (CENSUS_PREP_DIR to move it).
TELEMETRY.jsonl may be "-" (no comparison; FIELDS_FROM then names any census
Shared-Bottom telemetry for the field order). Switches (environment):
INIT=torch starts from torch's own nn.Linear draw and N(0, 1e-4) embeddings
(torch.manual_seed(SEED)); SHUFFLE=numpy shuffles as peer_census.py does
(np.random.seed(SEED), one permutation per epoch); STOP_AT=S with
COMPARE_CKPT=checkpoint of a Ranker run cut at step S compares every tensor
and BatchNorm running statistic, and the eval-mode test AUC, then exits.
"""
import os, sys, json, struct, numpy as np, torch
sys.path.insert(0, os.environ.get("CENSUS_PREP_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/bench")))
import census_prep
from sklearn.metrics import roc_auc_score

M = (1 << 64) - 1
def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
class Xoshiro:
    def __init__(self, seed):
        s = seed; st = []
        for _ in range(4):
            s = (s + 0x9E3779B97F4A7C15) & M; z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            st.append(z ^ (z >> 31))
        self.s = st
    def next(self):
        s = self.s; r = (rotl((s[1] * 5) & M, 7) * 9) & M; t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return r
    def below(self, b):
        m = self.next() * b; lo = m & M
        if lo < b:
            th = ((1 << 64) - b) % b
            while lo < th: m = self.next() * b; lo = m & M
        return m >> 64
    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            if i != j: a[i], a[j] = a[j], a[i]

def read_safetensors(path):
    raw = open(path, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; h = json.loads(raw[8:8 + n]); out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        a, b = v["data_offsets"]; dt = {"F32": np.float32, "F64": np.float64, "I64": np.int64}[v["dtype"]]
        if not k.startswith("model/"): continue
        k = k[len("model/"):]
        out[k] = np.frombuffer(raw[8 + n + a: 8 + n + b], dtype=dt).reshape(v["shape"])
    return out

ckpt, tele, seed, bits = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 10
dt = torch.float64 if bits == 64 else torch.float32
torch.set_num_threads(1)
W = read_safetensors(ckpt)
d, vocab = census_prep.load()
# Field order of the model input: the run line of the telemetry (TELEMETRY.jsonl, or FIELDS_FROM when it is "-").
fields = [k for k in json.loads(open(tele if tele != "-" else os.environ["FIELDS_FROM"]).readline())["parameters"] if k.startswith("embedding.")]
emb = [torch.nn.Parameter(torch.tensor(W[k], dtype=dt)) for k in fields]
def lin(name):
    return [torch.nn.Parameter(torch.tensor(W[name + ".W"], dtype=dt)), torch.nn.Parameter(torch.tensor(W[name + ".b"].reshape(-1), dtype=dt))]
def bn(name, n):
    g = torch.nn.Parameter(torch.tensor(W[name + ".bn.gamma"].reshape(-1), dtype=dt)); b = torch.nn.Parameter(torch.tensor(W[name + ".bn.beta"].reshape(-1), dtype=dt))
    return [g, b, torch.zeros(n, dtype=dt), torch.ones(n, dtype=dt)]
layers = {"bottom.0": lin("bottom.0") + bn("bottom.0", 128), "bottom.1": lin("bottom.1") + bn("bottom.1", 64)}
for t in ("income", "marital"):
    layers[f"tower.{t}.0"] = lin(f"tower.{t}.0") + bn(f"tower.{t}.0", 16)
    layers[f"tower.{t}.1"] = lin(f"tower.{t}.1")
if os.environ.get("INIT") == "torch":
    # torch's own start from torch.manual_seed(seed): nn.Linear's default (kaiming_uniform a=sqrt(5),
    # bias U(+-1/sqrt(fan_in))) and torch-rechub's embedding start N(0, 1e-4)
    torch.manual_seed(seed)
    with torch.no_grad():
        for e in emb: e.copy_(torch.randn_like(e) * 1e-4)
        for name, v in layers.items():
            fan_in, fan_out = v[0].shape
            lin_ = torch.nn.Linear(fan_in, fan_out)
            v[0].copy_(lin_.weight.t().to(dt)); v[1].copy_(lin_.bias.to(dt))
params = emb + [p for v in layers.values() for p in v if isinstance(p, torch.nn.Parameter)]
opt = torch.optim.Adagrad(params, lr=0.05, initial_accumulator_value=0.1, eps=1e-10)
def hidden(name, x, train):
    w, b, g, be, rm, rv = layers[name]
    z = x @ w + b
    z = torch.nn.functional.batch_norm(z, rm, rv, g, be, training=train, momentum=0.1, eps=1e-5)
    return torch.relu(z)
def forward(s, x, train):
    e = torch.cat([torch.nn.functional.embedding(torch.from_numpy(s[:, j]), emb[j]) for j in range(len(emb))] + [torch.tensor(x, dtype=dt)], 1)
    h = hidden("bottom.1", hidden("bottom.0", e, train), train)
    outs = []
    for t in ("income", "marital"):
        w, b = layers[f"tower.{t}.1"]
        outs.append((hidden(f"tower.{t}.0", h, train) @ w + b)[:, 0])
    return outs
ranker = [json.loads(l) for l in open(tele) if '"type":"step"' in l] if tele != "-" else []
s, x, y = d["train"]; n = len(y)
g = Xoshiro(seed ^ 0x5DEECE66D1CE5EED)
order = list(range(n)); step = 0; report = [1, 2, 5, 10, 20, 50, 100, 200, 300, 400, 500, 600, 689]
best = (-1, None, None)
def aucs(split):
    ss, xx, yy = d[split]
    with torch.no_grad(): z = forward(ss, xx, False)
    return [roc_auc_score(yy[:, k], torch.sigmoid(z[k]).numpy()) for k in range(2)]
worst = 0.0
for ep in range(epochs):
    order = list(range(n))  # Ranker shuffles the train rows afresh each pass
    if os.environ.get("SHUFFLE") == "numpy":
        if ep == 0: np.random.seed(seed)
        order = list(np.random.permutation(n))
    else:
        g.shuffle(order)
    for i in range(0, n, 1024):
        b = np.array(order[i:i + 1024])
        if len(b) < 2: continue
        z = forward(s[b], x[b], True); yb = torch.tensor(y[b], dtype=dt)
        l = [torch.nn.functional.binary_cross_entropy_with_logits(z[k], yb[:, k]) for k in range(2)]
        opt.zero_grad(); (l[0] + l[1]).backward(); opt.step()
        if step < len(ranker):
            r = ranker[step]["losses"]; rel = max(abs(l[k].item() - r[k]) / abs(r[k]) for k in range(2))
            worst = max(worst, rel)
            if step in report or step < 1:
                print(f"step {step}: mirror {l[0].item():.9f} {l[1].item():.9f}  ranker {r[0]:.9f} {r[1]:.9f}  rel {rel:.2e}  max so far {worst:.2e}", flush=True)
        step += 1
        if os.environ.get("STOP_AT") and step == int(os.environ["STOP_AT"]):
            R = read_safetensors(os.environ["COMPARE_CKPT"])
            for name, v in layers.items():
                names = ["W", "b", "bn.gamma", "bn.beta", "bn.running_mean", "bn.running_var"][:len(v)]
                for nm, t in zip(names, v):
                    r = R[name + "." + nm].reshape(-1); m = t.detach().numpy().reshape(-1)
                    print(f"{name}.{nm}: max rel diff {np.max(np.abs(m - r) / (np.abs(r) + 1e-12)):.2e}")
            print("test AUC (eval mode, running statistics):", [round(a, 6) for a in aucs("test")])
            sys.exit(0)
    v = aucs("valid")
    if np.mean(v) > best[0]: best = (np.mean(v), aucs("test"), ep + 1)
    print(f"epoch {ep+1}: valid {v[0]:.4f} {v[1]:.4f}", flush=True)
print(json.dumps({"seed": seed, "bits": bits, "best_epoch": best[2], "test_auc_income": round(best[1][0], 4), "test_auc_marital": round(best[1][1], 4)}))
