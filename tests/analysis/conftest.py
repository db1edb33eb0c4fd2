"""Shared helpers for the analysis tests: locating the shared data and reading Pol.is math fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: ``<project root>/../shared/data`` (absent in a user's clone; tests that need it skip).
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MATH_FIXTURES = ("below-100-ptpts", "25ptpt-3gp-no-strict-with-meta", "150ptpt-3gp-no-strict-no-meta")


@dataclass(frozen=True)
class MathFixture:
    """A Pol.is conversation with Pol.is's own ``math/pca2`` output."""

    name: str
    votes: np.ndarray  # (n, 3) participant, statement, vote (agree = +1), chronological
    timestamps: np.ndarray  # (n,) ms, aligned with votes
    mod_out: tuple[int, ...]
    meta: tuple[int, ...]
    math: dict


def _read_math_fixture(path: Path) -> MathFixture:
    """Minimal reader of a ``polis-math/<name>/`` folder (votes.json, comments.json, math-pca2.json)."""
    raw = json.loads((path / "votes.json").read_text())
    comments = json.loads((path / "comments.json").read_text())
    math = json.loads((path / "math-pca2.json").read_text())
    rows = sorted(
        raw,
        key=lambda r: float(r["modified"]),
    )
    votes = np.array(
        [(r.get("participant_id", r.get("pid")), r.get("statement_id", r.get("tid")), r["vote"]) for r in rows],
        dtype=np.int64,
    )
    timestamps = np.array([float(r["modified"]) for r in rows])
    meta = tuple(sorted(int(c.get("statement_id", c.get("tid"))) for c in comments if c.get("is_meta")))
    mod = {int(c.get("statement_id", c.get("tid"))): int(c.get("moderated", c.get("mod", 0))) for c in comments}
    mod_out = tuple(sorted(t for t, m in mod.items() if m == -1))
    return MathFixture(name=path.name, votes=votes, timestamps=timestamps, mod_out=mod_out, meta=meta, math=math)


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
