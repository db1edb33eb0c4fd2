"""A citizen's journey in a real browser: vote on ten statements, change a vote, add a statement.

With the keyboard alone (with and without JavaScript), and on a phone-sized screen; axe-core on every page.
"""

import re

import pytest
from playwright.sync_api import expect

from .conftest import SAMPLE, focused_is_visible, no_horizontal_scroll, tab_to

VOTES = ("agree", "disagree", "pass")


def statement(page) -> str:
    return page.locator("#statement-text").inner_text()


def announcement(page) -> str:
    return page.locator("#announcements").inner_text()


def skip_link(page):
    """The first Tab shows the skip link; following it puts focus on the main content."""
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    assert focused_is_visible(page)
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the focused skip link is on screen"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main'", timeout=5_000)


def vote_by_keyboard(session, page, count: int, *, javascript: bool) -> list[str]:
    """Vote on ``count`` statements with the keyboard; returns the statements voted on, in order."""
    seen = []
    for i in range(count):
        text = statement(page)
        seen.append(text)
        value = VOTES[i % 3]
        if javascript and i % 2 == 0:
            page.keyboard.press(value[0].upper() if i % 4 == 0 else value[0])  # shortcut keys A / D / P
        else:
            tab_to(page, f'button[name="vote"][value="{value}"]')
            assert focused_is_visible(page)
            key = "Enter" if i % 3 else "Space"
            if javascript:
                page.keyboard.press(key)
            else:
                with page.expect_navigation():
                    page.keyboard.press(key)
        if javascript:
            page.wait_for_function("(t) => document.getElementById('statement-text').innerText !== t", arg=text)
            # Focus moves to the new statement, and the live region says the vote was recorded.
            assert page.evaluate("() => document.activeElement.id") == "statement-text"
            page.wait_for_function("() => /recorded/.test(document.getElementById('announcements').innerText)")
        else:
            assert "Your vote was recorded." in announcement(page)
            assert statement(page) != text
        if i == 0:
            session.check(page)
    return seen


def review_and_change(session, page, voted: list[str], *, javascript: bool):
    """ "My votes" lists every vote; changing one (keyboard only) keeps the list and updates that vote."""
    tab_to(page, "nav.subnav a[href$='/mine']")
    with page.expect_navigation(url=re.compile(r"/mine$")):
        page.keyboard.press("Enter")
    session.check(page)
    items = page.locator("ol.my-votes > li")
    expect(items).to_have_count(len(voted))
    assert set(items.locator(".statement-text").all_inner_texts()) == set(voted)
    first = items.nth(0)
    assert "Agree" in first.locator(".current-vote").inner_text()
    item_id = first.get_attribute("id")
    tab_to(page, f"#{item_id} button[value='disagree']")
    with page.expect_navigation(url=re.compile(rf"/mine#{item_id}$")):
        page.keyboard.press("Enter")
    changed = page.locator(f"#{item_id}")
    assert "Disagree" in changed.locator(".current-vote").inner_text()
    assert changed.locator("button[value='disagree']").get_attribute("aria-pressed") == "true"
    assert "Your vote was recorded." in announcement(page)
    expect(page.locator("ol.my-votes > li")).to_have_count(len(voted))
    session.check(page)


