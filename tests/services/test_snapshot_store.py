"""Only the snapshot store reads a snapshot's stored JSON; every other module goes through it or the typed view."""

import re
from pathlib import Path

import numpy as np

from analysis import run_analysis
from participate.extensions import db
from participate.services import report, results, simulate
from participate.services.snapshots import store, view_of

PACKAGE = Path(__file__).resolve().parents[2] / "participate"
ALLOWED = ("services/snapshots/", "models.py")
#: Reading the stored document: `snapshot.result`, `AnalysisSnapshot.result`, or indexing any `.result`.
READS = re.compile(r"\bsnapshot\.result\b|AnalysisSnapshot\.result\b|\.result\[|\.result\.get\(")


def readers_of_the_json(root: Path) -> list[str]:
    """``file:line`` of every read of a snapshot's JSON outside the store."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if READS.search(line):
                found.append(f"{relative}:{number}")
    return found


def test_the_search_finds_a_reader(tmp_path):
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "x.py").write_text("a = 1\nk = snapshot.result['k']\n")
    (tmp_path / "models.py").write_text("result = AnalysisSnapshot.result\n")
    assert readers_of_the_json(tmp_path) == ["views/x.py:2"]


def test_only_the_store_reads_a_snapshots_json():
    assert readers_of_the_json(PACKAGE) == []


def test_the_store_gives_the_stored_analysis_back(app, make_consultation):
    consultation = make_consultation()
    simulate.simulate_votes(db.session, consultation, 40, groups=2, seed=3)
    snapshot = report.analyse(db.session, consultation.id)
    votes = results.votes_until(db.session, consultation.id, snapshot.last_vote_id)
    fresh = run_analysis((votes.participant_ids, votes.statement_ids, votes.values), random_state=0)
    stored = store.analysis_of(snapshot)
    assert stored.k == fresh.k and np.array_equal(stored.in_conv, fresh.in_conv)
    members = store.member_groups(snapshot)
    view = view_of(snapshot)
    assert view.participants == len(fresh.participant_ids) and view.k == stored.k
    for group in view.groups:
        for pid in group.members[:3]:
            assert members[pid] == group.id == store.group_of(db.session, snapshot.id, pid)
