"""The PDF is built in the background when a report is published, so its first download comes from the cache."""

import re

from participate.extensions import db
from participate.models import Role
from participate.services import accounts

from .conftest import DEMO

EMAIL = "pdf-admin@example.org"
PASSWORD = "correct horse battery staple"


def test_a_pdf_downloaded_right_after_publishing_comes_from_the_cache(session, monkeypatch):
    monkeypatch.setitem(session.server.app.config, "PDF_PREBUILD", True)  # the browser tests' server has it off
    with session.server.app.app_context():
        accounts.create(db.session, EMAIL, PASSWORD, Role.ADMIN)
        db.session.remove()
    page = session.new_page()
    page.goto("/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/facilitate/?$"))

    page.goto(f"/c/{DEMO}/report")
    # The server's runner is "sync": the PDF job runs before the publication answers (in production, a thread or a
    # worker builds it meanwhile).
    page.locator("form.publish-form button").click(timeout=180_000)
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+$"), timeout=180_000)
    session.check(page)

    pdf_url = re.compile(r"/r/[A-Za-z0-9_-]+\.pdf$")
    # No build on the way: the cache header says where the bytes came from (the time allowed is not the test).
    with page.expect_response(pdf_url) as answer, page.expect_download(timeout=60_000) as info:
        page.get_by_role("link", name="PDF", exact=True).click()
    assert answer.value.status == 200 and answer.value.headers["x-participate-cache"] == "hit"
    assert info.value.path().read_bytes()[:5] == b"%PDF-"
