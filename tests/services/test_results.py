"""Votes → analysis → snapshot: the wiring between the web app and ``analysis``."""

import random
import threading
import time

import numpy as np
from sqlalchemy import func, select

from participate import jobs
from participate.extensions import db
from participate.models import AnalysisSnapshot, CurrentVote, ModerationState, Participant, Vote, VoteValue
from participate.services.participation import identity
from participate.services.snapshots import store
from participate.services.snapshots import votes as snapshot_votes
from tests import factories

VALUES = (VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS)


def _vote_two_camps(consultation, n_people=20, seed=0):
    """Two camps who disagree on every statement, with a little noise."""
    rng = random.Random(seed)
    sids = sorted(s.id for s in consultation.statements)
    for person in range(n_people):
        camp = person % 2
        for i, sid in enumerate(sids):
            value = VoteValue.AGREE if (i % 2 == camp) else VoteValue.DISAGREE
            if rng.random() < 0.1:
                value = rng.choice(VALUES)
            factories.record(
                db.session,
                consultation,
                identity.find_or_add(db.session, consultation, f"p{person}"),
                db.session.get(type(consultation.statements[0]), sid),
                value,
            )
    db.session.commit()


def test_current_votes_streams_latest_values(make_consultation):
    consultation = make_consultation()
    a, b, _ = sorted(s.id for s in consultation.statements)
    factories.cast(db.session, consultation, "x", a, VoteValue.AGREE)
    factories.cast(db.session, consultation, "x", a, VoteValue.DISAGREE)
    factories.cast(db.session, consultation, "y", b, VoteValue.PASS)
    arrays = snapshot_votes.current_votes(db.session, consultation.id)
    assert sorted(zip(arrays.statement_ids.tolist(), arrays.values.tolist(), strict=True)) == [(a, -1), (b, 0)]


def test_current_votes_reads_one_consultation_by_the_fastest_path(make_consultation, monkeypatch):
    """Every current vote of the consultation, none of another's; PostgreSQL reads them by binary COPY."""
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(6)])
    other = make_consultation("other")
    _vote_two_camps(consultation, n_people=7)
    factories.cast(db.session, other, "z", other.statements[0].id, VoteValue.AGREE)
    db.session.commit()
    expected = sorted(
        (p, s, v)
        for p, s, v in db.session.execute(
            select(CurrentVote.participant_id, CurrentVote.statement_id, CurrentVote.value).where(
                CurrentVote.consultation_id == consultation.id
            )
        )
    )
    copies = []  # the COPY statements psycopg sends
    if db.engine.dialect.name == "postgresql":
        import psycopg

        real_copy = psycopg.Cursor.copy
        monkeypatch.setattr(
            psycopg.Cursor, "copy", lambda cursor, sql, *a, **k: copies.append(sql) or real_copy(cursor, sql, *a, **k)
        )
    arrays = snapshot_votes.current_votes(db.session, consultation.id)
    assert len(arrays) == 42
    assert (arrays.participant_ids.dtype, arrays.statement_ids.dtype, arrays.values.dtype) == (
        np.int64,
        np.int64,
        np.int8,
    )
    got = zip(arrays.participant_ids.tolist(), arrays.statement_ids.tolist(), arrays.values.tolist(), strict=True)
    assert sorted(got) == expected
    assert len(copies) == (db.engine.dialect.name == "postgresql")
    assert all(sql.startswith("COPY ") and sql.endswith("(FORMAT binary)") for sql in copies)
    assert len(snapshot_votes.current_votes(db.session, 10**9)) == 0


def test_votes_until_keeps_each_pairs_last_vote_up_to_the_snapshot(make_consultation):
    consultation = make_consultation()
    a, b, _ = sorted(s.id for s in consultation.statements)
    factories.cast(db.session, consultation, "x", a, VoteValue.AGREE)
    factories.cast(db.session, consultation, "x", a, VoteValue.DISAGREE)
    factories.cast(db.session, consultation, "y", a, VoteValue.PASS)
    cut = db.session.scalar(select(func.max(Vote.id)))
    factories.cast(db.session, consultation, "x", a, VoteValue.PASS)  # after the snapshot: not its votes
    factories.cast(db.session, consultation, "y", b, VoteValue.AGREE)
    arrays = snapshot_votes.votes_until(db.session, consultation.id, cut)
    assert sorted(zip(arrays.statement_ids.tolist(), arrays.values.tolist(), strict=True)) == [(a, -1), (a, 0)]
    assert len(snapshot_votes.votes_until(db.session, consultation.id, 10**9)) == 3
    assert len(snapshot_votes.votes_until(db.session, consultation.id, 0)) == 0


def test_no_votes_no_snapshot(make_consultation):
    consultation = make_consultation()
    assert store.compute_snapshot(db.session, consultation.id) is None
    assert store.latest(db.session, consultation) is None


def test_snapshot_finds_the_two_camps_and_warm_starts(make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(8)])
    _vote_two_camps(consultation)
    first = store.compute_snapshot(db.session, consultation.id)
    assert first.vote_count == 160 and first.result["k"] == 2
    camps = [sorted(g["members"]) for g in first.result["groups"]]
    people = {identity.find(db.session, consultation, f"p{i}").id: i % 2 for i in range(20)}
    for members in camps:
        assert len({people[m] for m in members}) == 1
    second = store.compute_snapshot(db.session, consultation.id)
    assert [g["members"] for g in second.result["groups"]] == [g["members"] for g in first.result["groups"]]
    view = store.latest(db.session, consultation)
    assert view.snapshot_id == second.id and view.k == 2
    assert set(view.priorities) == {s.id for s in consultation.statements}
    assert set(view.group_labels.values()) == {"A", "B"}


