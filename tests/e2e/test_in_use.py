"""What people hit when they use it (issue 22): moderation by keyboard, votes at a limit, phones, the monitor.

Each test starts from what a person sees and does; axe runs on every page touched, in English and Welsh.
"""

import json
import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import (
    Account,
    Consultation,
    ConsultationOwner,
    CurrentVote,
    ModerationMode,
    Participant,
    Statement,
)
from participate.services import statements as statement_service

from .conftest import DEMO, FACILITATOR_EMAIL, FACILITATOR_PASSWORD


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
    with page.expect_navigation():
        page.get_by_label("…or write one").press("Enter")
    assert _state(session.server.app, abusive) == "rejected"
    summary = page.locator("#announcements").inner_text()
    assert "1 statement rejected (reason: Insults other participants)" in summary
    assert abusive in summary
    assert page.locator("li.queue-item", has_text=abusive).count() == 0
    session.check(page)

    page.goto("/facilitate/mod-enter/moderate?lang=cy")
    session.check(page, language="cy")


def _votes(app, slug: str) -> int:
    with app.app_context():
        n = db.session.scalar(
            select(func.count())
            .select_from(CurrentVote)
            .join(Consultation, Consultation.id == CurrentVote.consultation_id)
            .where(Consultation.slug == slug)
        )
        db.session.remove()
        return n


def test_at_the_network_limit_people_are_told_what_to_do_and_no_acknowledged_vote_is_lost(session):
    app = session.server.app
    _owned(app, "limit-room")
    saved = app.config["NEW_PARTICIPANT_RATE_LIMIT"]
    app.config["NEW_PARTICIPANT_RATE_LIMIT"] = "2 per hour"  # a lowered allowance: the third newcomer meets it
    try:
        acknowledged = 0
        for _ in range(2):
            page = session.new_page()
            page.goto("/c/limit-room")
            page.get_by_role("button", name="Agree", exact=True).click()
            page.locator("#announcements", has_text="was recorded").wait_for()
            acknowledged += 1

        scripted = session.new_page()
        scripted.goto("/c/limit-room")
        shown = scripted.locator("#statement-text").inner_text()
        scripted.get_by_role("button", name="Agree", exact=True).click()
        message = scripted.locator("#announcements", has_text="very many people have just joined")
        message.wait_for()
        assert "keeps your vote and sends it again" in message.inner_text()
        assert "was recorded" not in scripted.locator("#announcements").inner_text()
        assert scripted.locator("#statement-text").inner_text() == shown  # nothing moved on
        session.check(scripted)

        plain = session.new_page(java_script_enabled=False)
        plain.goto("/c/limit-room")
        plain.get_by_role("button", name="Agree", exact=True).click()
        expect(plain.locator("[role=alert]")).to_contain_text("very many people have just joined from your network")
        session.check(plain)
        plain.get_by_role("link", name="Back to the statement").click()
        expect(plain.locator("#statement-text")).to_have_count(1)

        plain.goto("/c/limit-room?lang=cy")
        with plain.expect_navigation():
            plain.get_by_role("button", name="Cytuno", exact=True).click()
        session.check(plain, language="cy")

        assert _votes(app, "limit-room") == acknowledged
    finally:
        app.config["NEW_PARTICIPANT_RATE_LIMIT"] = saved


STACK_WATCH = """() => { window.__most = 0; const region = document.getElementById('announcements');
  new MutationObserver(() => { window.__most = Math.max(window.__most, region.children.length); })
    .observe(region, {childList: true}); }"""


def test_one_status_message_at_a_time_with_javascript(session):
    _owned(session.server.app, "one-status", texts=[f"Statement number {i}" for i in range(6)])
    page = session.new_page()
    page.goto("/c/one-status")
    page.evaluate(STACK_WATCH)
    tops = []
    for _ in range(4):
        text = page.locator("#statement-text").inner_text()
        page.keyboard.press("a")
        page.wait_for_function("(t) => document.getElementById('statement-text').textContent !== t", arg=text)
        shown_at = page.locator("#vote-form").bounding_box()["y"]  # where the next tap aims, as soon as it shows
        page.locator("#announcements", has_text="was recorded").wait_for()
        assert page.locator("#announcements > *").count() == 1
        page.wait_for_timeout(150)
        tops.append(page.locator("#vote-form").bounding_box()["y"])
        assert abs(tops[-1] - shown_at) < 2, "nothing moves the buttons after the next statement shows"
    assert max(tops) - min(tops) < 2  # messages replace each other: the buttons stay where they are
    page.wait_for_timeout(200)
    assert page.evaluate("window.__most") == 1
    session.check(page)


