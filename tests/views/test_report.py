"""The report pages: states, numbers, sorting, downloads, visibility and published snapshots."""

import csv
import hashlib
import io
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert, select

from analysis.polis_io import read_polis_export
from participate.extensions import db
from participate.models import (
    AuditLogEntry,
    Consultation,
    ConsultationStatus,
    CurrentVote,
    ModerationState,
    Participant,
    ReportVisibility,
    Statement,
    StatementOrigin,
    Vote,
    VoteValue,
)
from participate.services import ServiceError, report, statements, voting
from tests.services.test_report import CAMP_X, hand_votes, make_hand_consultation

AGREE, DISAGREE, PASS = VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS


def _pct(n, d):
    return int(100 * n / d + 0.5)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_empty_consultation(client, make_consultation):
    make_consultation()
    page = client.get("/c/test/report")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    assert "Title test" in text and "Question test?" in text
    assert "Opinion groups appear once at least 7 people have voted on 3 statements: 0 so far." in text
    assert "Loading" not in text


def test_below_threshold_shows_tallies(client, make_consultation):
    consultation = make_consultation()
    sid = consultation.statements[0].id
    for i, value in enumerate([AGREE, AGREE, DISAGREE]):
        voting.cast(db.session, consultation, f"p{i}", sid, value)
    report.analyse(db.session, consultation.id)
    text = _text(client.get("/c/test/report").get_data(as_text=True))
    assert "3 so far" not in text and "0 so far" in text
    assert "2 agree, 1 disagree, 0 pass" in text and "67% agree, 33% disagree, 0% pass" in text


def test_every_number_in_the_hand_made_report(client, make_consultation):
    _, sids, _ = make_hand_consultation(make_consultation)
    votes = hand_votes()
    html = client.get("/c/hand/report").get_data(as_text=True)
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert figures["Participants"] == "12" and figures["Votes"] == str(len(votes))
    assert figures["Statements"] == "10" and figures["People in opinion groups"] == "12"
    # Group letters follow group ids; find which camp each letter is from its size on the page.
    sizes = dict(re.findall(r'<tr><th scope="row">([A-E])</th><td>(\d+)</td>', html))
    assert sorted(sizes.values()) == ["5", "7"]
    camps = {label: set(CAMP_X) if size == "7" else set(range(7, 12)) for label, size in sizes.items()}
    for s, sid in enumerate(sids):
        row = re.search(rf'<tr id="s{sid}">(.*?)</tr>', html, re.S).group(1)
        cast = [v for (p, t), v in votes.items() if t == s]
        a, d, n = cast.count(AGREE), cast.count(DISAGREE), len(cast)
        expected = {str(x) for x in (a, d, n - a - d, n, _pct(a, n), _pct(d, n), _pct(n - a - d, n), s)}
        assert f"{a} agree, {d} disagree, {n - a - d} pass" in _text(row)
        shares, log_j = [], 0.0
        for label in sorted(camps):
            group = [v for (p, t), v in votes.items() if t == s and p in camps[label]]
            ga, gd, gn = group.count(AGREE), group.count(DISAGREE), len(group)
            gp = gn - ga - gd
            shown = f"{_pct(ga, gn)}% agree, {_pct(gd, gn)}% disagree, {_pct(gp, gn)}% pass ({gn} votes)"
            assert f"{label} {shown}" in _text(row)
            expected |= {label, str(_pct(ga, gn)), str(_pct(gd, gn)), str(_pct(gn - ga - gd, gn)), str(gn)}
            shares.append(ga / gn)
            log_j += np.log((ga + 0.5) / (gn + 1))
        jeffreys = f"{np.exp(log_j / len(camps)):.2f}"
        divisive = str(int(100 * (max(shares) - min(shares)) + 0.5))
        expected |= {jeffreys, divisive}
        numbers = set(re.findall(r"\d+(?:\.\d+)?", re.sub(r'style="[^"]*"', "", _text(row))))
        assert numbers <= expected, (s, numbers - expected)
        assert jeffreys in _text(row) and divisive in _text(row)


