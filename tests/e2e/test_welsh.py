"""The interface in Welsh: chosen by Accept-Language, the switcher (a cookie) or ?lang=; no English left on the
pages a citizen and a policymaker visit; the report and its PDF in Welsh too. Statements stay as written."""

import io
import re

from pypdf import PdfReader

from .conftest import DEMO, FACILITATOR_EMAIL, FACILITATOR_PASSWORD, SAMPLE
from .welsh import check_welsh, english_left


def test_welsh_citizen_and_report(session):
    page = session.new_page(lang="cy-GB")  # the browser asks for Welsh (Accept-Language)
    page.goto("/")
    check_welsh(session, page)
    assert page.get_by_role("heading", level=1).inner_text() == "Dweud eich dweud"

    # The switcher names each language in itself; choosing English is remembered (a cookie) over Accept-Language.
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"/c/{SAMPLE}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "This consultation" in english_left(page), "the check itself finds English interface text"
    with page.expect_navigation(url=re.compile(r"lang=cy")):
        page.get_by_role("link", name="Cymraeg").click()
    check_welsh(session, page)

    text = page.locator("#statement-text").inner_text()
    page.keyboard.press("a")
    page.wait_for_function("(t) => document.getElementById('statement-text').innerText !== t", arg=text)
    page.wait_for_function("() => /Cytuno.*wedi'i chofnodi/.test(document.getElementById('announcements').innerText)")
    check_welsh(session, page)
    assert re.fullmatch(r"\d+ datganiad ar ôl", page.locator("#remaining").inner_text())

    with page.expect_navigation():
        page.get_by_role("link", name="Fy mhleidleisiau").click()
    check_welsh(session, page)
    assert page.locator("ol.my-votes .statement-text").inner_text() == text, "statements stay as written"

    page.goto(f"/c/{DEMO}/report")
    check_welsh(session, page)
    page.locator("#statements-heading").click()  # the statements table is folded in the annex
    page.get_by_label("Trefnu yn ôl").select_option("agree")
    with page.expect_navigation(url=re.compile(r"sort=agree")):
        page.get_by_role("button", name="Dangos").click()
    check_welsh(session, page)
    with page.expect_download(timeout=60_000) as info:  # a first PDF build takes seconds
        page.get_by_role("link", name="PDF", exact=True).click(timeout=60_000)
    pdf = PdfReader(io.BytesIO(info.value.path().read_bytes()))
    words = " ".join(p.extract_text() for p in pdf.pages[:2])
    assert "Ymgynghoriad" in words and "Yn gryno" in words, "the PDF is in Welsh too"

    for path in ("/reports", "/login", f"/c/{DEMO}", "/no-such-page"):
        page.goto(path)
        check_welsh(session, page)


def test_welsh_staff_pages(session):
    page = session.new_page(lang="cy")
    page.goto("/login")
    check_welsh(session, page)
    page.get_by_label("Cyfeiriad e-bost").fill(FACILITATOR_EMAIL)
    page.get_by_label("Cyfrinair").fill(FACILITATOR_PASSWORD)
    page.get_by_role("button", name="Mewngofnodi").click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))
    page.goto("/facilitate/new")
    page.get_by_label("Teitl").fill("Ymgynghoriad prawf")
    page.get_by_label("Cwestiwn", exact=True).fill("Sut dylai cynghorau ddefnyddio AI?")
    page.get_by_label("Cyfeiriad gwe").fill("prawf-cy")
    page.get_by_role("button", name="Creu'r ymgynghoriad").click()
    page.wait_for_url(re.compile(r"/facilitate/prawf-cy$"))
    for path in (
        "",
        "/settings",
        "/statements",
        "/moderate",
        "/moderation-log",
        "/monitor",
        "/moderators",
        "/eligibility",
        "/audit",
    ):
        page.goto(f"/facilitate/prawf-cy{path}")
        check_welsh(session, page)
    for path in ("/facilitate/", "/facilitate/import", "/account/password", f"/c/{SAMPLE}/report"):
        page.goto(path)
        check_welsh(session, page)