def test_snapshot_stores_the_k_rule_bridging_and_headline(make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(8)])
    _vote_two_camps(consultation)
    stored = store.compute_snapshot(db.session, consultation.id)
    db.session.expire_all()
    result = db.session.get(AnalysisSnapshot, stored.id).result
    statement_ids = {str(s.id) for s in consultation.statements}
    assert "2" in result["k_scores"] and isinstance(result["k_tied"], bool)
    assert set(result["bridging"]) == set(result["bridging_interval"]) == statement_ids
    assert {str(s) for s in result["headline"]} == statement_ids  # 8 statements, a list of 8
    assert result["headline_jr"] is True


def test_rejected_statements_and_banned_participants_leave_the_math(make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(8)])
    _vote_two_camps(consultation)
    rejected = consultation.statements[0]
    rejected.moderation = ModerationState.REJECTED
    banned = db.session.scalar(select(Participant).limit(1))
    banned.is_banned = True
    db.session.commit()
    result = store.compute_snapshot(db.session, consultation.id).result
    assert rejected.id in result["mod_out"]
    assert banned.id not in result["participant_ids"]
    for reps in result["repness"].values():
        assert rejected.id not in [r["statement_id"] for r in reps]


def test_old_snapshots_are_pruned(make_consultation):
    consultation = make_consultation()
    factories.cast(db.session, consultation, "x", consultation.statements[0].id, VoteValue.AGREE)
    for _ in range(store.KEEP_SNAPSHOTS + 2):
        store.compute_snapshot(db.session, consultation.id)
    assert db.session.scalar(select(func.count()).select_from(AnalysisSnapshot)) == store.KEEP_SNAPSHOTS


def test_thread_runner_coalesces_a_burst_and_includes_the_last_vote(app, make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(8)])
    _vote_two_camps(consultation, n_people=10)
    # The debounce begins only when the whole burst is in, however slowly a busy machine sends it.
    burst_sent = threading.Event()

    def debounce(seconds):
        assert burst_sent.wait(60)
        time.sleep(seconds)

    runner = jobs.ThreadRunner(app, 0.2, sleep=debounce)
    for _ in range(5):
        runner.request(consultation.id)
    burst_sent.set()
    assert runner.wait_idle(timeout=60)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AnalysisSnapshot)) == 1
    factories.cast(db.session, consultation, "late", consultation.statements[0].id, VoteValue.AGREE)
    runner.request(consultation.id)
    assert runner.wait_idle(timeout=60)
    db.session.expire_all()
    assert store.latest_snapshot(db.session, consultation).vote_count == 81


def test_participant_sees_their_opinion_group_after_voting(client, make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(8)])
    _vote_two_camps(consultation)
    client.get("/c/test")
    page = client.get("/c/test")
    assert "you are in opinion group" not in page.text
    sids = sorted(s.id for s in consultation.statements)
    for i, sid in enumerate(sids):
        client.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree" if i % 2 == 0 else "disagree"})
    page = client.get("/c/test/mine")
    view = store.latest(db.session, consultation)
    camp0 = view.group_of[identity.find(db.session, consultation, "p0").id]
    assert f"you are in opinion group {view.group_labels[camp0]}, “" in page.text, "named as in the brief"


def test_analyse_command(app, make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(8)])
    _vote_two_camps(consultation)
    output = app.test_cli_runner().invoke(args=["analyse", "test"]).output
    assert "160 votes, 20 participants, 20 grouped into 2 opinion groups" in output
    assert "no consultation" in app.test_cli_runner().invoke(args=["analyse", "nope"]).output


def test_latest_reads_each_new_snapshot_once_and_serves_the_previous_one_meanwhile(app, make_consultation, monkeypatch):
    consultation = make_consultation()
    _vote_two_camps(consultation)
    first = store.compute_snapshot(db.session, consultation.id)
    view = store.latest(db.session, consultation)
    stored = first.result
    assert view.snapshot_id == first.id and view.k == stored["k"]
    assert view.priorities == {int(sid): p for sid, p in stored["priorities"].items()}
    assert sorted(view.group_of) == sorted(pid for g in stored["groups"] for pid in g["members"])
    assert sorted(view.group_labels.values()) == ["A", "B"][: len(stored["groups"])]
    factories.cast(db.session, consultation, "late", consultation.statements[0].id, VoteValue.AGREE)
    second = store.compute_snapshot(db.session, consultation.id)
    # Another thread is reading the new snapshot (held in the middle of it until this one has been served).
    reading, finish, read = threading.Event(), threading.Event(), []
    real_latest = store.Latest

    def held(**fields):
        reading.set()
        assert finish.wait(60)
        return real_latest(**fields)

    def other_thread():
        with app.app_context():
            read.append(store.latest(db.session, consultation.id).snapshot_id)

    monkeypatch.setattr(store, "Latest", held)
    thread = threading.Thread(target=other_thread)
    thread.start()
    assert reading.wait(60)
    monkeypatch.setattr(store, "Latest", real_latest)
    try:
        assert store.latest(db.session, consultation).snapshot_id == first.id  # served at once, not waiting
    finally:
        finish.set()
        thread.join(60)
    assert read == [second.id]
    assert store.latest(db.session, consultation).snapshot_id == second.id
