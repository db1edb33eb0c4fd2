"""The integrity annex: participants flagged on behaviour (straight-lining, near-identical ballots, voting faster than
reading), never on a shared network alone, and the headline results with and without them (computed by the analysis
runner, shown on the monitor page and the public report)."""

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from participate.extensions import db
from participate.models import AnalysisIntegrity, Participant, Statement
from participate.services import report, simulate
from participate.services.participation import identity
from participate.services.participation.identity import IP_HASH
from participate.services.snapshots import integrity, runner
from tests import factories

START = datetime(2026, 11, 23, 18, tzinfo=UTC)


def _statements(make_consultation, n=12):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(n)])
    sids = db.session.scalars(select(Statement.id).where(Statement.consultation_id == consultation.id)).all()
    return consultation, sids


def _votes(consultation, token, ballot, *, network, start, seconds):
    """``token`` votes ``ballot`` ({statement id: value}) from ``network``, ``seconds`` apart from ``start``.

    Through the one writer of votes in one transaction (the act commits every vote), at the moments given.
    """
    db.session.info[IP_HASH] = network
    participant = identity.find_or_add(db.session, consultation, token)
    for i, (sid, value) in enumerate(ballot.items()):
        at = start + timedelta(seconds=seconds * i)
        factories.record(db.session, consultation, participant, db.session.get(Statement, sid), int(value), at=at)
    db.session.commit()
    db.session.info.pop(IP_HASH)


def _town_hall(make_consultation, rng, *, people=27):
    """``people`` at one meeting on one Wi-Fi, each voting their own mind at reading pace."""
    consultation, sids = _statements(make_consultation)
    for person in range(people):
        ballot = dict(zip(sids, rng.choice([-1, 0, 1], size=len(sids)), strict=True))
        _votes(consultation, f"person-{person}", ballot, network="town-hall", start=START, seconds=rng.uniform(3, 9))
    return consultation, sids


def _ids(network):
    return set(db.session.scalars(select(Participant.id).where(Participant.ip_hash == network)).all())


def test_a_town_hall_on_one_network_flags_nobody(app, client, make_consultation):
    consultation, _ = _town_hall(make_consultation, np.random.default_rng(3))
    runner.analyse(db.session, consultation.id)
    annex = integrity.latest(db.session, consultation)
    assert annex["flagged"] == []
    assert annex["flagged_by"] == {"straight_lining": 0, "near_identical": 0, "fast_voting": 0}
    assert [a["size"] for a in annex["arrivals"]] == [27]  # reported as context ...
    assert annex["with_flagged"]["participants"] == annex["without_flagged"]["participants"] == 27  # ... not flagged
    page = client.get("/c/test/report").text
    assert "0 participants flagged in all" in page and "A shared network flags nobody on its own" in page


