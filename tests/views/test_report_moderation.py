"""Reports show only the statements participants were shown: one definition on every report surface.

A pre-moderated consultation with three statements everybody would agree with, none of which a report may count:
one still pending (only its author has seen it and voted), one rejected after everyone voted on it, and one
marked meta. Each surface (HTML, CSV, JSON, PDF, published snapshot, integrity annex, monitor, Pol.is export)
must leave out the first two and never count the meta statement as a statement.
"""

import csv
import io
import re

import pytest
from pypdf import PdfReader

from participate.extensions import db
from participate.models import ModerationMode, VoteValue
from participate.services import moderation, monitoring, polis_exchange, report
from participate.services.participation import identity
from participate.services.snapshots import runner
from tests import factories
from tests.factories import PEOPLE, hand_votes, make_hand_consultation

PENDING = "Pending statement nobody approved"
REJECTED = "Rejected statement everyone agreed with"
META = "Meta statement I live in the town"
HIDDEN = (PENDING, REJECTED)
SEEDS = [f"Hand statement {i}" for i in range(10)]


@pytest.fixture
def moderated(make_consultation, make_account):
    """The hand-made consultation (two camps, ten statements), pre-moderated, with the three extra statements."""
    consultation = make_consultation("pre", moderation=ModerationMode.PRE, statements=[*SEEDS, REJECTED, META])
    by_text = {s.text: s for s in consultation.statements}
    people = [identity.find_or_add(db.session, consultation, f"person-{i}") for i in range(PEOPLE)]
    for (person, s), value in hand_votes().items():
        factories.record(db.session, consultation, people[person], by_text[SEEDS[s]], value)
    for person in people:  # unanimous: each would top every "common ground" list
        factories.record(db.session, consultation, person, by_text[REJECTED], VoteValue.AGREE)
        factories.record(db.session, consultation, person, by_text[META], VoteValue.AGREE)
    db.session.commit()
    moderator = make_account("admin", "moderator@example.org")
    moderation.act(db.session, moderator, consultation, [by_text[REJECTED].id], "reject", "Off topic")
    moderation.act(db.session, moderator, consultation, [by_text[META].id], "meta")
    pending = factories.submit_statement(db.session, consultation, "person-0", PENDING)  # its author's agree vote only
    runner.analyse(db.session, consultation.id)  # the snapshot, then its checks (integrity annex, robustness)
    return consultation, {**{s.text: s.id for s in consultation.statements}, PENDING: pending.id}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _assert_reportable_only(text: str) -> None:
    for hidden in HIDDEN:
        assert hidden not in text
    assert "Hand statement 0" in text


def test_report_data_counts_and_lists_only_reportable_statements(moderated):
    consultation, ids = moderated
    data = report.build(db.session, consultation)
    assert data["ready"]
    shown = [r["id"] for r in data["statements"]]
    assert ids[PENDING] not in shown and ids[REJECTED] not in shown
    assert data["counts"]["statements"] == len(SEEDS)  # the meta statement stands apart
    assert data["counts"]["votes"] == len(hand_votes())  # votes on hidden and meta statements are not counted
    listed = data["common_ground"] + [m["statement_id"] for m in data["majority"]["agree"]] + data["uncertain"]
    assert not {ids[PENDING], ids[REJECTED], ids[META]} & set(listed)
    # The analysis itself never saw the pending statement as part of the conversation.
    snapshot = db.session.get(report.AnalysisSnapshot, data["analysis"]["snapshot_id"])
    assert ids[PENDING] in snapshot.result["mod_out"] and ids[REJECTED] in snapshot.result["mod_out"]


def test_html_csv_json_and_pdf_leave_out_unapproved_statements(client, moderated):
    text = _text(client.get("/c/pre/report").get_data(as_text=True))
    _assert_reportable_only(text)
    assert f"{len(SEEDS)} statements " in text  # the statements table counts the reportable ones only
    assert "100% (1/1)" not in text
    rows = list(csv.DictReader(io.StringIO(client.get("/c/pre/report.csv").data.decode("utf-8-sig"))))
    assert {r["text"] for r in rows} == {*SEEDS, META}
    body = client.get("/c/pre/report.json").get_json()
    _assert_reportable_only(str(body))
    assert body["report"]["counts"]["statements"] == len(SEEDS)
    pdf = client.get("/c/pre/report.pdf")
    pdf_text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    _assert_reportable_only(pdf_text)


