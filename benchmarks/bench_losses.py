"""Speed and memory of skrank's losses beside plain reference implementations.

Forward plus backward on CPU, float32, a batch of 64 lists whose lengths are
uniform in ``[L/2, L]`` (padded to ``L``), for every registered loss. Each
(loss, implementation, L) runs in a fresh subprocess, so that its extra peak
memory (peak RSS, ``ru_maxrss``, minus the RSS before the first loss call)
is its own; it is timed with one thread, then with two (median of repeats).

The reference of each loss is the straightforward vectorised PyTorch formula
(allRank style): pairwise and sorting-based losses materialise
``[n_queries, L, L]`` tensors and let autograd keep them. The listwise
references live in ``_reference_listwise.py``; ``--check`` compares every
loss with its reference (value and gradient, float64, small batch).

A second check runs every pairwise-family loss on ONE list of 20,000
documents (forward and backward) and reports its extra peak memory.

``--memory`` is the memory check: every registered loss, forward and
backward on ONE query of 50,000 documents (``--memory-length``), each in its
own subprocess, reporting its extra peak RSS against the target of 500 MB.
NeuralNDCG needs a ``list_len x list_len`` matrix per list and refuses a list
over its ``max_list_len`` (8,192): the check records that refusal.

Usage::

    python benchmarks/bench_losses.py            # full run (~15 min on 2 cores)
    python benchmarks/bench_losses.py --quick    # L in 32, 128, one repeat
    python benchmarks/bench_losses.py --losses ranknet lambdarank --lengths 1024
    python benchmarks/bench_losses.py --memory   # one 50,000-document query
"""

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

N_QUERIES = 64
PAIRWISE_FAMILY = [
    "ranknet",
    "pairwise_hinge",
    "pairwise_soft_zero_one",
    "lambdarank",
    "lambdaloss",
]
# references that cannot run at some lengths (memory): name -> largest L
REFERENCE_MAX_LEN = {"neuralndcg": 512}
#: extra peak memory allowed for one query of --memory-length documents
MEMORY_TARGET_MB = 500


# ---------------------------------------------------------------------------
# Plain reference implementations: [Q, L, L] tensors, autograd does the rest
# ---------------------------------------------------------------------------
def _references():
    import torch
    import torch.nn.functional as F

    def per_list_mean(values, valid):
        valid = valid & torch.ones_like(values, dtype=torch.bool)
        return values[valid].mean() if valid.any() else values.sum() * 0

    def pointwise(doc_loss):
        def ref(s, y, m):
            v = torch.where(m, doc_loss(s, y), torch.zeros_like(s))
            n = m.sum(1)
            return per_list_mean(v.sum(1) / n.clamp(min=1), n > 0)

        return ref

    def ordinal(s, y, m):
        t = torch.arange(s.shape[-1], dtype=s.dtype)
        target = (y[..., None] > t).to(s.dtype)
        v = F.binary_cross_entropy_with_logits(s, target, reduction="none").sum(-1)
        v = torch.where(m, v, torch.zeros_like(v))
        n = m.sum(1)
        return per_list_mean(v.sum(1) / n.clamp(min=1), n > 0)

    def pairs(s, y, m):
        diff = s[:, :, None] - s[:, None, :]
        valid = (y[:, :, None] > y[:, None, :]) & m[:, :, None] & m[:, None, :]
        return diff, valid

    def pairwise(fn):
        def ref(s, y, m):
            diff, valid = pairs(s, y, m)
            v = torch.where(valid, fn(diff), torch.zeros_like(diff))
            n = valid.sum((1, 2))
            return per_list_mean(v.sum((1, 2)) / n.clamp(min=1), n > 0)

        return ref

    def ranks_of(s, m):
        key = torch.where(m, s.detach(), torch.full_like(s, -math.inf))
        order = key.argsort(dim=1, descending=True, stable=True)
        return order.argsort(dim=1).to(s.dtype)

    def gains_idcg(y, m):
        g = torch.where(m, 2.0**y - 1.0, torch.zeros_like(y))
        ideal = g.sort(dim=1, descending=True).values
        disc = 1.0 / torch.log2(torch.arange(y.shape[1], dtype=y.dtype) + 2.0)
        return g, (ideal * disc).sum(1)

    def lambda_ref(scheme):
        def ref(s, y, m):
            diff, valid = pairs(s, y, m)
            g, idcg = gains_idcg(y, m)
            g = g / idcg.clamp(min=1e-30)[:, None]
            r = ranks_of(s, m)
            d = torch.where(m, 1.0 / torch.log2(r + 2.0), torch.zeros_like(r))
            gdiff = (g[:, :, None] - g[:, None, :]).abs()
            if scheme == "lambdarank":
                w = gdiff * (d[:, :, None] - d[:, None, :]).abs()
                f = F.softplus(-diff)
            else:
                gap = (r[:, :, None] - r[:, None, :]).abs().clamp(min=1.0)
                delta = 1.0 / torch.log2(gap + 1.0) - 1.0 / torch.log2(gap + 2.0)
                w = gdiff * delta
                f = F.softplus(-diff) / math.log(2.0)
            v = torch.where(valid, w.detach() * f, torch.zeros_like(diff))
            n = valid.sum((1, 2))
            return per_list_mean(v.sum((1, 2)), (n > 0) & (idcg > 0))

        return ref

    refs = {
        "mse": pointwise(lambda s, y: (s - y) ** 2),
        "mae": pointwise(lambda s, y: (s - y).abs()),
        "huber": pointwise(lambda s, y: F.huber_loss(s, y, reduction="none")),
        "sigmoid_bce": pointwise(
            lambda s, y: F.binary_cross_entropy_with_logits(
                s, (y >= 1).to(s.dtype), reduction="none"
            )
        ),
        "ordinal": ordinal,
        "ranknet": pairwise(lambda d: F.softplus(-d)),
        "pairwise_hinge": pairwise(lambda d: F.relu(1.0 - d)),
        "pairwise_soft_zero_one": pairwise(lambda d: torch.sigmoid(-d)),
        "lambdarank": lambda_ref("lambdarank"),
        "lambdaloss": lambda_ref("ndcg_loss2"),
    }
    # the listwise losses' references are written by their author
    try:
        import _reference_listwise as listwise
    except ImportError:  # pragma: no cover
        listwise = None
    if listwise is not None:
        for ref_name in listwise.__all__:
            refs[ref_name.removeprefix("ref_")] = getattr(listwise, ref_name)
    return refs


