"""How well do the common-ground rankings keep their order when votes go missing? And does the headline list pass JR?

Usage::

    .venv/bin/python bench/bridging.py [--repeats N] [--fractions 0.3,0.5,0.7]

For every real conversation in ``../shared/data/polis`` (skipped with a message when absent): the analysis on the
current votes, then, for each fraction f (default 30%, 50%, 70%) and each of ``--repeats`` seeds, the analysis
again after removing a fraction f of the votes at random (seeded). For each ranking of the accepted statements:

- the **bridging score** (``AnalysisResult.bridging``: Community Notes' intercept, no groups needed), and
- Pol.is's **group-aware consensus** (``group_aware_consensus``: product over the opinion groups of each group's
  smoothed agree rate, on the groups found in that run),

it prints the Spearman correlation of the reduced run's ranking with the full-data ranking, over the statements
scored in both, and whether the reduced run's headline list passes justified representation. Ends with::

    RESULT bridging_spearman=<mean at the largest fraction> consensus_spearman=<same> jr_pass=<n>/<m>

where ``jr_pass`` counts every run (full and reduced) whose headline list passes JR.

Data: compdemocracy/openData, CC BY 4.0 (the attribution: ``bench_setup.ATTRIBUTION``, shown by ``--help``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from bench_setup import ATTRIBUTION, POLIS  # first: it puts the project on sys.path
from scipy.stats import spearmanr


def _rho(full: dict[int, float], part: dict[int, float]) -> float:
    common = sorted(set(full) & set(part))
    if len(common) < 3:
        return float("nan")
    return float(spearmanr([full[s] for s in common], [part[s] for s in common])[0])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    from analysis import run_analysis
    from analysis.polis_io import read_polis_export

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=ATTRIBUTION)
    parser.add_argument("--repeats", type=int, default=2, help="seeds per fraction (default 2)")
    parser.add_argument("--fractions", default="0.3,0.5,0.7", help="fractions of votes removed (default 0.3,0.5,0.7)")
    parser.add_argument("--data", type=Path, default=POLIS, help=f"folder of Pol.is exports (default {POLIS})")
    args = parser.parse_args(argv)
    fractions = [float(f) for f in args.fractions.split(",")]
    if args.repeats < 1 or not all(0 < f < 1 for f in fractions):
        parser.error("--repeats must be >= 1 and every fraction in (0, 1)")
    if not args.data.is_dir():
        print(f"skip: shared Pol.is data not found at {args.data} (not shipped with the project)")
        return 0
    names = sorted(p.name for p in args.data.iterdir() if p.is_dir())
    by_fraction: dict[float, dict[str, list[float]]] = {f: {"bridging": [], "consensus": []} for f in fractions}
    jr_pass = jr_runs = 0
    print(f"{'conversation':<40}{'removed':>8}{'seed':>5} │{'bridging rho':>13}{'consensus rho':>14}{'k':>3}{'JR':>5}")
    for name in names:
        export = read_polis_export(args.data / name)
        p, s, v = (np.asarray(a) for a in export.latest().as_arrays())
        started = time.perf_counter()
        full = run_analysis((p, s, v), mod_out=export.mod_out, meta=export.meta)
        jr_runs += 1
        jr_pass += full.headline_jr
        verdict = "pass" if full.headline_jr else "FAIL"
        print(f"{name:<40}{'0%':>8}{'-':>5} │{1.0:>13.3f}{1.0:>14.3f}{full.k:>3}{verdict:>5}")
        accepted = set(full.bridging)
        gac_full = {sid: x for sid, x in full.group_aware_consensus.items() if sid in accepted}
        for f in fractions:
            for seed in range(args.repeats):
                keep = np.random.default_rng([seed, int(f * 1000)]).random(len(v)) >= f
                part = run_analysis((p[keep], s[keep], v[keep]), mod_out=export.mod_out, meta=export.meta)
                rb = _rho(full.bridging, part.bridging)
                rc = _rho(gac_full, {sid: x for sid, x in part.group_aware_consensus.items() if sid in accepted})
                by_fraction[f]["bridging"].append(rb)
                by_fraction[f]["consensus"].append(rc)
                jr_runs += 1
                jr_pass += part.headline_jr
                print(
                    f"{name:<40}{f:>8.0%}{seed:>5} │{rb:>13.3f}{rc:>14.3f}{part.k:>3}"
                    f"{'pass' if part.headline_jr else 'FAIL':>5}",
                    flush=True,
                )
        print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    print()
    for f in fractions:
        b, c = (np.nanmean(by_fraction[f][key]) for key in ("bridging", "consensus"))
        print(f"mean Spearman at {f:.0%} removed: bridging {b:.3f}, group-aware consensus {c:.3f}")
    last = fractions[-1]
    b, c = (np.nanmean(by_fraction[last][key]) for key in ("bridging", "consensus"))
    print(f"RESULT bridging_spearman={b:.3f} consensus_spearman={c:.3f} jr_pass={jr_pass}/{jr_runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