def test_without_javascript_a_vote_leaves_focus_on_the_vote_form(session):
    _owned(session.server.app, "focus-back", texts=[f"Focus statement {i}" for i in range(4)])
    page = session.new_page(java_script_enabled=False)
    page.goto("/c/focus-back")
    with page.expect_navigation():
        page.get_by_role("button", name="Disagree", exact=True).click()
    expect(page.locator("#announcements")).to_contain_text("Your vote was recorded.")
    # The answer's #statement-text fragment puts focus there once the page has loaded.
    page.wait_for_function("document.activeElement.closest('#vote-form') !== null", timeout=5_000)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "agree"  # one Tab to vote again
    session.check(page)


def test_a_refused_statement_takes_focus_is_announced_and_the_statement_stays(session):
    _owned(session.server.app, "refused-statement", texts=[f"Bus route {i} should run at night" for i in range(5)])
    for javascript in (False, True):
        page = session.new_page(java_script_enabled=javascript)
        page.goto("/c/refused-statement")
        shown = page.locator("#statement-text").inner_text()
        page.get_by_label("Your statement").fill("Bus route 1 should run at night")  # a repeat: refused
        page.get_by_role("button", name="Submit statement").click()
        error = page.locator("#text-error")
        error.wait_for()
        assert error.get_attribute("role") == "alert" and error.inner_text()
        page.wait_for_function("document.activeElement.id === 'text'", timeout=5_000)
        assert page.locator("#statement-text").inner_text() == shown
        session.check(page)


def test_a_banned_participant_sees_downloads_and_deletes_their_data(session):
    app = session.server.app
    _owned(app, "banned-data", texts=[f"Parks idea {i}" for i in range(3)])
    page = session.new_page(java_script_enabled=False)
    page.goto("/c/banned-data")
    with page.expect_navigation():
        page.get_by_role("button", name="Agree", exact=True).click()
    with app.app_context():
        voter = db.session.scalar(select(Participant).join(Consultation).where(Consultation.slug == "banned-data"))
        voter.is_banned = True
        db.session.commit()
        db.session.remove()

    page.goto("/c/banned-data")
    session.check(page)
    page.get_by_role("link", name=re.compile("Your votes and your data")).click()
    expect(page.locator("ol.my-votes li")).to_have_count(1)
    session.check(page)
    assert page.locator("form.change-vote").count() == 0  # a banned vote would be refused: no buttons for it
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your votes and statements (JSON)").click()
    data = json.loads(info.value.path().read_text())
    assert len(data["current_votes"]) == 1 and data["current_votes"][0]["vote"] == "agree"
    page.goto("/c/banned-data/mine?lang=cy")
    session.check(page, language="cy")
    page.goto("/c/banned-data/mine?lang=en")
    page.get_by_role("button", name="Delete my votes").click()
    page.get_by_role("button", name=re.compile("^Yes")).click()
    expect(page.locator("#announcements")).to_contain_text("Your votes were deleted")
    assert _votes(app, "banned-data") == 0


ADMIN_EMAIL = "admin@example.org"
STAFF_PAGES = [
    "/facilitate/",
    "/facilitate/new",
    "/facilitate/import",
    "/facilitate/{slug}",
    "/facilitate/{slug}/settings",
    "/facilitate/{slug}/close",
    "/facilitate/{slug}/audit",
    "/facilitate/{slug}/statements",
    "/facilitate/{slug}/moderators",
    "/facilitate/{slug}/eligibility",
    "/facilitate/{slug}/moderate",
    "/facilitate/{slug}/moderation-log",
    "/facilitate/{slug}/monitor",
    "/c/{slug}/report/themes",
    "/c/{slug}/report/groups",
    "/admin/accounts",
    "/account/password",
]

WIDER = """() => { const w = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('main *')).filter((el) => {
    const b = el.getBoundingClientRect(); return b.width > 0 && (b.right > w + 1 || b.left < -1); })
  .slice(0, 5).map((el) => el.tagName + '#' + el.id + '.' + el.className + ' '
    + Math.round(el.getBoundingClientRect().right));
}"""