# ---------------------------------------------------------------------------
# Worker: one configuration in a fresh process
# ---------------------------------------------------------------------------
def _max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _inputs(loss, n_queries, list_len, seed=0):
    import torch

    gen = torch.Generator().manual_seed(seed)
    n_outputs = getattr(loss, "n_outputs", 1)
    shape = (
        (n_queries, list_len) if n_outputs == 1 else (n_queries, list_len, n_outputs)
    )
    scores = torch.randn(shape, generator=gen)
    labels = torch.randint(0, 5, (n_queries, list_len), generator=gen).float()
    low = max(1, list_len // 2)
    lengths = torch.randint(low, list_len + 1, (n_queries,), generator=gen)
    mask = torch.arange(list_len)[None, :] < lengths[:, None]
    return scores, labels, mask


def _worker(args):
    import torch

    from skrank.losses import get_loss

    torch.set_num_threads(1)
    loss = get_loss(args.name)
    if args.impl == "reference":
        fn = _references()[args.name]
    else:
        fn = loss
    n_queries = 1 if args.long_list else N_QUERIES
    scores, labels, mask = _inputs(loss, n_queries, args.length)
    if args.long_list:
        mask[:] = True

    def step():
        x = scores.clone().requires_grad_()
        start = time.perf_counter()
        value = fn(x, labels, mask)
        value.backward()
        elapsed = time.perf_counter() - start
        if not torch.isfinite(value) or not torch.isfinite(x.grad).all():
            raise RuntimeError("non-finite value or gradient")
        return elapsed

    base = _max_rss_mb()
    result = {"times": {}}
    for threads in args.threads:
        torch.set_num_threads(threads)
        # warm-up on a small slice: thread pool and first-call overheads
        warm = scores[:4, :64].clone().requires_grad_()
        fn(warm, labels[:4, :64], mask[:4, :64]).backward()
        times = [step() for _ in range(args.repeats)]
        result["times"][str(threads)] = statistics.median(times)
    result["extra_mb"] = _max_rss_mb() - base
    print(json.dumps(result))


def _check(names):
    """Compare every loss with its reference: float64, 16 lists of <= 40 docs."""

    from skrank.losses import get_loss

    refs = _references()
    print("| loss | value rel. diff | max abs. gradient diff |")
    print("|---|---|---|")
    for name in names:
        if name not in refs:
            print(f"| {name} | no reference | - |")
            continue
        loss = get_loss(name)
        scores, labels, mask = _inputs(loss, 16, 40)
        scores, labels = scores.double(), labels.double()
        ours = scores.clone().requires_grad_()
        theirs = scores.clone().requires_grad_()
        value = loss(ours, labels, mask)
        value.backward()
        expected = refs[name](theirs, labels, mask)
        expected.backward()
        rel = abs(value.item() - expected.item()) / max(abs(expected.item()), 1e-300)
        grad = (ours.grad - theirs.grad).abs().max().item()
        print(f"| {name} | {rel:.1e} | {grad:.1e} |")


def _run_worker(name, impl, length, threads, repeats, long_list=False, timeout=600):
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        "--name",
        name,
        "--impl",
        impl,
        "--length",
        str(length),
        "--repeats",
        str(repeats),
        "--threads",
        *map(str, threads),
    ]
    if long_list:
        cmd.append("--long-list")
    env = dict(os.environ, OMP_NUM_THREADS=str(max(threads)))
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:160]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(result, threads):
    if result is None:
        return "-"
    if "error" in result:
        return result["error"]
    seconds = result["times"][str(threads)]
    return f"{seconds:.3g} s"


