"""Independent float64 reference for the loss-weighting and gradient-combination goldens.

Writes `dwa.json`, `gradnorm.json`, `gradcraft.json`, `pcgrad.json` and `uw.json` in the
format of the shared files (Tests/Goldens, spec/goldens), with random cases drawn from a
seed, so that `RANKER_GOLDENS=DIR make goldens` checks the Swift balancers on cases that
were not produced by the Swift code. Plain numpy, float64; every formula is the spec's
(sections 5 and 6 of ALGORITHMS.md) written in its most direct form:

* DWA (5.2): ratios of per-epoch averages, `T * softmax(r / temp)`, epochs 0 and 1 use 1.
* GradNorm (5.3): `G_i = w_i ||g_i||`, inverse training rates, targets, the L1 loss and
  its gradient per preset (`paper`, NextRec 0.4.x `nextrec` with `+1e-8` guards, NextRec
  0.6.x `nextrec_clamp` with clamps), PyTorch's Adam, clamp and renormalisation; the
  LibMTL parametrisation `w = T softmax(s)` by its explicit Jacobian.
* UW (5.4): Kendall's total, effective weights and `d total / d s`.
* GradCraft (6.1): magnitude adjustment of the d-vectors, conflict sets from their inner
  products, and for every task its own projection: `G_i` stacked from the conflicting
  adjusted vectors, `A = G_i G_i^T` built from those vectors, `np.linalg.solve` (or the
  eigen pseudo-inverse when `lambda_min <= 1e-10 lambda_max`), `gtilde_i = ghat_i + G_i^T w`;
  the mean of the projected vectors. The coefficient fields are read off the solves.
* PCGrad (6.2): LibMTL's loop over d-vectors with explicit per-task orders.

    python3 tools/goldens/weighting_reference.py --seed 1 --out /tmp/weighting1
    RANKER_GOLDENS=/tmp/weighting1 make goldens

`--check-shared DIR` instead recomputes every case of the shared files in DIR from their
inputs and reports the largest relative difference per file (a check of this script).

Random cases keep every discrete decision away from its threshold, as spec section 8
promises for the shared files: GradCraft task pairs `|cos| >= 1.9e-3`, PCGrad decisions
`|cos(pc_i, g_j)| >= 2.6e-3`, and no GradCraft system near the pseudo-inverse switch or
so ill-conditioned that float32 inputs would move the result beyond the float32 tolerance
(`cond(G_i G_i^T) <= 1e6`); a draw that misses is drawn again.

Conventions of the shared files kept here: JSON `null` for NaN/infinity; conflict sets as
sorted index lists; `sgd_lr0.025_renormalized` is the raw SGD step renormalised as
`T w / sum w` WITHOUT the clamp (the shared file's convention; the checker compares the
library's clamped rule separately when a weight goes negative).
"""
import argparse
import json
import math
import os

import numpy as np

COS_MARGIN_GRADCRAFT = 1.9e-3
COS_MARGIN_PCGRAD = 2.6e-3
PINV_RCOND = 1e-10
MAX_CONDITION = 1e6
PCGRAD_DENOM_EPS = 1e-8
EPS = 1e-8


# --------------------------------------------------------------------------- JSON