def add_statement(session, page, text: str):
    tab_to(page, "nav.subnav a[href$='/c/" + SAMPLE + "']")
    with page.expect_navigation(url=re.compile(rf"/c/{SAMPLE}$")):
        page.keyboard.press("Enter")
    tab_to(page, "textarea#text")
    page.keyboard.type(text)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "submit"
    with page.expect_navigation(url=re.compile(rf"/c/{SAMPLE}$")):
        page.keyboard.press("Enter")
    assert "Your statement was added" in announcement(page)
    session.check(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_citizen_with_the_keyboard_only(session, javascript):
    page = session.new_page(java_script_enabled=javascript)
    page.goto(f"/c/{SAMPLE}")
    session.check(page)
    # The A / D / P shortcuts come with the script: only then are they offered, on screen and to screen readers.
    assert page.get_by_text("Keyboard: A agree, D disagree, P pass.").is_visible() == javascript
    assert (page.locator('button[value="agree"]').get_attribute("aria-keyshortcuts") == "a") == javascript
    skip_link(page)
    voted = vote_by_keyboard(session, page, 10, javascript=javascript)
    assert len(set(voted)) == 10
    review_and_change(session, page, voted, javascript=javascript)
    add_statement(session, page, f"Keyboard users ({'with' if javascript else 'without'} scripts) add statements too.")


def test_citizen_on_a_phone(session):
    page = session.new_page(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page.goto(f"/c/{SAMPLE}")
    session.check(page)
    for name in ("agree", "disagree", "pass"):
        box = page.locator(f'button[name="vote"][value="{name}"]').bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, f"{name} is a comfortable touch target"
    voted = []
    for i in range(10):
        text = statement(page)
        voted.append(text)
        page.locator(f'button[name="vote"][value="{VOTES[i % 3]}"]').tap()
        page.wait_for_function("(t) => document.getElementById('statement-text').innerText !== t", arg=text)
    assert no_horizontal_scroll(page)
    with page.expect_navigation(url=re.compile(r"/mine$")):
        page.get_by_role("link", name="My votes").tap()
    expect(page.locator("ol.my-votes > li")).to_have_count(10)
    session.check(page)
    item_id = page.locator("ol.my-votes > li").nth(0).get_attribute("id")
    with page.expect_navigation():
        page.locator(f"#{item_id} button[value='pass']").tap()
    assert "Pass" in page.locator(f"#{item_id} .current-vote").inner_text()
    page.get_by_role("link", name="Vote", exact=True).tap()
    page.locator("textarea#text").fill("Phones are how most people will take part.")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit statement").tap()
    assert "Your statement was added" in announcement(page)
    session.check(page)


def test_a_failed_vote_is_kept_and_retried(session):
    """The first POST fails at the network level: the person is told, the vote is retried and recorded."""
    page = session.new_page()
    failures = []

    def fail_once(route):
        if not failures:
            failures.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/v1/consultations/*/votes", fail_once)
    page.goto(f"/c/{SAMPLE}")
    text = statement(page)
    page.keyboard.press("a")
    page.wait_for_function("() => /not been sent yet/.test(document.getElementById('announcements').innerText)")
    assert statement(page) == text, "the statement stays until its vote is sent"
    assert page.evaluate("() => sessionStorage.length") == 1, "the pending vote is kept"
    page.wait_for_function("(t) => document.getElementById('statement-text').innerText !== t", arg=text)
    page.wait_for_function("() => /recorded/.test(document.getElementById('announcements').innerText)")
    assert failures
    page.goto(f"/c/{SAMPLE}/mine")
    assert page.locator("ol.my-votes > li .statement-text").all_inner_texts() == [text]
    assert "Agree" in page.locator("ol.my-votes .current-vote").inner_text()


def test_zoom_200_percent_and_reduced_motion(session):
    """1280 CSS pixels at 200% zoom is a 640-pixel viewport: no horizontal scrolling; no motion when asked."""
    page = session.new_page(viewport={"width": 640, "height": 800}, device_scale_factor=2, reduced_motion="reduce")
    for path in (f"/c/{SAMPLE}", "/", f"/c/{SAMPLE}/mine"):
        page.goto(path)
        assert no_horizontal_scroll(page), path
    page.goto(f"/c/{SAMPLE}")
    page.keyboard.press("p")
    page.wait_for_function("() => /recorded/.test(document.getElementById('announcements').innerText)")
    assert page.evaluate("() => document.getAnimations().length") == 0
    duration = page.evaluate("() => getComputedStyle(document.querySelector('.btn')).transitionDuration")
    assert duration in ("0s", "")
