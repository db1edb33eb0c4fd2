"""A facilitator's and a policymaker's journeys in a real browser, with axe-core on every page."""

import io
import re
import zipfile

from playwright.sync_api import expect

from .conftest import DEMO, FACILITATOR_EMAIL, FACILITATOR_PASSWORD

SEEDS = [
    "Councils should publish every algorithm they use.",
    "Public money for AI should come with open code.",
    "An AI system that decides benefits needs a human appeal.",
    "Councils should publish every algorithm they use.",  # a repeat: refused
    "",
    "Procurement should favour open models.",
]


def test_facilitator_creates_opens_moderates_and_exports(session):
    page = session.new_page()
    page.goto("/login")
    session.check(page)
    page.get_by_label("Email address").fill(FACILITATOR_EMAIL)
    page.get_by_label("Password").fill(FACILITATOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    session.check(page)

    with page.expect_navigation():
        page.get_by_role("link", name="New consultation").click()
    session.check(page)
    page.get_by_label("Title").fill("Browser test consultation")
    page.get_by_label("Question", exact=True).fill("How should councils use AI?")
    page.get_by_label("Web address").fill("browser-test")
    page.get_by_label("Moderation", exact=True).select_option("pre")
    page.get_by_role("button", name="Create the consultation").click()
    page.wait_for_url(re.compile(r"/facilitate/browser-test$"))
    expect(page.locator("#announcements")).to_contain_text("created as a draft")
    session.check(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Seed statements").click()
    session.check(page)
    page.get_by_label("Statements, one per line").fill("\n".join(SEEDS))
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    expect(page.locator("p[role=status]")).to_contain_text("4 will be added, 1 will be refused.")
    session.check(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Add the valid ones").click()
    session.check(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Overview").click()
    with page.expect_navigation(url=re.compile(r"/facilitate/browser-test$")):
        page.get_by_role("button", name="Open now").click()
    expect(page.locator(".status").first).to_have_text(re.compile(r"^\s*open\s*$", re.IGNORECASE))

    citizen = session.new_page()
    citizen.goto("/c/browser-test")
    assert citizen.locator("#statement-text").inner_text() in SEEDS
    citizen.get_by_label("Your statement").fill("Every council should have an AI register.")
    citizen.get_by_role("button", name="Submit statement").click()
    expect(citizen.locator("#announcements")).to_contain_text("once a moderator has approved it")

    with page.expect_navigation():
        page.get_by_role("link", name="Moderation", exact=True).click()
    session.check(page)
    item = page.locator("li.queue-item", has_text="Every council should have an AI register.")
    with page.expect_navigation():
        item.get_by_role("button", name=re.compile(r"^Accept")).click()
    expect(page.locator("li.queue-item", has_text="Every council should have an AI register.")).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"^Accepted")).click()
    page.wait_for_url(re.compile(r"state=accepted"))
    expect(page.locator("li.queue-item", has_text="Every council should have an AI register.")).to_have_count(1)
    session.check(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Monitor").click()
    session.check(page)

    page.get_by_role("link", name="Overview").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download Pol.is export (.zip)").click()
    with zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes())) as archive:
        names = archive.namelist()
        comments = archive.read(next(n for n in names if n.endswith("comments.csv"))).decode()
    assert any(name.endswith("consultation.json") for name in names)
    assert "Every council should have an AI register." in comments
    assert "Procurement should favour open models." in comments


def test_policymaker_reads_sorts_and_downloads_the_report(session):
    page = session.new_page()
    page.goto("/reports")
    session.check(page)
    with page.expect_navigation(url=re.compile(rf"/c/{DEMO}/report")):
        page.locator(f"a[href*='/c/{DEMO}/report']").first.click()
    session.check(page)

    page.locator("#statements-heading").click()  # the statements table is folded in the annex
    page.get_by_label("Sort by").select_option("votes")
    with page.expect_navigation(url=re.compile(r"sort=votes")):
        page.get_by_role("button", name="Show").click()
    session.check(page)
    votes = [int(v) for v in page.locator("table.statements tbody td.num:nth-of-type(1)").all_inner_texts()]
    assert len(votes) > 10
    assert votes == sorted(votes, reverse=True)

    with page.expect_download(timeout=60_000) as info:  # a first PDF build takes seconds
        page.get_by_role("link", name="PDF", exact=True).click(timeout=60_000)
    assert info.value.suggested_filename.endswith(".pdf")
    assert info.value.path().read_bytes()[:5] == b"%PDF-"


def test_a_consultation_is_created_from_the_empty_form_by_typing(session):
    """Every field starts empty: typed text is all there is, the browser lets the form through, set-up shows it."""
    page = session.new_page()
    page.goto("/login")
    page.get_by_label("Email address").press_sequentially(FACILITATOR_EMAIL)
    page.get_by_label("Password").press_sequentially(FACILITATOR_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    with page.expect_navigation():
        page.get_by_role("link", name="New consultation").click()
    session.check(page)
    for field in ("Title", "Web address", "Description", "How participants were recruited"):
        assert page.get_by_label(field).input_value() == "", field
    page.get_by_label("Title").press_sequentially("Typed by hand")
    page.get_by_label("Question", exact=True).press_sequentially("Does the empty form work?")
    page.get_by_label("Description").press_sequentially("Written in the *form*.")
    page.get_by_role("button", name="Create the consultation").click()
    page.wait_for_url(re.compile(r"/facilitate/typed-by-hand$"))
    expect(page.locator("#announcements")).to_contain_text("created as a draft")
    assert page.get_by_role("heading", level=1).inner_text() == "Does the empty form work?"
    assert page.locator(".status").first.inner_text().lower() == "draft"
    assert page.locator(".rendered em").inner_text() == "form"
    session.check(page)
