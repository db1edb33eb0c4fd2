"""Do the weighted agree shares find the population's answer from a biased sample, with honest intervals?

Usage::

    .venv/bin/python bench/weighting.py [--samples 1000] [--n 600] [--seed 0]

A simulated population answers three questions (age band 5 categories, region 4, sex 2; their joint distribution
drawn once, so the questions are associated) and holds opinions on four statements that depend on all three
(a logistic model with main effects and an age-by-sex interaction), so the population's agree share on each
statement is known exactly. Each sample of ``--n`` participants is drawn with a bias: the chance of taking part
is a product of a factor per question (the young, one region and women over-represented, up to 4 to 1), as
self-selection is usually modelled, and the assumption under which raking removes the bias. Each participant
prefers not to say each answer with chance 5% (at random), and votes on each statement with chance 70%.

For each of ``--samples`` samples: raking weights to the population's margins (``analysis.weighting.rake``, the
default trimming), then each statement's weighted agree share and 95% interval (``weighted_agree``), beside the
unweighted share. It prints the truth, the mean of each estimate and the coverage per statement, then the time to
weight 100,000 participants (CPU seconds: rake and the four weighted shares), and ends with::

    RESULT coverage=<share of 95% intervals that hold the truth> bias_unweighted=<x> bias_weighted=<x> seconds=<x>

where the biases are the mean over statements of |mean estimate - truth| (in shares, 0-1).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.weighting import MISSING, rake, weighted_agree

SIZES = (5, 4, 2)  # age band, region, sex
STATEMENTS = 4
PREFER_NOT_TO_SAY = 0.05
VOTE_RATE = 0.7


def population(rng):
    """The joint distribution over the 40 cells, each cell's agree probability per statement, and the truth."""
    joint = rng.dirichlet(np.full(np.prod(SIZES), 3.0)).reshape(SIZES)
    age, region, sex = np.meshgrid(*(np.arange(k) for k in SIZES), indexing="ij")
    logits = []
    for _ in range(STATEMENTS):
        a = rng.normal(0, 0.4) + rng.normal(0.5, 0.2) * (age - 2) + rng.normal(0, 0.3, SIZES[1])[region]
        logits.append(a + rng.normal(0, 0.5) * sex + rng.normal(0, 0.15) * (age - 2) * sex)
    agree = 1 / (1 + np.exp(-np.stack(logits, axis=-1)))  # (5, 4, 2, S)
    truth = np.einsum("ijk,ijks->s", joint, agree)
    margins = [joint.sum(axis=tuple(a for a in range(3) if a != q)) for q in range(3)]
    return joint, agree, truth, margins


def selection():
    """The chance of taking part, a product of a factor per question: young, region 0 and women more likely."""
    age = np.array([4.0, 2.5, 1.5, 1.0, 1.0])
    region = np.array([2.0, 1.0, 1.0, 0.8])
    sex = np.array([1.0, 1.6])
    return age[:, None, None] * region[None, :, None] * sex[None, None, :]


def draw(rng, n, joint, agree):
    """One biased sample: answers (n, 3) with MISSING for "prefer not to say", and the votes as triples."""
    biased = (joint * selection()).ravel()
    cells = rng.choice(biased.size, size=n, p=biased / biased.sum())
    answers = np.column_stack(np.unravel_index(cells, SIZES)).astype(np.int64)
    answers[rng.random(answers.shape) < PREFER_NOT_TO_SAY] = MISSING
    p = agree.reshape(-1, STATEMENTS)[cells]
    voted = rng.random((n, STATEMENTS)) < VOTE_RATE
    rows, cols = np.nonzero(voted)
    values = np.where(rng.random(len(rows)) < p[rows, cols], 1, -1)
    return answers, rows, cols, values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    joint, agree, truth, margins = population(rng)
    est_w, est_u, covered, n_eff = [], [], [], []
    for _ in range(args.samples):
        answers, rows, cols, values = draw(rng, args.n, joint, agree)
        weights = rake(answers, margins)
        out = weighted_agree(weights, rows, cols, values, STATEMENTS)
        est_w.append(out.share)
        est_u.append(out.unweighted)
        covered.append((out.low <= truth) & (truth <= out.high))
        n_eff.append(weights.effective_n)
    est_w, est_u, covered = np.array(est_w), np.array(est_u), np.array(covered)
    print(f"{args.samples} samples of {args.n}; mean effective sample size {np.mean(n_eff):.0f}")
    print("statement  truth  unweighted  weighted  coverage")
    for s in range(STATEMENTS):
        print(
            f"{s:9d}  {truth[s]:.3f}  {est_u[:, s].mean():10.3f}  {est_w[:, s].mean():8.3f}  {covered[:, s].mean():.3f}"
        )
    bias_u = float(np.mean(np.abs(est_u.mean(axis=0) - truth)))
    bias_w = float(np.mean(np.abs(est_w.mean(axis=0) - truth)))
    coverage = float(covered.mean())

    answers, rows, cols, values = draw(rng, 100_000, joint, agree)
    start = time.process_time()
    weighted_agree(rake(answers, margins), rows, cols, values, STATEMENTS)
    seconds = time.process_time() - start
    print(f"weighting 100,000 participants: {seconds:.2f} CPU seconds")
    print(
        f"RESULT coverage={coverage:.3f} bias_unweighted={bias_u:.4f} bias_weighted={bias_w:.4f} seconds={seconds:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
