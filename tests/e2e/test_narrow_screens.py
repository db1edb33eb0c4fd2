"""Narrow phones (360-390 CSS pixels): every control fits on screen and every label fits inside its control."""

import re

import pytest

from .conftest import FACILITATOR_EMAIL, FACILITATOR_PASSWORD, SAMPLE

OVERFLOWING = """(selector) => Array.from(document.querySelectorAll(selector)).filter((el) => {
    const box = el.getBoundingClientRect();
    const inside = Array.from(el.querySelectorAll('*')).every((child) => {
        const c = child.getBoundingClientRect();
        return c.width === 0 || (c.left >= box.left - 0.5 && c.right <= box.right + 0.5);
    });
    return el.scrollWidth > el.clientWidth + 1 || !inside;
}).map((el) => el.textContent.trim())"""

OFF_SCREEN = """(selector) => Array.from(document.querySelectorAll(selector)).filter((el) => {
    const box = el.getBoundingClientRect();
    return box.left < 0 || box.right > document.documentElement.clientWidth;
}).map((el) => el.textContent.trim())"""


@pytest.mark.parametrize("width", [360, 375, 390])
@pytest.mark.parametrize("lang", ["cy", "en"])
def test_vote_buttons_hold_their_labels(session, width, lang):
    page = session.new_page(viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True, lang=lang)
    page.goto(f"/c/{SAMPLE}?lang={lang}")
    assert page.locator('button[name="vote"]').count() == 3
    assert page.evaluate(OVERFLOWING, 'button[name="vote"]') == []
    for button in page.locator('button[name="vote"]').all():
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
    session.check(page, language=lang)


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_the_staff_header_fits_a_phone(session, lang):
    page = session.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, lang=lang)
    page.goto(f"/login?lang={lang}")
    page.locator("#email").fill(FACILITATOR_EMAIL)
    page.locator("#password").fill(FACILITATOR_PASSWORD)
    page.locator("form.stack button[type=submit], main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    links = ".site-header a, .site-header button"
    assert page.locator(links).count() >= 6  # brand, three pages, Password, Sign out (and the languages)
    assert page.evaluate(OFF_SCREEN, links) == []
    session.check(page, language=lang)
