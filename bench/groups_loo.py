"""Leave-one-out check of the opinion-group rules: would the shared conversations have chosen them, and what does a
conversation nobody tuned to get?

Usage::

    .venv/bin/python bench/groups_loo.py [--z 0,0.5,1,1.5,2] [--data DIR]

For every real conversation in ``../shared/data/polis`` (skipped with a message when absent) and every candidate
rule — the clustering mode (``robust``: order-free groups with the noise-aware k; ``polis``: Pol.is's arrival-order
clustering on the export's order; ``polis*``: the same on other arrival orders of the same votes) and, for the
robust mode, the k rule's ``Z`` (a larger k must beat the smaller one by more than ``Z`` bootstrap standard
deviations) — it runs the analysis on the current votes and scores the groups against Pol.is's own (adjusted Rand
index over the participants both clustered). Randomised rules are scored by their mean over ``--seeds`` random
states (robust) or arrival orders (polis*), so that one lucky or unlucky draw does not decide. Then, leaving each
conversation out in turn, it picks the rule with the best mean ARI on the other conversations and reports that
rule's ARI on the one left out: the mean of those held-out scores is what the rule-choosing procedure gets on a
conversation it never saw. It also prints the shipped rule at ``random_state=0``, as the product runs it.
It ends with::

    RESULT loo_mean_ari=<mean held-out ARI> default_mean_ari=<mean ARI of the shipped rule> picked_default=<n>/<m>

where ``picked_default`` counts the folds whose pick is the shipped rule (robust, ``Z`` = ``analysis.groups.Z``).

Data: compdemocracy/openData, CC BY 4.0 (the attribution: ``bench_setup.ATTRIBUTION``, shown by ``--help``).
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import numpy as np
from bench_setup import ATTRIBUTION, POLIS  # first: it puts the project on sys.path
from sklearn.metrics import adjusted_rand_score

from analysis import groups as groups_math
from analysis import run_analysis
from analysis.polis_io import read_polis_export


def ari(result, polis: dict[int, int]) -> float:
    """Adjusted Rand index of the result's groups against Pol.is's, over participants both clustered."""
    ours = {int(p): g.id for g in result.groups for p in np.asarray(g.members).tolist()}
    common = sorted(set(ours) & set(polis))
    return float(adjusted_rand_score([polis[p] for p in common], [ours[p] for p in common]))


def score(export, mode: str, z: float | None, *, seed: int = 0, shuffle: int | None = None) -> float:
    """ARI of one rule on one conversation (the k rule's Z set for this run only), with ``random_state=seed``.

    ``shuffle``: relabel the participants and shuffle the vote rows with this seed first, as another arrival order
    of the same votes would present them (the ARI is computed back on the original ids).
    """
    pids, sids, values = export.latest().as_arrays()
    polis = dict(export.polis_groups)
    if shuffle is not None:
        rng = np.random.default_rng(shuffle)
        ids = np.unique(pids)
        relabel = dict(zip(ids.tolist(), rng.permutation(len(ids)).tolist(), strict=True))
        order = rng.permutation(len(pids))
        pids = np.array([relabel[p] for p in pids[order].tolist()])
        sids, values = sids[order], values[order]
        polis = {relabel[p]: g for p, g in polis.items() if p in relabel}
    original = groups_math.robust_groups
    if z is not None:
        groups_math.robust_groups = functools.partial(original, z=z)
    try:
        result = run_analysis(
            (pids, sids, values), mod_out=export.mod_out, meta=export.meta, clustering_mode=mode, random_state=seed
        )
    finally:
        groups_math.robust_groups = original
    return ari(result, polis)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=ATTRIBUTION)
    parser.add_argument("--z", default="0,0.5,1,1.5,2", help="candidate values of Z (default 0,0.5,1,1.5,2)")
    parser.add_argument(
        "--seeds", type=int, default=4, help="random states of the robust mode, arrival orders of polis* (default 4)"
    )
    parser.add_argument("--data", type=Path, default=POLIS, help=f"folder of Pol.is exports (default {POLIS})")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"shared Pol.is exports not available at {args.data}: nothing to measure")
        return 0
    # "polis*": Pol.is's arrival-order clustering on other arrival orders of the same votes (mean over shuffles)
    rules = [("robust", float(z)) for z in args.z.split(",")] + [("polis", None), ("polis*", None)]
    default = ("robust", groups_math.Z)
    if default not in rules:
        rules.append(default)
    names = sorted(p.name for p in args.data.iterdir() if p.is_dir())
    table = np.zeros((len(names), len(rules)))
    shipped = np.zeros(len(names))  # the default rule with the default random_state, as the product runs it
    for i, name in enumerate(names):
        export = read_polis_export(args.data / name)
        started = time.perf_counter()
        table[i] = [
            np.mean([score(export, "polis", None, shuffle=seed) for seed in range(args.seeds)])
            if mode == "polis*"
            else score(export, mode, z)
            if mode == "polis"
            else np.mean([score(export, mode, z, seed=seed) for seed in range(args.seeds)])
            for mode, z in rules
        ]
        shipped[i] = score(export, *default)
        print(f"{name:<42}" + " ".join(f"{v:6.3f}" for v in table[i]) + f"   ({time.perf_counter() - started:.0f} s)")
    print(f"{'rule':<42}" + " ".join(f"{m[:3]:<3}{'' if z is None else f'{z:g}':>3}" for m, z in rules))
    print(f"{'mean':<42}" + " ".join(f"{v:6.3f}" for v in table.mean(0)))

    print("\nleave one out: the rule the other conversations pick, and its ARI on the one left out")
    held_out, picked_default = [], 0
    for i, name in enumerate(names):
        others = np.delete(table, i, axis=0).mean(0)
        pick = int(np.argmax(others))  # ties: the first candidate, the smallest Z
        held_out.append(table[i, pick])
        picked_default += rules[pick] == default
        mode, z = rules[pick]
        print(f"  {name:<40} picks {mode}{'' if z is None else f' Z={z:g}'}: {table[i, pick]:.3f}")
    d = rules.index(default)
    print("shipped rule at random_state=0: " + " ".join(f"{v:.3f}" for v in shipped) + f", mean {shipped.mean():.3f}")
    print(
        f"RESULT loo_mean_ari={np.mean(held_out):.3f} default_mean_ari={table[:, d].mean():.3f} "
        f"picked_default={picked_default}/{len(names)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
