"""The brief gives the answer first, in the consultation's language: the lead sentence, group names, context,
dates, language marks in pages and PDF, the CSV's byte-order mark, and the source's ids and group letters."""

import csv
import io
from pathlib import Path

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from participate import pdf_tags
from participate.extensions import db
from participate.i18n import long_date
from participate.models import Consultation, Participant, Statement
from participate.services import brief, brief_answer, polis_exchange, simulate, themes
from participate.services.snapshots import runner, source_labels

CONTEXT_KEYS = {
    "organiser",
    "first_vote",
    "last_vote",
    "recruitment",
    "participants",
    "grouped",
    "ungrouped",
    "statements_submitted",
    "statements_removed",
}
TINY = Path(__file__).resolve().parents[1] / "analysis" / "data" / "tiny-export"


# ---- The PDF's structure tree ----


def structure(pdf: bytes):
    """Every element of the PDF's structure tree, as pypdf dictionaries."""
    reader = PdfReader(io.BytesIO(pdf))
    out, todo = [], [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop().get_object()
        if isinstance(node, dict):
            if "/S" in node:
                out.append(node)
            kids = node.get("/K")
            if kids is not None:
                kids = kids.get_object()
                todo.extend(kids if isinstance(kids, list) else [kids])
    return out


def figures_without_alt(pdf: bytes) -> int:
    return sum(1 for e in structure(pdf) if e["/S"] == "/Figure" and not str(e.get("/Alt", "")).strip())


def languages(pdf: bytes) -> set[str]:
    return {str(e["/Lang"]) for e in structure(pdf) if "/Lang" in e}


def brief_pages(pdf: bytes) -> int:
    """Pages before the annex: the title block, the header and the brief."""
    reader = PdfReader(io.BytesIO(pdf))
    return reader.get_destination_page_number(reader.named_destinations["annex-heading"])


def test_pdf_structure_tree_marks_languages_and_figures_have_alternative_text(app):
    from weasyprint import HTML

    pdf_tags.install()
    pdf_tags.install()  # idempotent
    html = (
        '<html lang="cy"><body><p>Yn gryno</p><p lang="de">Ich wohne in Graz</p>'
        '<svg width="10" height="10"><title>Marc grŵp A</title><circle cx="5" cy="5" r="4"/></svg></body></html>'
    )
    pdf = HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    assert "de" in languages(pdf) and figures_without_alt(pdf) == 0
    untitled = HTML(string='<html lang="en"><body><svg width="9" height="9"></svg></body></html>')
    assert figures_without_alt(untitled.write_pdf(pdf_variant="pdf/ua-1")) == 1, "the check can fail"


# ---- The lead and the names, against the floors ----


def _row(sid, overall_votes, groups, text=None):
    return {
        "id": sid,
        "text": text or f"Statement {sid}",
        "is_meta": False,
        "overall": {"votes": overall_votes},
        "groups": [{"label": label, "agree": a, "votes": v} for label, a, v in groups],
        "divisiveness": max(a / v for _, a, v in groups) - min(a / v for _, a, v in groups),
    }


def test_the_main_division_is_never_below_a_floor():
    thin = _row(1, 6, [("A", 3, 3), ("B", 0, 3)])  # 100 points apart, on six votes
    silent = _row(2, 40, [("A", 20, 20), ("B", 0, 4)])  # group B below its floor
    about_me = _row(3, 60, [("A", 30, 30), ("B", 0, 30)])  # a fact about the participant, not a view
    solid = _row(4, 60, [("A", 24, 30), ("B", 6, 30)])
    report = {
        "ready": True,
        "groups": [{"label": "A"}, {"label": "B"}],
        "statements": [thin, silent, about_me, solid],
        "about_participants": [3],
        "floor": {"voters": 20, "group_voters": 5},
    }
    row, high, low = brief_answer.division(report)
    assert row["id"] == 4 and (high, low) == (0, 1)
    report["floor"] = {"voters": 100, "group_voters": 5}  # raised by the facilitators: nothing qualifies
    assert brief_answer.division(report) is None


def test_generated_names_are_short_and_from_statements_at_the_floors(app):
    long_text = "Facial recognition should be banned in every public space. It is never proportionate."
    report = {
        "ready": True,
        "group_names": {},
        "floor": {"voters": 20, "group_voters": 5},
        "statements": [
            _row(1, 8, [("A", 4, 4), ("B", 0, 4)], "Thin statement"),
            _row(2, 60, [("A", 28, 30), ("B", 3, 30)], long_text),
        ],
        "groups": [
            {
                "label": "A",
                "repness": [
                    {"statement_id": 1, "side": "agree", "inside": {"agree": 4, "disagree": 0, "votes": 4}},
                    {"statement_id": 2, "side": "agree", "inside": {"agree": 28, "disagree": 1, "votes": 30}},
                ],
            },
            {
                "label": "B",
                "repness": [
                    {"statement_id": 2, "side": "disagree", "inside": {"agree": 3, "disagree": 25, "votes": 30}}
                ],
            },
        ],
    }
    with app.test_request_context("/?lang=en"):
        named = brief_answer.names(report)
        assert named["A"] == {"name": "Facial recognition should be banned in…", "name_confirmed": False}
        assert named["B"]["name"].startswith("against: Facial recognition") and not named["B"]["name_confirmed"]
        report["group_names"] = {"B": "Sceptics"}
        assert brief_answer.names(report)["B"] == {"name": "Sceptics", "name_confirmed": True}


def test_demo_brief_opens_with_the_answer_and_names_groups_until_confirmed(app, client):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    demo = db.session.scalar(select(Consultation).where(Consultation.slug == simulate.DEMO_SLUG))
    body = client.get(f"/c/{demo.slug}/report.json").get_json()
    report, summary = body["report"], body["brief"]
    assert isinstance(summary["lead"], str) and "divide most" in summary["lead"]
    assert set(summary["context"]) == CONTEXT_KEYS
    ctx = summary["context"]
    assert ctx["participants"] == report["counts"]["participants"]
    assert ctx["grouped"] + ctx["ungrouped"] == ctx["participants"]
    by_id = {r["id"]: r for r in report["statements"]}
    lead = by_id[summary["lead_statement"]]
    floor = report["floor"]
    assert lead["overall"]["votes"] >= floor["voters"]
    assert all(t["votes"] >= floor["group_voters"] for t in lead["groups"])
    assert f"“{lead['text'].rstrip('.')}”" in summary["lead"]
    texts = [r["text"] for r in report["statements"] if brief_answer.at_floors(r, brief_answer.floor_of(report))]
    for g in summary["groups"]:
        assert g["name_confirmed"] is False
        stem = g["name"].removeprefix("against: ").rstrip("…")
        assert any(t.startswith(stem) for t in texts), f"{g['name']!r} is not from a statement at the floors"
    if len(summary["groups"]) == 2:
        assert not any("other groups" in g["summary"] for g in summary["groups"]), "one other group is singular"
    page = client.get(f"/c/{demo.slug}/report").get_data(as_text=True)
    brief_html = page[page.index('id="brief-heading"') : page.index('id="annex-heading"')]
    assert brief_html.index("brief-lead") < brief_html.index("headline-heading") < brief_html.index("caution-brief")
    first = summary["groups"][0]
    themes.set_group_names(db.session, None, demo, {first["label"]: "Cautious adopters"})
    named = client.get(f"/c/{demo.slug}/report.json").get_json()["brief"]["groups"][0]
    assert named["name"] == "Cautious adopters" and named["name_confirmed"] is True


@pytest.mark.slow  # two layouts of the demo's whole report
def test_demo_pdf_brief_fits_two_pages_in_english_and_welsh(app, client):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    for lang in ("en", "cy"):
        pdf = client.get(f"/c/{simulate.DEMO_SLUG}/report.pdf?lang={lang}").data
        assert brief_pages(pdf) <= 2, f"{lang}: the brief runs to page {brief_pages(pdf)}"
        assert figures_without_alt(pdf) == 0


# ---- Language and dates ----


def test_dates_follow_the_interface_language(app):
    with app.test_request_context("/"):
        with force_locale("en"):
            assert long_date("2026-03-03T10:00:00+00:00") == "3 March 2026"
        with force_locale("cy"):
            assert long_date("2026-03-03T10:00:00+00:00") == "3 Mawrth 2026"
        assert long_date(None) == ""


def test_a_german_consultation_marks_its_statements_in_page_and_pdf(client, make_consultation):
    consultation = make_consultation()
    consultation.language = "de"
    db.session.commit()
    page = client.get(f"/c/{consultation.slug}/report").get_data(as_text=True)
    text = consultation.statements[0].text
    assert f'<span lang="de">{text}</span>' in page or f'lang="de">{text}<' in page
    assert 'lang="de"' in client.get(f"/c/{consultation.slug}").get_data(as_text=True)
    assert "de" in languages(client.get(f"/c/{consultation.slug}/report.pdf").data)


def test_report_csv_has_a_byte_order_mark(client, make_consultation):
    consultation = make_consultation()
    data = client.get(f"/c/{consultation.slug}/report.csv").data
    assert data.startswith(b"\xef\xbb\xbf") and data[3:].startswith(b"statement_id,")


def test_language_setting_is_checked(make_consultation):
    from participate.services import InvalidInput, consultations

    assert consultations.check_language(" de_AT ") == "de-at"
    for bad in ("", "German", "d", "<script>"):
        with pytest.raises(InvalidInput):
            consultations.check_language(bad)


# ---- The source's names ----


def test_letters_follow_the_source_where_one_maps_to_one():
    groups = {10: [1, 2, 3, 4], 11: [5, 6, 7], 12: [8, 9]}
    source = {1: 1, 2: 1, 3: 1, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1}  # 10 ~ source 1 (B), 11 ~ source 0 (A)
    assert source_labels(groups, source) == {10: "B", 11: "A", 12: "C"}
    assert source_labels({0: [1], 1: [2]}, {}) == {0: "A", 1: "B"}


def test_an_import_keeps_the_source_ids_and_group_letters(client):
    imported = polis_exchange.import_export(db.session, TINY, language="de")
    imported.report_visibility = "public"
    db.session.commit()
    runner.analyse(db.session, imported.id)
    assert imported.language == "de"
    source_ids = db.session.scalars(select(Statement.source_id).where(Statement.consultation_id == imported.id))
    assert sorted(source_ids) == list(range(8))
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/c/{imported.slug}/report/participants.csv").data.decode("utf-8-sig")))
    )
    people = db.session.scalars(select(Participant).where(Participant.consultation_id == imported.id)).all()
    assert {int(r["source_participant_id"]) for r in rows} <= {p.source_id for p in people}
    grouped = [r for r in rows if r["group"] and r["source_group"]]
    assert grouped and sum(r["group"] == r["source_group"] for r in grouped) > len(grouped) / 2, (
        "our letters name the source's groups"
    )
    report_csv = list(
        csv.DictReader(io.StringIO(client.get(f"/c/{imported.slug}/report.csv").data.decode("utf-8-sig")))
    )
    assert {r["source_statement_id"] for r in report_csv} <= {str(i) for i in range(8)}


