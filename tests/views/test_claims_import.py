"""An import, as a person would do it (the web form and the CLI): its report states the source's moderation and
counts, and flags nobody on timing when the source has no vote times."""

import csv
import io

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import ModerationLogEntry, Statement
from participate.services import consultations, polis_exchange
from participate.services.snapshots import runner

CONVERSATION = "15-per-hour-seattle"  # 54 statements, 23 of them removed by Pol.is's moderators


@pytest.fixture
def source(shared_data):
    folder = shared_data / "polis" / CONVERSATION
    with open(folder / "comments.csv", encoding="utf-8") as f:
        comments = list(csv.DictReader(f))
    with open(folder / "summary.csv", encoding="utf-8") as f:
        summary = dict(row[:2] for row in csv.reader(f) if len(row) >= 2)
    return folder, comments, summary


def _report(client, slug):
    consultation = consultations.get_any(db.session, slug)
    runner.analyse(db.session, consultation.id)
    return consultation, client.get(f"/c/{slug}/report.json").get_json(), client.get(f"/c/{slug}/report").text


def test_an_export_without_vote_times_imported_by_the_web_form(client, login, source):
    folder, comments, summary = source
    login(client, "facilitator")
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(folder.iterdir()) if p.name != "votes.csv"]
    response = client.post_form(
        "/facilitate/import", {"export": files, "slug": "no-times"}, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.text
    consultation, body, page = _report(client, "no-times")
    report = body["report"]
    assert not consultation.vote_times
    annex = report["integrity"]
    assert annex["computed"] and annex["vote_times"] is False
    assert annex["flagged_by"]["fast_voting"] == 0  # nobody flagged on timing: there are no times to read
    assert "not available: the source has no vote times" in page
    removed = sum(c["moderated"] == "-1" for c in comments)
    assert removed == 23
    assert report["moderation"] == {
        "submitted": len(comments),
        "removed": removed,
        "source": "import",
        "removed_in_source": removed,
    }
    log = db.session.scalars(
        select(ModerationLogEntry.reason).where(ModerationLogEntry.consultation_id == consultation.id)
    ).all()
    assert log.count(polis_exchange.REMOVED_IN_SOURCE) == removed
    assert "removed in Pol.is before import" in page
    # the source does not say who wrote each statement (no is-seed column): the report does not guess
    origins = db.session.scalars(select(Statement.origin_stated).where(Statement.consultation_id == consultation.id))
    assert not any(origins) and "source did not say who wrote it" in page
    assert report["source_counts"]["voters"] == int(summary["voters"])
    counts = report["counts"]
    assert f"The source's summary counts {int(summary['voters'])} voters" in page
    assert f"{counts['participants']} of them on statements this report counts" in page


def test_the_cli_import_keeps_vote_times_and_counts_agree_everywhere(app, client, login, source):
    folder, _, _ = source
    result = app.test_cli_runner().invoke(args=["import-polis", str(folder), "--slug", "with-times"])
    assert result.exit_code == 0, result.output
    login(client, "admin")
    consultation, body, page = _report(client, "with-times")
    report = body["report"]
    assert consultation.vote_times and report["integrity"]["vote_times"] is True
    assert report["moderation"]["removed"] == report["moderation"]["removed_in_source"] == 23
    # one set of counts: the page, the JSON, the CSV and the analysis's snapshot say the same numbers
    n = report["counts"]
    assert n["votes"] == report["analysis"]["vote_count"] - _votes_on_uncounted(report, consultation)
    assert f"<dd>{n['participants']:,}</dd>" in page and f"<dd>{n['votes']:,}</dd>" in page
    csv_rows = list(csv.DictReader(io.StringIO(client.get("/c/with-times/report.csv").data.decode("utf-8-sig"))))
    counted = {r["id"] for r in report["statements"] if not r["is_meta"]}
    assert sum(int(r["votes"]) for r in csv_rows if int(r["statement_id"]) in counted) == n["votes"]


def _votes_on_uncounted(report, consultation) -> int:
    """Votes the snapshot holds on statements the counts leave out (removed or meta)."""
    from participate.models import CurrentVote

    counted = {r["id"] for r in report["statements"] if not r["is_meta"]}
    return db.session.scalar(
        select(db.func.count())
        .select_from(CurrentVote)
        .where(CurrentVote.consultation_id == consultation.id, CurrentVote.statement_id.not_in(counted))
    )