def clean(x):
    """numpy -> plain Python, non-finite floats -> None (JSON null)."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return clean(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


def write(out, name, value):
    path = os.path.join(out, name)
    with open(path, "w") as f:
        json.dump(clean(value), f, allow_nan=False)
    return path


def random_rows(rng, t, d):
    """T x d gradients with row scales spread over about an order of magnitude either way."""
    return np.stack([math.exp(rng.normal()) * rng.normal(size=d) for _ in range(t)])


def cosine(u, v):
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    return float(u @ v) / (nu * nv)


# --------------------------------------------------------------------------- DWA (5.2)


def dwa_weights(epoch_avg_losses, t, temperature):
    """weights_for_epoch[e] for e = 0 .. len(epoch_avg_losses) (one more than the averages)."""
    weights = []
    for e in range(len(epoch_avg_losses) + 1):
        if e < 2:
            weights.append([1.0] * t)
            continue
        previous, before = epoch_avg_losses[e - 1], epoch_avg_losses[e - 2]
        r = []
        for k in range(t):
            ratio = previous[k] / before[k] if before[k] > 0 else float("nan")
            r.append(ratio if math.isfinite(ratio) else 1.0)
        e_k = [math.exp(rk / temperature) for rk in r]
        total = sum(e_k)
        weights.append([t * v / total for v in e_k])
    return weights


def dwa_file(rng):
    cases = []
    for t, temperature, epochs in [(2, 2.0, 6), (3, 2.0, 6), (4, 2.0, 6), (6, 2.0, 6), (3, 0.5, 4)]:
        averages = rng.uniform(0.2, 1.5, size=(epochs, t)).tolist()
        case = {"T": t, "temperature": temperature, "epoch_avg_losses": averages,
                "weights_for_epoch": dwa_weights(averages, t, temperature)}
        if temperature == 2.0:
            case["note"] = "weights_for_epoch[e] is used during epoch e (0-based) and depends on epochs e-1, e-2"
        cases.append(case)
    return {"description": "DWA: w_k(t) = K*exp(r_k/temp)/sum_i exp(r_i/temp), r_k = L_k(t-1)/L_k(t-2) on per-epoch "
                           "average training losses; epochs 0 and 1 use 1. Generated by "
                           "tools/goldens/weighting_reference.py.",
            "cases": cases}


# --------------------------------------------------------------------------- UW (5.4)


def uw_case(losses, log_vars):
    losses, s = np.asarray(losses, float), np.asarray(log_vars, float)
    weights = 1.0 / (2.0 * np.exp(s))
    total = float(np.sum(losses * weights + s / 2.0))
    gradient = -losses / (2.0 * np.exp(s)) + 0.5
    return total, weights, gradient


def uw_file(rng):
    t = int(rng.integers(2, 7))
    losses = rng.uniform(0.05, 1.5, size=t)
    log_vars = rng.uniform(-2.0, 1.5, size=t)
    total, weights, gradient = uw_case(losses, log_vars)
    return {"description": "LibMTL uncertainty weighting: total = sum L_i/(2 exp(s_i)) + s_i/2, s init -0.5. "
                           "Generated by tools/goldens/weighting_reference.py.",
            "losses": losses, "log_vars": log_vars, "total": total, "effective_weights": weights,
            "dtotal_dlogvars": gradient}


# --------------------------------------------------------------------------- GradNorm (5.3)


def gradnorm_quantities(weights, grads, losses, initial_losses, alpha, preset):
    """G, r, target, L_grad and dL_grad/dw for one step, per preset."""
    w = np.asarray(weights, float)
    n2 = np.array([float(g @ g) for g in np.asarray(grads, float)])
    L, L0 = np.asarray(losses, float), np.asarray(initial_losses, float)
    if preset == "paper":
        n = np.sqrt(n2)
        G = w * n
        dG = n
        ratio = L / np.maximum(L0, EPS)
        r = ratio / ratio.mean()
    elif preset == "nextrec":  # NextRec 0.4.x: sqrt(q + eps), x / (y + eps)
        q = w * w * n2
        G = np.sqrt(q + EPS)
        dG = w * n2 / G
        ratio = L / (L0 + EPS)
        r = ratio / (ratio.mean() + EPS)
    elif preset == "nextrec_clamp":  # NextRec 0.6.x: the same guards as clamp(min=eps)
        q = w * w * n2
        G = np.sqrt(np.maximum(q, EPS))
        dG = np.where(q >= EPS, w * n2 / G, 0.0)  # torch.clamp passes no gradient below its bound
        ratio = L / np.maximum(L0, EPS)
        r = ratio / max(ratio.mean(), EPS)
    else:
        raise ValueError(preset)
    target = G.mean() * r ** alpha
    L_grad = float(np.sum(np.abs(G - target)))
    grad_w = np.sign(G - target) * dG
    return G, r, target, L_grad, grad_w


def adam_step(w, g, m, v, step, lr=0.025, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam (no weight decay, no amsgrad), one step."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    denominator = np.sqrt(v) / math.sqrt(1 - beta2 ** step) + eps
    return w - (lr / (1 - beta1 ** step)) * m / denominator, m, v


def renormalize(w, preset):
    t = len(w)
    w = np.maximum(w, EPS)
    if preset == "nextrec":
        return t * w / (w.sum() + EPS)
    return t * w / max(w.sum(), EPS)


def gradnorm_single(rng, t, d, alpha=1.5):
    grads = random_rows(rng, t, d)
    losses = rng.uniform(0.2, 1.2, size=t)
    initial = rng.uniform(0.5, 1.0, size=t)
    raw = rng.uniform(0.5, 1.5, size=t)
    weights = t * raw / raw.sum()
    G, r, target, L_grad, grad_w = gradnorm_quantities(weights, grads, losses, initial, alpha, "paper")
    sgd = weights - 0.025 * grad_w
    sgd = t * sgd / sgd.sum()  # the shared file's convention: no clamp here (see the module docstring)
    adam, _, _ = adam_step(weights, grad_w, np.zeros(t), np.zeros(t), 1)
    adam = renormalize(adam, "paper")
    logits = rng.normal(scale=0.3, size=t)
    p = np.exp(logits - logits.max())
    p = p / p.sum()
    soft_weights = t * p
    _, _, _, _, soft_grad_w = gradnorm_quantities(soft_weights, grads, losses, initial, alpha, "paper")
    jacobian = t * (np.diag(p) - np.outer(p, p))  # d w_i / d s_k
    grad_logits = jacobian.T @ soft_grad_w
    return {"T": t, "d": d, "alpha": alpha, "grads": grads, "losses": losses, "initial_losses": initial,
            "weights": weights, "G": G, "r": r, "target": target, "L_grad": L_grad, "grad_w": grad_w,
            "sgd_lr0.025_renormalized": sgd, "adam_lr0.025_first_step_renormalized": adam,
            "weighted_grad": weights @ grads,
            "softmax_param": {"logits": logits, "weights": soft_weights, "grad_logits": grad_logits}}


def gradnorm_run(preset, inputs, alpha=1.5, ema_decay=None, init_ema_steps=0, init_ema_decay=0.9):
    """NextRec's loop (`compute_weighted_loss` then `step`) in float64 over `inputs` = [(grads, losses)]:
    per step the weights used, `dL_grad/dw` and the weights after Adam, clamp and renormalisation."""
    t = len(inputs[0][1])
    w = np.ones(t)
    m, v = np.zeros(t), np.zeros(t)
    initial, initial_ema, init_count, loss_ema = None, None, 0, None
    records = []
    for s, (grads, losses) in enumerate(inputs):
        losses = np.asarray(losses, float)
        if initial is None:
            if init_ema_steps > 0:
                initial_ema = losses.copy() if initial_ema is None else \
                    init_ema_decay * initial_ema + (1 - init_ema_decay) * losses
                init_count += 1
                if init_count >= init_ema_steps:
                    initial = initial_ema.copy()
            else:
                initial = losses.copy()
        if ema_decay is not None:
            loss_ema = losses.copy() if loss_ema is None else ema_decay * loss_ema + (1 - ema_decay) * losses
            numerator = loss_ema
        else:
            numerator = losses
        reference = initial if initial is not None else initial_ema
        _, _, _, _, grad_w = gradnorm_quantities(w, grads, numerator, reference, alpha, preset)
        used = w.copy()
        w, m, v = adam_step(w, grad_w, m, v, s + 1)
        w = renormalize(w, preset)
        records.append({"grads": grads, "losses": losses, "weights_used": used, "grad_w": grad_w, "weights_next": w})
    return records


def gradnorm_sequence(rng, preset, t, d, steps, alpha=1.5, ema_decay=None, init_ema_steps=0, init_ema_decay=0.9):
    inputs = [(random_rows(rng, t, d), rng.uniform(0.2, 1.2, size=t)) for _ in range(steps)]
    records = gradnorm_run(preset, inputs, alpha, ema_decay, init_ema_steps, init_ema_decay)
    case = {"preset": preset, "T": t, "d": d, "alpha": alpha}
    if ema_decay is None and init_ema_steps == 0:
        case["optimizer"] = "adam(lr=0.025, betas=(0.9,0.999), eps=1e-8)"
        case["initial_losses"] = "losses of step 0"
    else:
        case.update({"ema_decay": ema_decay, "init_ema_steps": init_ema_steps, "init_ema_decay": init_ema_decay})
        for record in records:
            del record["grad_w"]  # as in the shared file: the EMA case pins the weights only
    case["steps"] = records
    return case


def gradnorm_file(rng):
    single = [gradnorm_single(rng, t, d) for t in (2, 3, 4, 6) for d in (5, 50)]
    sequences = [
        gradnorm_sequence(rng, "paper", int(rng.integers(2, 5)), 5, 5),
        gradnorm_sequence(rng, "paper", int(rng.integers(3, 7)), 50, 5),
        gradnorm_sequence(rng, "nextrec", int(rng.integers(2, 5)), 5, 5),
        gradnorm_sequence(rng, "nextrec_clamp", int(rng.integers(2, 5)), 5, 5),
        gradnorm_sequence(rng, "nextrec", int(rng.integers(2, 5)), 5, 6, ema_decay=0.9, init_ema_steps=3,
                          init_ema_decay=0.9),
    ]
    return {"description": "GradNorm. grads = gradients of the UNWEIGHTED task losses w.r.t. the chosen shared "
                           "parameters. G_i = w_i*||g_i||, r_i = (L_i/L0_i)/mean, target = mean(G)*r^alpha "
                           "(constant), grad_w_i = sign(G_i - target_i)*||g_i||; update then renormalize to sum T. "
                           "softmax_param = LibMTL parametrisation w = T*softmax(logits). Generated by "
                           "tools/goldens/weighting_reference.py.",
            "single_step": single, "sequences": sequences}


# --------------------------------------------------------------------------- GradCraft (6.1)


def gradcraft(grads, tau, eps):
    """Every field of a gradcraft.json case, from explicit per-task projections of d-vectors."""
    g = np.asarray(grads, float)
    t = g.shape[0]
    norms = np.array([np.linalg.norm(row) for row in g])
    top = norms.max()
    scale = np.array([tau * top / n + 1 - tau if n > 0 else 1.0 for n in norms])
    g_hat = scale[:, None] * g
    conflicts = [[j for j in range(t) if j != i and float(g_hat[i] @ g_hat[j]) < 0] for i in range(t)]
    proj_weights = np.zeros((t, t))
    g_tilde = g_hat.copy()
    used_pinv = [False] * t
    conditions = []
    for i in range(t):
        c = conflicts[i]
        if not c:
            continue
        G_i = g_hat[c]                                              # n x d
        z = eps * np.linalg.norm(g_hat[i]) * np.array([np.linalg.norm(row) for row in G_i])
        A = G_i @ G_i.T
        b = -G_i @ g_hat[i] + z
        if len(c) == 1:
            w = b / A[0, 0]
        else:
            eigenvalues, vectors = np.linalg.eigh(A)
            if eigenvalues[0] <= PINV_RCOND * eigenvalues[-1]:
                keep = eigenvalues > PINV_RCOND * eigenvalues[-1]
                w = vectors[:, keep] @ ((vectors[:, keep].T @ b) / eigenvalues[keep])
                used_pinv[i] = True
            else:
                w = np.linalg.solve(A, b)
                conditions.append(eigenvalues[-1] / eigenvalues[0])
        g_tilde[i] = g_hat[i] + G_i.T @ w
        proj_weights[i, c] = w
    coef_raw = (np.eye(t) + proj_weights) * scale[None, :]
    return {"T": t, "d": g.shape[1], "tau": tau, "eps": eps, "grads": g, "g_hat": g_hat, "scale": scale,
            "conflicts": conflicts, "proj_weights": proj_weights, "g_tilde": g_tilde,
            "combined_mean": g_tilde.mean(axis=0), "coef_raw": coef_raw, "task_coef_mean": coef_raw.sum(axis=0) / t,
            "used_pinv_fallback": used_pinv}, conditions


def pair_margin_ok(g, skip_zero=True):
    t = len(g)
    for i in range(t):
        for j in range(i + 1, t):
            if skip_zero and (not np.any(g[i]) or not np.any(g[j])):
                continue
            if abs(cosine(g[i], g[j])) < COS_MARGIN_GRADCRAFT:
                return False
    return True


def gradcraft_ok(g, settings):
    if not pair_margin_ok(g):
        return False
    for tau, eps in settings:
        case, conditions = gradcraft(g, tau, eps)
        if any(case["used_pinv_fallback"]) or any(k > MAX_CONDITION for k in conditions):
            return False
    return True


def with_key_order(case, name):
    keys = ["name", "T", "d", "tau", "eps", "grads", "g_hat", "scale", "conflicts", "proj_weights", "g_tilde",
            "combined_mean", "coef_raw", "task_coef_mean", "used_pinv_fallback"]
    case = dict(case, name=name)
    return {k: case[k] for k in keys} | {k: v for k, v in case.items() if k not in keys}


def gradcraft_file(rng):
    settings = [(1.0, 0.0), (0.5, 0.0), (0.0, 0.0), (1.0, 0.01)]
    cases = []
    for t in (2, 3, 4, 6):
        for d in (5, 50):
            while True:
                g = random_rows(rng, t, d)
                if gradcraft_ok(g, settings):
                    break
            for tau, eps in settings:
                cases.append(with_key_order(gradcraft(g, tau, eps)[0], f"random_T{t}_d{d}"))

    # No conflicts: non-negative rows.
    g = np.abs(random_rows(rng, 3, 5))
    cases.append(with_key_order(gradcraft(g, 1.0, 0.0)[0], "no_conflicts_nonnegative"))

    # Rows 1 and 2 identical and both conflicting with row 0: task 0's system is singular.
    while True:
        g = random_rows(rng, 3, 5)
        g[2] = g[1]
        if cosine(g[0], g[1]) <= -COS_MARGIN_GRADCRAFT * 10:
            break
    case = with_key_order(gradcraft(g, 1.0, 0.01)[0], "duplicate_conflicting_rows_singular_gram")
    case["note"] = ("rows 1 and 2 identical: task 0's Gram matrix is singular; reference uses the pseudo-inverse "
                    "(eigenvalues <= 1e-10*max dropped). The repository's torch.inverse would fail here.")
    assert case["used_pinv_fallback"][0], "duplicated rows must take the pseudo-inverse path"
    cases.append(case)

    # A zero row between two conflicting tasks.
    while True:
        g = random_rows(rng, 3, 5)
        g[1] = 0.0
        if cosine(g[0], g[2]) <= -COS_MARGIN_GRADCRAFT:
            break
    case = with_key_order(gradcraft(g, 1.0, 0.0)[0], "zero_gradient_task")
    case["note"] = "zero row: scale factor defined as 1, never conflicts"
    cases.append(case)

    # Two conflicting tasks, tau = 0, eps = 0: GradCraft equals PCGrad with the mean (exact projection).
    while True:
        g = random_rows(rng, 2, 6)
        if cosine(g[0], g[1]) <= -COS_MARGIN_GRADCRAFT:
            break
    case = with_key_order(gradcraft(g, 0.0, 0.0)[0], "two_tasks_equals_pcgrad_mean")
    projected, _ = pcgrad(g, [[0, 1], [0, 1]], denominator_eps=0.0)
    case["pcgrad_mean"] = projected.sum(axis=0) / 2
    cases.append(case)
    return {"description": "GradCraft combine on a T x d matrix of shared-parameter task gradients (spec form). "
                           "g_hat_i = (tau*max_j||g_j||/||g_i|| + 1 - tau) g_i; C_i = {j: <g_hat_i,g_hat_j> < 0}; "
                           "w = (G_i G_i^T)^-1 (eps*||g_hat_i||*||g_hat_j||_j - G_i g_hat_i); g_tilde_i = g_hat_i + "
                           "G_i^T w; combined = mean_i g_tilde_i. proj_weights[i][j] = weight of g_hat_j in g_tilde_i; "
                           "coef_raw[i][j] = coefficient of RAW g_j in g_tilde_i; task_coef_mean[j] = coefficient of "
                           "raw g_j in the combined (mean) gradient. Generated by tools/goldens/weighting_reference.py.",
            "cases": cases}


# --------------------------------------------------------------------------- PCGrad (6.2)


def pcgrad(grads, orders, denominator_eps=PCGRAD_DENOM_EPS):
    """LibMTL's loop; returns the projected rows and the smallest |cos(pc_i, g_j)| at a decision."""
    g = np.asarray(grads, float)
    projected = g.copy()
    smallest = math.inf
    for i in range(len(g)):
        pc = g[i].copy()
        for j in orders[i]:
            dot = float(pc @ g[j])
            smallest = min(smallest, abs(cosine(pc, g[j])) if np.any(pc) else 0.0)
            if dot < 0:
                pc = pc - dot / (float(g[j] @ g[j]) + denominator_eps) * g[j]
        projected[i] = pc
    return projected, smallest