# ---- Every shared conversation ----


@pytest.mark.slow
def test_every_shared_conversation_answers_first_within_two_pages(app, client, shared_conversations):
    app.config["PDF_RATE_LIMIT"] = "100 per minute"  # 14 downloads from one address, as one analyst checking each

    def pdf_of(url: str) -> bytes:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/pdf", (
            url,
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        return response.data

    for folder, consultation in shared_conversations:
        if "austria" in folder.name:
            consultation.language = "de"  # as its facilitators would set it: the export does not say
            db.session.commit()
        body = client.get(f"/c/{consultation.slug}/report.json").get_json()
        report, summary = body["report"], body["brief"]
        floor = brief_answer.floor_of(report)
        if summary["lead"]:
            lead = next(r for r in report["statements"] if r["id"] == summary["lead_statement"])
            assert brief_answer.at_floors(lead, floor), folder.name
        texts = [r["text"] for r in report["statements"] if brief_answer.at_floors(r, floor)]
        for g in summary["groups"]:
            if g["name"]:
                stem = g["name"].split(": ", 1)[-1].rstrip("…")
                assert any(t.startswith(stem) for t in texts), (folder.name, g["name"])
        for lang in ("en", "cy"):
            pdf = pdf_of(f"/c/{consultation.slug}/report.pdf?lang={lang}")
            assert brief_pages(pdf) <= 2, (folder.name, lang, brief_pages(pdf))
            assert figures_without_alt(pdf) == 0, (folder.name, lang)
            if consultation.language == "de":
                assert "de" in languages(pdf), folder.name
        if consultation.language == "de":
            assert 'lang="de"' in client.get(f"/c/{consultation.slug}/report").get_data(as_text=True)


def test_brief_json_names_every_field(app, make_consultation):
    consultation = make_consultation()
    from participate.services import report as reports

    with app.test_request_context("/"):
        summary = brief.build(reports.build(db.session, consultation))
    assert {"lead", "context", "method", "caution"} <= set(summary) and set(summary["context"]) == CONTEXT_KEYS