def test_sorting_and_theme_filter_work_without_javascript(client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    db.session.get(Statement, sids[3]).themes = []
    from participate.models import StatementTheme

    db.session.get(Statement, sids[9]).themes = [StatementTheme(name="uncertain")]
    db.session.commit()

    def order(query):
        html = client.get(f"/c/hand/report{query}").get_data(as_text=True)
        return [int(x) for x in re.findall(r'<tr id="s(\d+)">', html)]

    assert order("") == sids
    by_agree = order("?sort=agree")
    data = report.build(db.session, consultation)
    shares = {r["id"]: r["overall"]["agree"] / r["overall"]["votes"] for r in data["statements"]}
    assert [shares[i] for i in by_agree] == sorted(shares.values(), reverse=True)
    assert order("?sort=pass")[0] == sids[9]
    assert order("?theme=uncertain") == [sids[9]]
    assert order("?sort=nonsense") == sids


def test_downloads_csv_json_pdf(client, make_consultation):
    _, sids, _ = make_hand_consultation(make_consultation)
    rows = list(csv.DictReader(io.StringIO(client.get("/c/hand/report.csv").get_data(as_text=True))))
    assert [int(r["statement_id"]) for r in rows] == sids
    assert {"group_A_agree_share", "group_B_agree_low90", "group_consensus_jeffreys"} <= set(rows[0])
    body = client.get("/c/hand/report.json").get_json()
    assert body["report"]["format"] == "participate-report/1" and body["report"]["common_ground"] == [sids[0]]
    pdf = client.get("/c/hand/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Title hand" in text and "Hand statement 0" in text


def test_private_link_only_and_draft_reports(client, make_consultation):
    consultation = make_consultation()
    consultation.report_visibility = ReportVisibility.PRIVATE
    db.session.commit()
    assert client.get("/c/test/report").status_code == 403
    assert client.get("/c/test/report.json").status_code == 403
    assert client.get("/c/test/report.pdf").status_code == 403
    consultation.report_visibility = ReportVisibility.LINK
    consultation.report_key = "k" * 32
    db.session.commit()
    assert client.get("/c/test/report").status_code == 404
    assert client.get("/c/test/report?key=wrong").status_code == 404
    page = client.get("/c/test/report?key=" + "k" * 32)
    assert page.status_code == 200 and "noindex" in page.get_data(as_text=True)
    consultation.report_visibility = ReportVisibility.PUBLIC
    consultation.status = ConsultationStatus.DRAFT
    db.session.commit()
    assert client.get("/c/test/report").status_code == 404
    assert client.get("/c/nope/report").status_code == 404


def test_publish_is_refused_to_anonymous_visitors(client, make_consultation):
    make_consultation()
    assert client.post_form("/c/test/report/publish", {}).status_code == 403
    assert client.post("/c/test/report/publish").status_code == 400  # no CSRF token


def test_published_snapshot_is_frozen_and_downloadable(app, client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    out = app.test_cli_runner().invoke(args=["publish-report", "hand"])
    assert out.exit_code == 0, out.output
    token = re.search(r"/r/(\S+)", out.output).group(1)
    before = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Published snapshot" in before and "Hand statement 0" in before
    for i in range(8):
        voting.cast(db.session, consultation, f"late-{i}", sids[1], DISAGREE)
    report.analyse(db.session, consultation.id)
    after = client.get(f"/r/{token}").get_data(as_text=True)
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", after) == strip.sub("", before)
    body = client.get(f"/r/{token}.json").get_json()
    assert body["published"]["vote_count"] == len(hand_votes())
    assert body["analysis"]["result"]["k"] == 2 and body["analysis"]["robustness"]
    assert client.get(f"/r/{token}.csv").status_code == 200
    assert client.get(f"/r/{token}.pdf").mimetype == "application/pdf"
    assert client.get("/r/not-a-real-token").status_code == 404
    consultation.report_visibility = ReportVisibility.PRIVATE
    db.session.commit()
    assert client.get(f"/r/{token}").status_code == 403


def test_init_demo_and_sample_reports(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    demo = client.get("/c/demo-unacceptable-ai-uses/report").get_data(as_text=True)
    assert "Simulated data." in demo and "Where each group draws the line" in demo
    assert 'role="img"' in demo and "<caption>Opinion groups and their sizes</caption>" in demo
    for slug in ("public-interest-ai", "unacceptable-ai-uses"):
        assert "Simulated data." not in client.get(f"/c/{slug}/report").get_data(as_text=True)
        out = runner.invoke(args=["demo-votes", slug, "--participants", "120", "--seed", "5"])
        assert out.exit_code == 0, out.output
        page = client.get(f"/c/{slug}/report")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Simulated data." in html and "Opinion groups" in html
        assert "Common ground" in html and "◆ robust" in html


def import_polis(folder) -> Consultation:
    """Bulk-load a Pol.is export as a closed consultation (test helper; no ORM object per vote)."""
    export = read_polis_export(folder)
    now = datetime.now(UTC)
    consultation = Consultation(
        slug=folder.name[:80].replace(".", "-"),
        title=(export.topic or folder.name)[:200],
        question=(export.description or export.topic or folder.name)[:500] or folder.name,
        status=ConsultationStatus.CLOSED,
        opened_at=now,
        closed_at=now,
    )
    db.session.add(consultation)
    db.session.flush()
    keys, rows = set(), []
    for st in export.statements:
        raw = " ".join((st.text or "").split())[:270] or f"Statement {st.id}"
        try:
            text = statements.clean_text(raw)
        except ServiceError:
            text = f"Statement {st.id}"
        key = statements.text_key(text)
        if key in keys:
            text = f"{text[:260]} (#{st.id})"
            key = statements.text_key(text)
        keys.add(key)
        rows.append(
            {
                "consultation_id": consultation.id,
                "text": text,
                "text_key": key,
                "origin": StatementOrigin.SEED,
                "moderation": ModerationState.REJECTED if st.moderated == -1 else ModerationState.ACCEPTED,
                "is_meta": st.is_meta,
                "source": f"Pol.is comment {st.id}",
            }
        )
    db.session.execute(insert(Statement), rows)
    sid_of = dict(
        zip(
            [st.id for st in export.statements],
            db.session.scalars(
                select(Statement.id).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
            ),
            strict=True,
        )
    )
    latest = export.latest()
    pids = sorted(set(latest.participant_ids.tolist()))
    db.session.execute(
        insert(Participant),
        [
            {
                "consultation_id": consultation.id,
                "token_hash": hashlib.sha256(f"polis:{p}".encode()).hexdigest(),
                "xid": f"polis-{p}",
            }
            for p in pids
        ],
    )
    pid_of = {
        int(x.removeprefix("polis-")): i
        for x, i in db.session.execute(
            select(Participant.xid, Participant.id).where(Participant.consultation_id == consultation.id)
        )
    }
    db.session.execute(
        insert(Vote),
        [
            {
                "consultation_id": consultation.id,
                "participant_id": pid_of[p],
                "statement_id": sid_of[s],
                "value": v,
                "created_at": now,
            }
            for p, s, v in zip(*(a.tolist() for a in latest.as_arrays()), strict=True)
            if s in sid_of
        ],
    )
    db.session.execute(
        insert(CurrentVote).from_select(
            ["participant_id", "statement_id", "consultation_id", "value", "vote_id", "updated_at"],
            select(Vote.participant_id, Vote.statement_id, Vote.consultation_id, Vote.value, Vote.id, Vote.created_at)
            .where(Vote.consultation_id == consultation.id),
        )
    )
    db.session.add(AuditLogEntry(consultation_id=consultation.id, action="imported", details={"source": "polis"}))
    db.session.commit()
    return consultation


def test_reports_of_real_polis_conversations(client, shared_data):
    folders = sorted(p for p in (shared_data / "polis").iterdir() if p.is_dir())
    assert folders
    for folder in folders:
        consultation = import_polis(folder)
        report.analyse(db.session, consultation.id)
        page = client.get(f"/c/{consultation.slug}/report")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, folder.name
        assert "CC BY 4.0" in html and "Opinion groups" in html, folder.name
        data = client.get(f"/c/{consultation.slug}/report.json").get_json()["report"]
        assert data["ready"] and len(data["groups"]) >= 2, folder.name
        assert data["counts"]["votes"] == len(read_polis_export(folder).latest()), folder.name


@pytest.mark.parametrize("suffix", ["", ".json", ".csv"])
def test_unknown_consultation_is_404(client, suffix):
    assert client.get(f"/c/missing/report{suffix}").status_code == 404