def _admin(session):
    from participate.models import Role
    from participate.services import accounts

    app = session.server.app
    with app.app_context():
        if db.session.scalar(select(Account.id).where(Account.email == ADMIN_EMAIL)) is None:
            accounts.create(db.session, ADMIN_EMAIL, FACILITATOR_PASSWORD, Role.ADMIN)
        db.session.remove()
    page = session.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/login")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(FACILITATOR_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    return page


def test_every_staff_page_fits_a_360_pixel_phone_in_english_and_welsh(session):
    _owned(session.server.app, "narrow-staff", pending=["A pending statement that is rather long to see wrapping"])
    page = _admin(session)
    wide = []
    for lang in ("en", "cy"):
        for path in STAFF_PAGES:
            page.goto(path.format(slug="narrow-staff") + f"?lang={lang}")
            if page.evaluate("document.documentElement.scrollWidth") > 361:
                wide.append((lang, path, page.evaluate("document.documentElement.scrollWidth"), page.evaluate(WIDER)))
                continue
            session.check(page, language=lang)
    assert wide == [], "\n".join(map(str, wide))


def test_the_monitor_refreshes_itself_until_stopped_and_shows_the_groups_with_sizes(session):
    page = _admin(session)
    for lang in ("en", "cy"):
        answer = page.goto(f"/facilitate/{DEMO}/monitor?lang={lang}")
        assert answer.headers.get("refresh") == "30"  # reloads itself, with or without JavaScript
        session.check(page, language=lang)
    page.goto(f"/facilitate/{DEMO}/monitor?lang=en")
    assert "refreshes itself every 30 seconds" in page.locator("#refresh").inner_text()
    sizes = page.locator("#group-sizes li").all_inner_texts()
    assert len(sizes) >= 2 and all(re.fullmatch(r"Group [A-Z]: \d+ (person|people)", s) for s in sizes)
    assert page.locator("#bucket").inner_text().startswith("Each bar is")
    with page.expect_navigation():
        page.get_by_role("link", name="Stop refreshing").click()
    assert "does not refresh itself" in page.locator("#refresh").inner_text()
    answer = page.reload()
    assert "refresh" not in answer.headers
    session.check(page)


def test_sign_in_from_the_footer_then_an_event_qr_code_and_deleting_a_test_consultation(session):
    app = session.server.app
    _owned(app, "room-event", texts=["Seed for the room", "Another seed"])
    page = session.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/")
    page.locator("footer").get_by_role("link", name="Staff sign-in").click()
    page.locator("#email").fill(FACILITATOR_EMAIL)
    page.locator("#password").fill(FACILITATOR_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))

    for lang in ("en", "cy"):
        page.goto(f"/facilitate/room-event?lang={lang}")
        session.check(page, language=lang)
        qr = page.locator("img.qr")
        assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())
        page.goto(f"/facilitate/room-event/statements?lang={lang}")
        assert page.locator("#current-statements li").count() == 2
        session.check(page, language=lang)
        page.goto(f"/facilitate/room-event/delete?lang={lang}")
        session.check(page, language=lang)

    page.goto("/facilitate/room-event?lang=en")
    short = page.locator("#short-link a").get_attribute("href")
    visitor = session.new_page()
    visitor.goto(short)
    assert visitor.url.endswith("/c/room-event") and visitor.locator("#statement-text").count() == 1

    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Yes, delete it").click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    expect(page.locator("#announcements")).to_contain_text("was deleted")
    assert page.goto("/c/room-event").status == 404


def test_the_audit_log_shows_events_in_words_in_both_languages(session):
    from participate.services import themes

    app = session.server.app
    _owned(app, "audit-words")
    with app.app_context():
        consultation = db.session.scalar(select(Consultation).where(Consultation.slug == "audit-words"))
        owner = db.session.scalar(select(Account).where(Account.email == FACILITATOR_EMAIL))
        themes.set_group_names(db.session, owner, consultation, {"A": "Cautious"})
        db.session.remove()
    page = _sign_in(session)
    page.goto("/facilitate/audit-words/audit?lang=en")
    assert "Opinion group names changed" in page.locator("main").inner_text()
    assert "group_names_changed" not in page.locator("main").inner_text()
    session.check(page)
    page.goto("/facilitate/audit-words/audit?lang=cy")
    assert "Newidiwyd enwau'r grwpiau barn" in page.locator("main").inner_text()
    session.check(page, language="cy")
