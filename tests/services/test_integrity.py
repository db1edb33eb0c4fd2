"""The integrity annex: straight-liners, bursts from one hashed address, near-identical clusters, and the headline
results with and without them (computed by the analysis runner, shown on the monitor page and the public report)."""

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from participate.extensions import db
from participate.models import AnalysisIntegrity, Participant, Statement
from participate.services import integrity, report, voting
from participate.services.participants import IP_HASH


def test_straight_liners_need_enough_identical_votes():
    pids = np.array([1] * 10 + [2] * 10 + [3] * 9 + [4] * 12)
    values = np.array([1] * 10 + [1] * 9 + [-1] + [0] * 9 + [-1] * 12, dtype=np.int8)
    assert integrity.straight_liners(pids, values) == [1, 4]  # 2 varied once; 3 has too few votes


def test_near_identical_clusters_and_honest_variety(monkeypatch):
    rng = np.random.default_rng(0)
    rows = []
    copy = rng.choice([-1, 0, 1], size=20)
    for pid in range(1, 5):  # four copies of one ballot, one of them differing on a single statement
        ballot = copy.copy()
        if pid == 4:
            ballot[0] = -ballot[0] if ballot[0] else 1
        rows += [(pid, s, v) for s, v in enumerate(ballot)]
    for pid in range(10, 30):  # independent voters
        rows += [(pid, s, v) for s, v in enumerate(rng.choice([-1, 0, 1], size=20))]
    p, s, v = (np.array(col) for col in zip(*rows, strict=True))
    assert integrity.near_identical(p, s, v.astype(np.int8)) == [[1, 2, 3, 4]]
    monkeypatch.setattr(integrity, "PAIRWISE_LIMIT", 5)  # large consultations: exact duplicates only, linear time
    assert integrity.near_identical(p, s, v.astype(np.int8)) == [[1, 2, 3]]


def test_bursts_from_one_hashed_address():
    start = datetime(2026, 11, 23, 12, tzinfo=UTC)
    joined = [(i, "same", start + timedelta(seconds=20 * i)) for i in range(12)]  # 12 in 4 minutes
    joined += [(100 + i, f"h{i}", start) for i in range(30)]  # many addresses, one each
    joined += [(200 + i, "slow", start + timedelta(hours=i)) for i in range(12)]  # one an hour
    found = integrity.bursts(joined)
    assert [b["participants"] for b in found] == [list(range(12))]
    assert "same" not in str(found)


def _brigaded(app, make_consultation):
    """Thirty varied voters, then a burst of twelve straight-liners from one address."""
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(12)])
    sids = db.session.scalars(select(Statement.id).where(Statement.consultation_id == consultation.id)).all()
    rng = np.random.default_rng(1)
    for person in range(30):
        db.session.info[IP_HASH] = f"honest-{person}"
        for sid in sids:
            voting.cast(db.session, consultation, f"honest-{person}", sid, voting.VoteValue(int(rng.choice([-1, 1]))))
    db.session.info[IP_HASH] = "brigade"
    for bot in range(12):
        for sid in sids:
            voting.cast(db.session, consultation, f"bot-{bot}", sid, voting.VoteValue.DISAGREE)
    db.session.info.pop(IP_HASH)
    report.analyse(db.session, consultation.id)
    return consultation


def test_the_runner_stores_the_annex_with_results_with_and_without(app, make_consultation):
    consultation = _brigaded(app, make_consultation)
    annex = integrity.latest(db.session, consultation)
    bots = set(db.session.scalars(select(Participant.id).where(Participant.ip_hash == "brigade")).all())
    assert set(annex["straight_liners"]) == bots
    assert [b["size"] for b in annex["bursts"]] == [12]
    assert any(set(c) <= bots and len(c) >= 3 for c in annex["near_identical"])
    assert set(annex["flagged"]) == bots
    assert annex["with_flagged"]["participants"] == 42 and annex["without_flagged"]["participants"] == 30
    assert "brigade" not in str(annex)
    assert db.session.scalar(select(AnalysisIntegrity)).snapshot_id is not None


def test_monitor_and_public_report_show_the_annex(app, client, make_consultation, login):
    _brigaded(app, make_consultation)
    report_page = client.get("/c/test/report").text
    assert "Integrity check" in report_page and "Without flagged" in report_page
    login(client, "admin")
    monitor = client.get("/facilitate/test/monitor").text
    assert "Integrity check" in monitor and "12 participants voted the same way" in monitor
    published = client.post_form("/c/test/report/publish", {})
    frozen = client.get(published.headers["Location"]).text
    assert "Integrity check" in frozen and "12 participants voted the same way" in frozen
