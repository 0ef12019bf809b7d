"""Independent float64 reference for sequence pooling: `sequence.json`.

Sum and mean pooling are torch.nn.EmbeddingBag (float64, offsets given,
empty bags, repeated ids); DIN target attention is a small module written
here with torch ops and autograd:

    z_i = [q, k_i, q - k_i, q * k_i]
    s_i = Linear_L(ReLU(... ReLU(Linear_1(z_i))))      (last layer to 1, no activation)
    w_i = s_i   or   softmax over the example's ids
    p_b = sum_i w_i k_i                                 (0 for an empty list)

The loss of every case is sum(G * P) for a fixed random upstream G, so the
gradients are those of the backward pass from dP = G. Weights are written in
Ranker's layout (`in x out`, y = x W + b); torch's Linear stores `out x in`.

Usage: python3 tools/goldens/sequence_reference.py --out Tests/Goldens
"""
import argparse, json, os
import torch

torch.set_default_dtype(torch.float64)


def ragged(gen, batch, vocab, max_len):
    lists = []
    for b in range(batch):
        n = int(torch.randint(0, max_len + 1, (1,), generator=gen))
        if b == 1:
            n = 0  # always one empty list
        ids = torch.randint(0, vocab, (n,), generator=gen).tolist()
        if b == 2 and n >= 2:
            ids[1] = ids[0]  # always one repeated id within a list
        lists.append(ids)
    offsets = [0]
    for l in lists:
        offsets.append(offsets[-1] + len(l))
    return lists, offsets


def bag_case(gen, mode, batch=7, vocab=11, dim=5, max_len=6):
    lists, offsets = ragged(gen, batch, vocab, max_len)
    ids = [i for l in lists for i in l]
    bag = torch.nn.EmbeddingBag(vocab, dim, mode=mode)
    with torch.no_grad():
        bag.weight.copy_(torch.randn(vocab, dim, generator=gen))
    upstream = torch.randn(batch, dim, generator=gen)
    out = bag(torch.tensor(ids, dtype=torch.long), torch.tensor(offsets[:-1], dtype=torch.long))
    (out * upstream).sum().backward()
    return {"mode": mode, "vocabulary": vocab, "dimension": dim, "ids": ids, "offsets": offsets,
            "table": bag.weight.detach().tolist(), "upstream": upstream.tolist(),
            "output": out.detach().tolist(), "table_grad": bag.weight.grad.tolist()}


def attention_case(gen, softmax, shared, batch=6, vocab=9, dim=4, hidden=(6, 3), max_len=5):
    """Keys from `table`; queries from `query_table[query_ids]` (the same table when shared)."""
    lists, offsets = ragged(gen, batch, vocab, max_len)
    ids = [i for l in lists for i in l]
    table = (0.7 * torch.randn(vocab, dim, generator=gen)).requires_grad_()
    query_table = table if shared else (0.7 * torch.randn(vocab + 2, dim, generator=gen)).requires_grad_()
    query_ids = torch.randint(0, query_table.shape[0], (batch,), generator=gen).tolist()
    sizes = [4 * dim] + list(hidden) + [1]
    weights, biases = [], []
    for a, b in zip(sizes[:-1], sizes[1:]):
        weights.append((torch.randn(a, b, generator=gen) / a ** 0.5).requires_grad_())
        biases.append((0.1 * torch.randn(b, generator=gen)).requires_grad_())
    upstream = torch.randn(batch, dim, generator=gen)

    pooled = []
    all_weights = []
    for b in range(batch):
        q = query_table[query_ids[b]]
        if not lists[b]:
            pooled.append(torch.zeros(dim))
            continue
        k = table[torch.tensor(lists[b], dtype=torch.long)]
        qq = q.expand_as(k)
        h = torch.cat([qq, k, qq - k, qq * k], dim=1)
        for j, (w, c) in enumerate(zip(weights, biases)):
            h = h @ w + c
            if j < len(weights) - 1:
                h = torch.relu(h)
        s = h[:, 0]
        w = torch.softmax(s, dim=0) if softmax else s
        all_weights.extend(w.detach().tolist())
        pooled.append((w[:, None] * k).sum(dim=0))
    out = torch.stack(pooled)
    (out * upstream).sum().backward()
    case = {"softmax": softmax, "shared": shared, "vocabulary": vocab, "dimension": dim, "hidden": list(hidden),
            "ids": ids, "offsets": offsets, "query_ids": query_ids,
            "table": table.detach().tolist(), "upstream": upstream.tolist(),
            "weights": [w.detach().tolist() for w in weights], "biases": [c.detach().tolist() for c in biases],
            "output": out.detach().tolist(), "attention_weights": all_weights,
            "table_grad": table.grad.tolist(),
            "weight_grads": [w.grad.tolist() for w in weights], "bias_grads": [c.grad.tolist() for c in biases]}
    if not shared:
        case["query_table"] = query_table.detach().tolist()
        case["query_table_grad"] = query_table.grad.tolist()
    return case


p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--out", required=True)
p.add_argument("--seed", type=int, default=17)
a = p.parse_args()
gen = torch.Generator().manual_seed(a.seed)
out = {"generator": "tools/goldens/sequence_reference.py (torch %s, float64)" % torch.__version__,
       "bags": [bag_case(gen, m) for m in ("sum", "mean", "sum", "mean")],
       "attention": [attention_case(gen, softmax, shared)
                     for softmax, shared in ((False, False), (True, False), (False, True), (True, True))]}
os.makedirs(a.out, exist_ok=True)
path = os.path.join(a.out, "sequence.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote %s: %d bag cases, %d attention cases" % (path, len(out["bags"]), len(out["attention"])))
