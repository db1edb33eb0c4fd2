"""The order-free groups give the partitions and k they gave before they were made faster.

``data/groups_reference.npz`` holds the groups computed by ``analysis.groups`` as of commit 771a558 (before the
speed work of issue 26), at random states 0-3:

* on every real conversation in ``../shared/data/polis`` (through ``run_analysis``; skipped when the shared data is
  absent): participant ids and their group;
* on synthetic 2-D point sets with 1-4 blobs, stored with the file (through ``robust_groups``), one of them above
  ``MAX_POINTS`` so that the sampled path is covered.

A faster implementation must give the same k and a partition within adjusted Rand index ``MIN_ARI`` of the stored
one. The bar is strict on purpose: two random states differ by 0.93-0.96 on bowling-green and vtaiwan, so anything
that changes what is sampled, rather than how fast it is computed, fails it.

``python tests/analysis/test_groups_reference.py --record`` rewrites the file with the code as it is now (run it
only to record the behaviour of a deliberately different algorithm, and say so).

Data: compdemocracy/openData, CC BY 4.0. "Data was gathered using the Polis software (compdemocracy.org/polis)
and is sub-licensed under CC BY 4.0 with Attribution to The Computational Democracy Project."
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

from analysis import run_analysis  # noqa: E402
from analysis.groups import partition_ari, robust_groups  # noqa: E402
from analysis.polis_io import read_polis_export  # noqa: E402

REFERENCE = Path(__file__).resolve().parent / "data" / "groups_reference.npz"
POLIS = Path(os.environ.get("PARTICIPATE_SHARED_DATA") or ROOT.parent / "shared" / "data") / "polis"
SEEDS = (0, 1, 2, 3)
MIN_ARI = 0.99
#: synthetic point sets: name → (blob sizes, blob spread); blob centres on a circle of radius 1
BLOBS = {
    "one-blob-80": ((80,), 0.5),
    "three-blobs-300": ((150, 100, 50), 0.35),
    "four-blobs-6000": ((2500, 1800, 1000, 700), 0.4),
}


def _blobs(sizes, spread, seed):
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(len(sizes)) / max(len(sizes), 1)
    centres = np.column_stack([np.cos(angles), np.sin(angles)]) * (len(sizes) > 1)
    return np.concatenate([c + spread * rng.standard_normal((n, 2)) for c, n in zip(centres, sizes, strict=True)])


def _conversation_groups(name: str, seed: int):
    export = read_polis_export(POLIS / name)
    result = run_analysis(export.latest().as_arrays(), mod_out=export.mod_out, meta=export.meta, random_state=seed)
    groups = result.participant_groups()
    keep = groups >= 0
    return result.k, result.participant_ids[keep], groups[keep]


def _record() -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, (name, (sizes, spread)) in enumerate(BLOBS.items()):
        points = _blobs(sizes, spread, seed=100 + i)
        arrays[f"points/{name}"] = points
        for seed in SEEDS:
            found = robust_groups(points, random_state=seed)
            arrays[f"k/{name}/{seed}"] = np.array(0 if found is None else found.k)
            arrays[f"labels/{name}/{seed}"] = np.zeros(0, np.int64) if found is None else found.labels
    for name in sorted(p.name for p in POLIS.iterdir() if p.is_dir()):
        for seed in SEEDS:
            k, ids, groups = _conversation_groups(name, seed)
            arrays[f"k/{name}/{seed}"] = np.array(k)
            arrays[f"ids/{name}/{seed}"] = ids
            arrays[f"labels/{name}/{seed}"] = groups
    np.savez_compressed(REFERENCE, **arrays)


def _reference():
    with np.load(REFERENCE) as data:
        return {key: data[key] for key in data.files}


REF = _reference() if REFERENCE.exists() else {}
CONVERSATIONS = sorted({key.split("/")[1] for key in REF if key.startswith("ids/")})


@pytest.mark.parametrize("name", list(BLOBS))
def test_synthetic_points_keep_their_groups(name):
    points = REF[f"points/{name}"]
    for seed in SEEDS:
        found = robust_groups(points, random_state=seed)
        k = int(REF[f"k/{name}/{seed}"])
        assert (0 if found is None else found.k) == k, (name, seed)
        if found is not None:
            assert partition_ari(found.labels, REF[f"labels/{name}/{seed}"]) >= MIN_ARI, (name, seed)


@pytest.mark.slow
@pytest.mark.parametrize("name", CONVERSATIONS)
def test_real_conversations_keep_their_groups(name):
    if not (POLIS / name).is_dir():
        pytest.skip(f"shared Pol.is data not found at {POLIS / name} (not shipped with the project)")
    for seed in SEEDS:
        k, ids, groups = _conversation_groups(name, seed)
        assert k == int(REF[f"k/{name}/{seed}"]), (name, seed)
        np.testing.assert_array_equal(ids, REF[f"ids/{name}/{seed}"])
        assert partition_ari(groups, REF[f"labels/{name}/{seed}"]) >= MIN_ARI, (name, seed)


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        raise SystemExit(__doc__)
    _record()