def _fmt_mem(result):
    if result is None or "error" in result:
        return "-"
    mb = result["extra_mb"]
    return f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="L in 32, 128; 1 repeat")
    parser.add_argument("--lengths", type=int, nargs="+", default=None)
    parser.add_argument("--losses", nargs="+", default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--long-length", type=int, default=20000)
    parser.add_argument("--no-long", action="store_true")
    parser.add_argument(
        "--memory", action="store_true", help="only the one-long-query memory check"
    )
    parser.add_argument("--memory-length", type=int, default=50000)
    parser.add_argument(
        "--check", action="store_true", help="only compare values with references"
    )
    # worker mode
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--long-list", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args)
        return

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from skrank.losses import get_loss_names

    lengths = args.lengths or ([32, 128] if args.quick else [32, 128, 512, 1024])
    repeats = args.repeats or (1 if args.quick else 3)
    names = args.losses or get_loss_names()
    if args.check:
        _check(names)
        return
    if args.memory:
        _memory_check(names, args.memory_length)
        return
    print(
        f"# Losses, forward + backward, CPU float32, {N_QUERIES} lists of length "
        f"U[L/2, L]; median of {repeats}; threads {args.threads}; "
        f"{os.cpu_count()} CPUs"
    )
    for length in lengths:
        print(f"\n## L = {length}\n")
        cols = [f"skrank {t}T" for t in args.threads] + ["skrank mem"]
        cols += [f"reference {t}T" for t in args.threads] + ["reference mem"]
        cols += [f"speed-up {args.threads[0]}T"]
        print("| loss | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for name in names:
            ours = _run_worker(name, "skrank", length, args.threads, repeats)
            if length > REFERENCE_MAX_LEN.get(name, math.inf):
                ref = {"error": "skipped (memory)"}
            else:
                ref = _run_worker(name, "reference", length, args.threads, repeats)
            cells = [_fmt(ours, t) for t in args.threads] + [_fmt_mem(ours)]
            cells += [_fmt(ref, t) for t in args.threads] + [_fmt_mem(ref)]
            t0 = str(args.threads[0])
            if "times" in ours and "times" in ref:
                cells.append(f"{ref['times'][t0] / ours['times'][t0]:.1f}x")
            else:
                cells.append("-")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    if args.no_long or args.quick:
        return
    print(f"\n## One list of {args.long_length} documents (skrank only)\n")
    print("| loss | time 1T | extra peak memory |")
    print("|---|---|---|")
    for name in [n for n in names if n in PAIRWISE_FAMILY or n == "approxndcg"]:
        res = _run_worker(name, "skrank", args.long_length, [1], 1, long_list=True)
        print(f"| {name} | {_fmt(res, 1)} | {_fmt_mem(res)} |", flush=True)


def _memory_check(names, length):
    """Every loss on one query of ``length`` documents: extra peak RSS."""
    print(
        f"# One query of {length} documents, forward + backward, CPU float32, "
        f"1 thread; target: extra peak RSS < {MEMORY_TARGET_MB} MB\n"
    )
    print("| loss | time | extra peak RSS | within target |")
    print("|---|---|---|---|")
    for name in names:
        res = _run_worker(name, "skrank", length, [1], 1, long_list=True)
        if "error" in res:
            print(f"| {name} | - | - | refused: {res['error']} |", flush=True)
            continue
        ok = "yes" if res["extra_mb"] < MEMORY_TARGET_MB else "**no**"
        print(f"| {name} | {_fmt(res, 1)} | {_fmt_mem(res)} | {ok} |", flush=True)


if __name__ == "__main__":
    main()
