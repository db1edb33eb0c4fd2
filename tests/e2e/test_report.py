"""The report in a real browser: the brief first, the annex folded (works without scripts), a 360 px phone."""

from .conftest import DEMO


def open_every_section(page):
    for summary in page.locator("details.fold > summary").all():
        summary.click()
    assert page.locator("details.fold:not([open])").count() == 0


def test_report_on_a_360_px_phone_has_no_sideways_scroll_with_every_section_open(session):
    page = session.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(f"/c/{DEMO}/report")
    session.check(page)  # axe: nothing serious; no horizontal scrolling
    headings = page.locator("h2").all_inner_texts()
    assert headings.index("In brief") < headings.index("Details and methods"), "the brief comes first"
    assert page.locator("details.fold[open]").count() == 0, "the annex starts folded"
    open_every_section(page)
    session.check(page)
    regions = page.locator(".table-wrap").all()
    assert regions
    for region in regions:  # wide tables scroll inside their own box, which a keyboard can reach and names itself
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
        assert region.get_attribute("aria-label")


def test_the_annex_folds_and_opens_without_javascript(session):
    page = session.new_page(java_script_enabled=False)
    page.goto(f"/c/{DEMO}/report")
    method = page.locator("details.fold", has=page.locator("#method-heading"))
    assert not method.locator("ul").first.is_visible()
    page.locator("#method-heading").click()
    assert method.locator("ul").first.is_visible()
    session.check(page)
