"""What people hit when they use it (issue 22): moderation by keyboard, votes at a limit, phones, the monitor.

Each test starts from what a person sees and does; axe runs on every page touched, in English and Welsh.
"""

import re

from sqlalchemy import select

from participate.extensions import db
from participate.models import Account, Consultation, ConsultationOwner, ModerationMode, Statement
from participate.services import statements as statement_service

from .conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD


def _owned(app, slug: str, *, texts=("First seed", "Second seed", "Third seed"), pending=()) -> None:
    """An open consultation owned by the test facilitator, with seeds and (pre-moderated) pending statements."""
    with app.app_context():
        if db.session.scalar(select(Consultation.id).where(Consultation.slug == slug)) is None:
            consultation = Consultation(
                slug=slug,
                title=f"Test {slug}",
                question=f"What about {slug}?",
                status="open",
                moderation=ModerationMode.PRE,
            )
            db.session.add(consultation)
            db.session.flush()
            owner = db.session.scalar(select(Account.id).where(Account.email == FACILITATOR_EMAIL))
            db.session.add(ConsultationOwner(consultation_id=consultation.id, account_id=owner))
            db.session.add_all(statement_service.seed(consultation.id, text) for text in texts)
            for text in pending:
                statement = statement_service.seed(consultation.id, text)
                statement.moderation = "pending"
                db.session.add(statement)
            db.session.commit()
        db.session.remove()


def _sign_in(session, **options):
    page = session.new_page(**options)
    page.goto("/login")
    page.locator("#email").fill(FACILITATOR_EMAIL)
    page.locator("#password").fill(FACILITATOR_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    return page


def _state(app, text: str) -> str:
    with app.app_context():
        state = db.session.scalar(select(Statement.moderation).where(Statement.text == text))
        db.session.remove()
        return state.value


def test_enter_in_the_reason_box_rejects_and_the_moderator_sees_what_changed(session):
    abusive = "You are all idiots and should be ashamed."
    _owned(session.server.app, "mod-enter", pending=[abusive, "Libraries should stay open late."])
    page = _sign_in(session)
    page.goto("/facilitate/mod-enter/moderate")
    session.check(page)
    page.locator("li.queue-item", has_text=abusive).get_by_role("checkbox").check()
    page.get_by_label("…or write one").fill("Insults other participants")
    page.get_by_label("…or write one").press("Enter")
    page.wait_for_load_state()
    assert _state(session.server.app, abusive) == "rejected"
    summary = page.locator("#announcements").inner_text()
    assert "1 statement rejected (reason: Insults other participants)" in summary
    assert abusive in summary
    assert page.locator("li.queue-item", has_text=abusive).count() == 0
    session.check(page)

    page.goto("/facilitate/mod-enter/moderate?lang=cy")
    session.check(page, language="cy")