def pcgrad_file(rng):
    cases = []
    for t in (2, 3, 4, 6):
        for d in (5, 50):
            identity = [list(range(t)) for _ in range(t)]
            while True:
                g = random_rows(rng, t, d)
                orders = [rng.permutation(t).tolist() for _ in range(t)]
                margins = [pcgrad(g, o)[1] for o in (identity, orders)]
                conflicts = sum(float(g[i] @ g[j]) < 0 for i in range(t) for j in range(i + 1, t))
                if min(margins) >= COS_MARGIN_PCGRAD and conflicts > 0:
                    break
            for kind, o in (("identity", identity), ("permuted", orders)):
                projected, _ = pcgrad(g, o)
                cases.append({"T": t, "d": d, "orders": o, "order_kind": kind, "grads": g,
                              "denom_eps": PCGRAD_DENOM_EPS, "projected": projected,
                              "combined_sum": projected.sum(axis=0)})
    return {"description": "PCGrad (LibMTL semantics): for task i walk tasks j in orders[i]; if <pc_i, g_j> < 0: "
                           "pc_i -= <pc_i,g_j>/(||g_j||^2+1e-8) g_j (g_j original). combined = sum_i pc_i (LibMTL); "
                           "divide by T for mean. Generated by tools/goldens/weighting_reference.py.",
            "cases": cases}


