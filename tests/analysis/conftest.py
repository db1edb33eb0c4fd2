"""Shared helpers for the analysis tests: locating the shared data and reading Pol.is math fixtures."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: ``<project root>/../shared/data``, or ``$PARTICIPATE_SHARED_DATA`` (e.g. from a git worktree elsewhere); absent in
#: a user's clone, where tests that need it skip.
SHARED_DATA = Path(
    os.environ.get("PARTICIPATE_SHARED_DATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
)
MATH_FIXTURES = ("below-100-ptpts", "25ptpt-3gp-no-strict-with-meta", "150ptpt-3gp-no-strict-no-meta")


@dataclass(frozen=True)
class MathFixture:
    """A Pol.is conversation with Pol.is's own ``math/pca2`` output."""

    name: str
    votes: np.ndarray  # (n, 3) participant, statement, vote (agree = +1), chronological
    timestamps: np.ndarray  # (n,) epoch ms, aligned with votes
    mod_out: tuple[int, ...]
    meta: tuple[int, ...]
    math: dict


def _read_math_fixture(path: Path) -> MathFixture:
    """Read a ``polis-math/<name>/`` folder with :func:`analysis.polis_io.read_math_fixture`, plus the raw math."""
    from analysis.polis_io import read_math_fixture

    export = read_math_fixture(path)
    v = export.votes  # time-ordered history
    votes = np.column_stack([v.participant_ids, v.statement_ids, v.values]).astype(np.int64)
    math = json.loads((path / "math-pca2.json").read_text())
    return MathFixture(
        name=path.name,
        votes=votes,
        timestamps=np.asarray(v.timestamps, dtype=np.float64) * 1000.0,
        mod_out=tuple(sorted(export.mod_out)),
        meta=tuple(sorted(export.meta)),
        math=math,
    )


def load_math_fixture(name: str) -> MathFixture:
    """Load a math fixture by folder name, or skip the test when the shared data is absent."""
    path = SHARED_DATA / "polis-math" / name
    if not path.is_dir():
        pytest.skip(f"shared Pol.is math fixtures not available at {path.resolve()} (not shipped with the project)")
    return _read_math_fixture(path)


@pytest.fixture(params=MATH_FIXTURES)
def math_fixture(request) -> MathFixture:
    """Each Pol.is math fixture in turn."""
    return load_math_fixture(request.param)


@pytest.fixture(scope="session")
def load_fixture():
    """The :func:`load_math_fixture` function, for tests that want one fixture by name."""
    return load_math_fixture