def test_integrity_annex_names_only_counted_statements(client, moderated):
    html = client.get("/c/pre/report").get_data(as_text=True)
    annex = _text(html[html.index('id="integrity-heading"') :])
    assert "Top common-ground statements" in annex
    for hidden in (*HIDDEN, META):
        assert hidden not in annex


def test_published_snapshot_and_monitor_follow_the_same_definition(client, login, moderated):
    consultation, ids = moderated
    login(client, "admin")
    published = client.post_form("/c/pre/report/publish", {})
    assert published.status_code == 302
    token_url = published.headers["Location"]
    _assert_reportable_only(_text(client.get(token_url).get_data(as_text=True)))
    body = client.get(token_url + ".json").get_json()
    _assert_reportable_only(str(body["report"]))
    top = body["analysis"]["integrity"]["with_flagged"]["common_ground"]
    assert top and not {ids[PENDING], ids[REJECTED], ids[META]} & {t["id"] for t in top}
    stats = monitoring.monitor(db.session, consultation)
    assert stats.reported_statements == len(SEEDS)
    assert stats.statements == {"accepted": len(SEEDS), "pending": 1, "rejected": 1} and stats.meta_statements == 1
    monitor = _text(client.get("/facilitate/pre/monitor").get_data(as_text=True))
    assert f"{len(SEEDS)} counted in the report" in monitor


def test_polis_export_report_files_follow_the_definition(tmp_path, moderated):
    consultation, ids = moderated
    polis_exchange.export_folder(db.session, consultation, tmp_path)

    def rows(name: str) -> list[dict]:
        return list(csv.DictReader(io.StringIO((tmp_path / name).read_text(encoding="utf-8"))))

    summary = dict(csv.reader(io.StringIO((tmp_path / "summary.csv").read_text(encoding="utf-8"))))
    assert summary["comments"] == str(len(SEEDS))
    assert {int(r["comment-id"]) for r in rows("comment-groups.csv")} == {ids[t] for t in (*SEEDS, META)}
    # The raw data keeps every statement with its moderation state, so the export stays a complete record.
    comments = {int(r["comment-id"]): r["moderated"] for r in rows("comments.csv")}
    assert comments[ids[PENDING]] == "0" and comments[ids[REJECTED]] == "-1"


def test_home_page_counts_statements_as_the_report_does(client, moderated):
    text = _text(client.get("/").get_data(as_text=True))
    assert "Title pre" in text and f"· {len(SEEDS)} statements" in text


def _annex(response) -> str:
    return _text(response.get_data(as_text=True).split('id="integrity-heading"')[1])


def test_a_statement_rejected_after_the_annex_was_computed_leaves_it(client, login, make_consultation, make_account):
    """The report shows its newest checked snapshot, whose annex may predate a moderator's decision."""
    consultation, sids, _ = make_hand_consultation(make_consultation)  # post-moderation; annex computed
    assert "Hand statement 0" in _annex(client.get("/c/hand/report"))  # the common ground, on top
    moderation.act(db.session, make_account("admin"), consultation, [sids[0]], "reject", "Off topic")
    assert "Hand statement 0" not in _annex(client.get("/c/hand/report"))
    login(client, "admin", email="staff@example.org")
    assert "Hand statement 0" not in _annex(client.get("/facilitate/hand/monitor"))
    body = client.get(client.post_form("/c/hand/report/publish", {}).headers["Location"] + ".json").get_json()
    assert sids[0] not in {t["id"] for t in body["analysis"]["integrity"]["with_flagged"]["common_ground"]}


def test_a_statement_marked_meta_after_the_analysis_leaves_every_list(client, make_consultation, make_account):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    assert report.build(db.session, consultation)["common_ground"] == [sids[0]]
    moderation.act(db.session, make_account("admin"), consultation, [sids[0]], "meta")  # no new analysis yet
    data = client.get("/c/hand/report.json").get_json()["report"]
    assert data["counts"]["statements"] == len(sids) - 1
    listed = data["common_ground"] + data["common_rejection"] + data["divisive"] + data["uncertain"]
    listed += [m["statement_id"] for side in ("agree", "disagree") for m in data["majority"][side]]
    listed += [r["statement_id"] for g in data["groups"] for r in g["repness"]]
    assert sids[0] not in listed
