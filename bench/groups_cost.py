"""What the order-free groups' sampling buys: CPU against stability, agreement with today's groups and with Pol.is.

Usage::

    .venv/bin/python bench/groups_cost.py [--configs NAME,...] [--seeds 4] [--data DIR]

For every real conversation in ``../shared/data/polis`` (skipped with a message when absent) it takes the
in-conversation projections the analysis clusters and runs :func:`analysis.groups.robust_groups` at random states
``0 .. seeds-1`` under each sampling configuration (today's constants, or fewer base clusterings, group starts or
bootstrap refits). Per conversation and configuration it prints the CPU seconds of one call (mean over the seeds,
BLAS single-threaded), the k of each seed, the adjusted Rand index with the groups recorded before issue 26's
speed work at the same random state (``tests/analysis/data/groups_reference.npz``: "vs today"), the lowest and mean
ARI between the seeds' partitions ("seed-stable": what the sampling is for), and the mean ARI with Pol.is's own
groups. Each configuration ends with::

    RESULT config=<name> groups_cpu_s=<total> vs_today_min=<x> seed_ari_mean=<x> seed_ari_min=<x> polis_ari=<x>

With ``--early-stops`` it first prints, per conversation and seed, the ARI with today's full answer of the answer
from only the first 8, 16 and 24 of the same base clusterings: what stopping early would have returned.

Data: compdemocracy/openData, CC BY 4.0 (the attribution: ``bench_setup.ATTRIBUTION``, shown by ``--help``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from bench_setup import ATTRIBUTION, POLIS, ROOT  # first: it puts the project on sys.path
from threadpoolctl import threadpool_limits

from analysis import groups as groups_math
from analysis import run_analysis
from analysis.groups import partition_ari
from analysis.polis_io import read_polis_export

REFERENCE = ROOT / "tests" / "analysis" / "data" / "groups_reference.npz"
#: name → module constants to set (the rest as shipped); n_boot is passed to robust_groups
CONFIGS = {
    "today": {},
    "budget/2": {"SEED_BUDGET": groups_math.SEED_BUDGET // 2, "MAX_BASE_SEEDS": groups_math.MAX_BASE_SEEDS // 2},
    "bases=8": {"N_BASE_SEEDS": 8, "MAX_BASE_SEEDS": 8},
    "bases=4": {"N_BASE_SEEDS": 4, "MAX_BASE_SEEDS": 4},
    "starts/4": {"TOTAL_STARTS": groups_math.TOTAL_STARTS // 4, "MIN_STARTS": groups_math.MIN_STARTS // 4},
    "boot=8": {"N_BOOT": 8},
    "bases=4+starts/4+boot=8": {
        "N_BASE_SEEDS": 4,
        "MAX_BASE_SEEDS": 4,
        "TOTAL_STARTS": groups_math.TOTAL_STARTS // 4,
        "MIN_STARTS": groups_math.MIN_STARTS // 4,
        "N_BOOT": 8,
    },
}


def conversation_points(folder: Path):
    """In-conversation projections (rows by participant id) as the analysis clusters them, ids, Pol.is's groups."""
    export = read_polis_export(folder)
    result = run_analysis(
        export.latest().as_arrays(), mod_out=export.mod_out, meta=export.meta, clustering_mode="polis"
    )
    rows = np.searchsorted(result.participant_ids, result.in_conv)
    return result.participant_projection[rows], result.in_conv, dict(export.polis_groups)


def polis_ari(ids: np.ndarray, labels: np.ndarray, polis: dict[int, int]) -> float:
    """ARI with Pol.is's groups over the participants both clustered."""
    both = np.array([p in polis for p in ids.tolist()], dtype=bool)
    return partition_ari(labels[both], np.array([polis[p] for p in ids[both].tolist()]))