# --------------------------------------------------------------------------- self-check on the shared files


def max_relative(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-300)
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0


def check_shared(directory):
    """Recomputes each shared case from its inputs; prints the worst relative difference (per field scale)."""
    worst = {}

    def note(name, value):
        worst[name] = max(worst.get(name, 0.0), value)

    load = lambda name: json.load(open(os.path.join(directory, name)))
    for c in load("dwa.json")["cases"]:
        note("dwa", max_relative(dwa_weights(c["epoch_avg_losses"], c["T"], c["temperature"]), c["weights_for_epoch"]))
    u = load("uw.json")
    total, weights, gradient = uw_case(u["losses"], u["log_vars"])
    note("uw", max(max_relative([total], [u["total"]]), max_relative(weights, u["effective_weights"]),
                   max_relative(gradient, u["dtotal_dlogvars"])))
    gn = load("gradnorm.json")
    for c in gn["single_step"]:
        G, r, target, L_grad, grad_w = gradnorm_quantities(c["weights"], c["grads"], c["losses"],
                                                           c["initial_losses"], c["alpha"], "paper")
        for mine, key in ((G, "G"), (r, "r"), (target, "target"), ([L_grad], None), (grad_w, "grad_w")):
            note("gradnorm", max_relative(mine, c[key] if key else [c["L_grad"]]))
        w = np.asarray(c["weights"])
        sgd = w - 0.025 * grad_w
        note("gradnorm", max_relative(len(w) * sgd / sgd.sum(), c["sgd_lr0.025_renormalized"]))
        adam, _, _ = adam_step(w, grad_w, np.zeros(len(w)), np.zeros(len(w)), 1)
        note("gradnorm", max_relative(renormalize(adam, "paper"), c["adam_lr0.025_first_step_renormalized"]))
        note("gradnorm", max_relative(w @ np.asarray(c["grads"]), c["weighted_grad"]))
        s = np.asarray(c["softmax_param"]["logits"])
        p = np.exp(s - s.max()); p /= p.sum()
        t = len(p)
        _, _, _, _, sg = gradnorm_quantities(t * p, c["grads"], c["losses"], c["initial_losses"], c["alpha"], "paper")
        note("gradnorm", max_relative(t * p, c["softmax_param"]["weights"]))
        note("gradnorm", max_relative((t * (np.diag(p) - np.outer(p, p))).T @ sg, c["softmax_param"]["grad_logits"]))
    for c in gn["sequences"]:
        inputs = [(np.asarray(step["grads"]), step["losses"]) for step in c["steps"]]
        records = gradnorm_run(c["preset"], inputs, c["alpha"], c.get("ema_decay"), c.get("init_ema_steps", 0),
                               c.get("init_ema_decay", 0.9))
        for mine, step in zip(records, c["steps"]):
            for key in ("weights_used", "grad_w", "weights_next"):
                if key in step:
                    note("gradnorm", max_relative(mine[key], step[key]))
    for c in load("gradcraft.json")["cases"]:
        mine, _ = gradcraft(c["grads"], c["tau"], c["eps"])
        if mine["conflicts"] != c["conflicts"] or mine["used_pinv_fallback"] != c["used_pinv_fallback"]:
            note("gradcraft decisions differ", 1.0)
        for key in ("g_hat", "scale", "proj_weights", "g_tilde", "combined_mean", "coef_raw", "task_coef_mean"):
            note("gradcraft", max_relative(mine[key], c[key]))
        if "pcgrad_mean" in c:
            projected, _ = pcgrad(c["grads"], [[0, 1], [0, 1]], denominator_eps=0.0)
            note("gradcraft", max_relative(projected.mean(axis=0), c["pcgrad_mean"]))
    for c in load("pcgrad.json")["cases"]:
        projected, _ = pcgrad(c["grads"], c["orders"], c["denom_eps"])
        note("pcgrad", max(max_relative(projected, c["projected"]),
                           max_relative(projected.sum(axis=0), c["combined_sum"])))
    for name, value in sorted(worst.items()):
        print(f"{name}: largest relative difference {value:.3g}")
    return all(v < 1e-12 for v in worst.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="directory for the five JSON files")
    parser.add_argument("--check-shared", metavar="DIR", help="recompute the shared files in DIR and compare")
    args = parser.parse_args()
    if args.check_shared:
        raise SystemExit(0 if check_shared(args.check_shared) else 1)
    if not args.out:
        parser.error("--out is required (or --check-shared)")
    os.makedirs(args.out, exist_ok=True)
    # One generator per file, so that adding a case to one file leaves the others unchanged.
    seeds = np.random.SeedSequence(args.seed).spawn(5)
    makers = [("dwa.json", dwa_file), ("gradnorm.json", gradnorm_file), ("gradcraft.json", gradcraft_file),
              ("pcgrad.json", pcgrad_file), ("uw.json", uw_file)]
    for (name, make), seed in zip(makers, seeds):
        print("wrote", write(args.out, name, make(np.random.default_rng(seed))))


if __name__ == "__main__":
    main()
