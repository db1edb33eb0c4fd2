"""My votes without JavaScript, in English and Welsh: where the person stands (the report's group for them), what
became of their statement, and deleting their votes only after a confirmation page."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from participate.extensions import db
from participate.models import AnalysisSnapshot, Consultation, ModerationMode, Participant
from participate.services import report, simulate
from participate.services import statements as statement_service

from .welsh import check_welsh

SLUG = "where-i-stand"
TEXTS = [f"Our town should try idea number {i}" for i in range(10)]


def _consultation(app) -> None:
    """An open, pre-moderated consultation with simulated voters, made once for this test."""
    with app.app_context():
        if db.session.scalar(select(Consultation.id).where(Consultation.slug == SLUG)) is None:
            consultation = Consultation(
                slug=SLUG,
                title="Where I stand",
                question="What should our town try?",
                status="open",
                moderation=ModerationMode.PRE,
            )
            db.session.add(consultation)
            db.session.flush()
            db.session.add_all(statement_service.seed(consultation.id, text) for text in TEXTS)
            db.session.commit()
            simulate.simulate_votes(db.session, consultation, 40, groups=2, seed=7)
        db.session.remove()


def _report_label(app) -> str:
    """The report's label for the one participant who is not simulated, from the report's own snapshot."""
    with app.app_context():
        consultation = db.session.scalar(select(Consultation).where(Consultation.slug == SLUG))
        built = report.build(db.session, consultation)
        me = db.session.scalar(
            select(Participant.id).where(Participant.consultation_id == consultation.id, Participant.xid.is_(None))
        )
        groups = db.session.get(AnalysisSnapshot, built["analysis"]["snapshot_id"]).result["groups"]
        gid = next(g["id"] for g in groups if me in g["members"])
        label = next(g["label"] for g in built["groups"] if g["id"] == gid)
        db.session.remove()
        return label


def test_my_votes_says_where_i_stand_without_javascript_in_english_and_welsh(session):
    _consultation(session.server.app)
    page = session.new_page(java_script_enabled=False)
    page.goto(f"/c/{SLUG}")
    page.get_by_label("Your statement").fill("Our town should plant more trees")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit statement").click()

    page.goto(f"/c/{SLUG}/mine")
    session.check(page)
    assert "Vote on 6 more statements to be placed in an opinion group." in page.locator("#stand-missing").inner_text()
    assert page.locator("#my-group").count() == 0
    assert "Waiting for a moderator" in page.locator(".my-statements").inner_text()

    page.goto(f"/c/{SLUG}")
    for i in range(len(TEXTS)):
        with page.expect_navigation():
            page.get_by_role("button", name="Agree" if i % 2 else "Disagree", exact=True).click()
    page.goto(f"/c/{SLUG}/mine")
    session.check(page)
    label = _report_label(session.server.app)
    assert page.locator("#my-group").get_attribute("data-group") == label
    # With the report's name for the group when it has one (the facilitators', else generated).
    assert re.search(rf"you are in opinion group {label}(, “[^”]+”)?\.", page.locator("#my-group").inner_text())
    assert re.search(r"\d+ people are in this group\.", page.locator("#my-group").inner_text())

    page.goto(f"/c/{SLUG}/mine?lang=cy")
    check_welsh(session, page)
    assert page.locator("#my-group").get_attribute("data-group") == label
    assert "Yn aros am gymedrolwr" in page.locator(".my-statements").inner_text()

    with page.expect_navigation():
        page.get_by_role("button", name="Dileu fy mhleidleisiau").click()
    check_welsh(session, page)
    with page.expect_navigation():
        page.get_by_role("link", name="Na, cadwch nhw").click()
    expect(page.locator("ol.my-votes li")).to_have_count(len(TEXTS) + 1)  # nothing was deleted