def run_config(name: str, settings: dict, data: dict, reference, seeds: int) -> None:
    """Run one configuration on every conversation; print its rows and RESULT line."""
    saved = {key: getattr(groups_math, key) for key in settings}
    n_boot = settings.get("N_BOOT", groups_math.N_BOOT)
    for key, value in settings.items():
        setattr(groups_math, key, value)
    try:
        total, today, stable, pol, lowest = 0.0, [], [], [], []
        for conv, (points, ids, polis) in data.items():
            found, start = [], time.process_time()
            with threadpool_limits(1):
                for seed in range(seeds):
                    found.append(groups_math.robust_groups(points, random_state=seed, n_boot=n_boot))
            cpu = (time.process_time() - start) / seeds
            total += cpu
            vs_today = [
                partition_ari(f.labels, reference[f"labels/{conv}/{s}"])
                for s, f in enumerate(found)
                if f"labels/{conv}/{s}" in reference and np.array_equal(reference[f"ids/{conv}/{s}"], ids)
            ]
            pairs = [partition_ari(a.labels, b.labels) for a, b in itertools.combinations(found, 2)] or [1.0]
            vs_polis = float(np.mean([polis_ari(ids, f.labels, polis) for f in found]))
            today += vs_today
            stable.append(float(np.mean(pairs)))
            lowest.append(min(pairs))
            pol.append(vs_polis)
            print(
                f"{name:<24}{conv[:38]:<40}cpu {cpu:6.3f} s  k {[f.k for f in found]}  vs today "
                f"{' '.join(f'{x:.3f}' for x in vs_today) or 'na'}  seed-stable {min(pairs):.3f}/{np.mean(pairs):.3f}"
                f"  Pol.is {vs_polis:.3f}",
                flush=True,
            )
        print(
            f"RESULT config={name} groups_cpu_s={total:.3f} vs_today_min={min(today, default=float('nan')):.3f} "
            f"seed_ari_mean={np.mean(stable):.3f} seed_ari_min={min(lowest):.3f} polis_ari={np.mean(pol):.3f}",
            flush=True,
        )
    finally:
        for key, value in saved.items():
            setattr(groups_math, key, value)


def early_stops(data: dict, seeds: int) -> None:
    """What an early stop after the first 8, 16 or 24 base clusterings returns, against the full answer.

    ``robust_groups(n_base_seeds=m)`` with the same group starts per base clustering draws exactly the first m base
    clusterings of the full run (the seed sequence's children do not depend on how many are spawned).
    """
    for conv, (points, _, _) in data.items():
        n = len(points)
        full_bases = min(
            groups_math.MAX_BASE_SEEDS,
            max(groups_math.N_BASE_SEEDS, groups_math.SEED_BUDGET // min(n, groups_math.MAX_POINTS)),
        )
        starts = max(groups_math.MIN_STARTS, groups_math.TOTAL_STARTS // full_bases)
        rows = []
        for seed in range(seeds):
            with threadpool_limits(1):
                full = groups_math.robust_groups(points, random_state=seed)
                found = []
                for m in (8, 16, 24):
                    if m >= full_bases:
                        break
                    saved = groups_math.TOTAL_STARTS
                    groups_math.TOTAL_STARTS = starts * m
                    try:
                        part = groups_math.robust_groups(points, random_state=seed, n_base_seeds=m)
                    finally:
                        groups_math.TOTAL_STARTS = saved
                    found.append(f"{m}: {partition_ari(part.labels, full.labels):.3f} (k {part.k})")
            rows.append(", ".join(found))
        print(f"{'early stop':<24}{conv[:38]:<40}of {full_bases}, by seed: " + " | ".join(rows), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=ATTRIBUTION)
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma list of {', '.join(CONFIGS)}")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--data", type=Path, default=POLIS)
    parser.add_argument("--early-stops", action="store_true", help="also print what early stops would return")
    args = parser.parse_args(argv)
    names = sorted(p.name for p in args.data.iterdir() if p.is_dir()) if args.data.is_dir() else []
    if not names:
        print(f"skip: shared Pol.is data not found at {args.data} (not shipped with the project)")
        return 0
    reference = dict(np.load(REFERENCE)) if REFERENCE.exists() else {}
    data = {name: conversation_points(args.data / name) for name in names}
    if args.early_stops:
        early_stops(data, args.seeds)
    for name in [c.strip() for c in args.configs.split(",") if c.strip()]:
        if name not in CONFIGS:
            parser.error(f"unknown config {name!r} (choose from {', '.join(CONFIGS)})")
        run_config(name, CONFIGS[name], data, reference, args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