def test_scripted_straight_liners_copies_and_fast_voters_are_flagged_by_their_signal(app, make_consultation):
    rng = np.random.default_rng(4)
    consultation, sids = _town_hall(make_consultation, rng, people=30)
    for liner in range(5):  # each skips two statements of its own, so no two share ten votes (not copies)
        ballot = {sid: 1 for i, sid in enumerate(sids) if i // 2 != liner}
        _votes(consultation, f"liner-{liner}", ballot, network=f"liner-{liner}", start=START, seconds=6)
    copied = dict(zip(sids, rng.choice([-1, 0, 1], size=len(sids)), strict=True))
    for copy in range(4):
        _votes(consultation, f"copy-{copy}", copied, network=f"copy-{copy}", start=START, seconds=5 + copy)
    for bot in range(6):  # varied answers, a third of a second apart
        ballot = dict(zip(sids, rng.choice([-1, 0, 1], size=len(sids)), strict=True))
        _votes(consultation, f"fast-{bot}", ballot, network=f"fast-{bot}", start=START, seconds=0.3)
    runner.analyse(db.session, consultation.id)
    annex = integrity.latest(db.session, consultation)

    liners = set().union(*(_ids(f"liner-{i}") for i in range(5)))
    copies = set().union(*(_ids(f"copy-{i}") for i in range(4)))
    fast = set().union(*(_ids(f"fast-{i}") for i in range(6)))
    assert set(annex["straight_liners"]) == liners
    assert [set(c) for c in annex["near_identical"]] == [copies]
    assert set(annex["fast_voters"]) == fast
    assert annex["flagged_by"] == {"straight_lining": 5, "near_identical": 4, "fast_voting": 6}
    assert set(annex["flagged"]) == liners | copies | fast
    assert annex["with_flagged"]["participants"] == 45 and annex["without_flagged"]["participants"] == 30


def test_a_change_of_mind_is_not_voting_faster_than_reading(app, make_consultation):
    consultation, sids = _town_hall(make_consultation, np.random.default_rng(5), people=20)
    # person-0 changes every answer in quick succession on "My votes".
    _votes(
        consultation,
        "person-0",
        dict.fromkeys(sids, 0),
        network="town-hall",
        start=START + timedelta(hours=1),
        seconds=0.2,
    )
    runner.analyse(db.session, consultation.id)
    assert integrity.latest(db.session, consultation)["fast_voters"] == []


def _brigaded(app, make_consultation):
    """Thirty varied voters, then twelve straight-liners from one address."""
    consultation, sids = _statements(make_consultation)
    rng = np.random.default_rng(1)
    for person in range(30):
        ballot = {sid: rng.choice([-1, 1]) for sid in sids}
        _votes(consultation, f"honest-{person}", ballot, network=f"honest-{person}", start=START, seconds=5)
    for bot in range(12):
        ballot = dict.fromkeys(sids, -1)
        _votes(consultation, f"bot-{bot}", ballot, network="brigade", start=START + timedelta(minutes=bot), seconds=4)
    runner.analyse(db.session, consultation.id)
    return consultation


def test_the_runner_stores_the_annex_with_results_with_and_without(app, make_consultation):
    consultation = _brigaded(app, make_consultation)
    annex = integrity.latest(db.session, consultation)
    bots = _ids("brigade")
    assert set(annex["straight_liners"]) == bots
    # Not near-identical: twelve answers on statements split about evenly match by chance with 2⁻¹² per pair, and
    # 861 pairs make a chance match likely (analysis.integrity.near_identical); straight-lining flags them.
    assert annex["near_identical"] == []
    assert annex["fast_voters"] == []
    assert [a["size"] for a in annex["arrivals"]] == [12]
    assert set(annex["flagged"]) == bots
    assert annex["with_flagged"]["participants"] == 42 and annex["without_flagged"]["participants"] == 30
    assert "brigade" not in str(annex)
    assert db.session.scalar(select(AnalysisIntegrity)).snapshot_id is not None


def test_group_sizes_carry_the_reports_labels_in_its_order(app, client, make_consultation):
    consultation = _brigaded(app, make_consultation)
    annex = integrity.latest(db.session, consultation)
    shown = client.get("/c/test/report").text
    for side in ("with_flagged", "without_flagged"):
        sizes = annex[side]["group_sizes"]
        assert [g["label"] for g in sizes] == [chr(ord("A") + i) for i in range(len(sizes))]
        assert sum(g["size"] for g in sizes) == annex[side]["participants"]
        assert ", ".join(f"Group {g['label']}: {g['size']}" for g in sizes) in shown
    in_report = [(g["label"], g["size"]) for g in report.build(db.session, consultation)["groups"]]
    assert in_report == [(g["label"], g["size"]) for g in annex["with_flagged"]["group_sizes"]]


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


def test_simulated_voters_read_at_a_human_pace(app, make_consultation):
    """The demo's simulated voters must not look like a bot farm in its own integrity annex."""
    consultation, _ = _statements(make_consultation, n=15)
    simulate.simulate_votes(db.session, consultation, 60, seed=2)
    runner.analyse(db.session, consultation.id)
    annex = integrity.latest(db.session, consultation)
    assert annex["fast_voters"] == [] and annex["flagged_by"]["fast_voting"] == 0
