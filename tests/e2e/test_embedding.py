"""The consultation inside another site's iframe: a vote that fails never looks recorded, and where the browser
cannot keep this site's cookies the frame offers the consultation in a new tab instead of failing silently."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from .conftest import SAMPLE

SESSION_EXPIRED = {
    "error": {
        "code": "bad_request",
        "message": "Your session has expired or the form is out of date. Please reload the page and try again.",
    }
}


def host_page(src: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><title>Host</title><iframe src="{src}" title="Consultation" width="380" '
        'height="700"></iframe></html>'
    ).encode()


@pytest.fixture(scope="module")
def other_site():
    """Another website, really served from 127.0.0.2 (another site than the server's 127.0.0.1; both loopback, so
    Chromium's local-network checks let the frame load): ``/host?src=...`` embeds ``src`` in an iframe."""

    class Host(BaseHTTPRequestHandler):
        def do_GET(self):
            body = host_page(parse_qs(urlparse(self.path).query)["src"][0])
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http = ThreadingHTTPServer(("127.0.0.2", 0), Host)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{http.server_port}"
    http.shutdown()
    http.server_close()
    thread.join(10)


def host(page, origin: str, src: str):
    """A page of the website at ``origin`` that embeds ``src``; its iframe."""
    if origin.startswith("http://127.0.0.2"):
        page.goto(f"{origin}/host?{urlencode({'src': src})}")
    else:  # this site itself: the browser serves the host page
        page.route(f"{origin}/host.html", lambda route: route.fulfill(body=host_page(src), content_type="text/html"))
        page.goto(f"{origin}/host.html")
    return page.frame_locator("iframe")


def test_a_cross_site_frame_without_cookies_offers_a_new_tab(session, other_site):
    page = session.new_page()
    # SameSite=Lax cookies are not sent to the frame: no vote could be kept there.
    frame = host(page, other_site, f"{session.server.url}/c/{SAMPLE}?xid=person-7")
    link = frame.get_by_role("link", name="Open the consultation in a new tab")
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("href").endswith(f"/c/{SAMPLE}?xid=person-7")
    assert frame.locator("button[name=vote]").count() == 0, "no vote button that could only fail"
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.locator("button[name=vote]").count() == 3
    session.check(tab)


def test_a_refused_embedded_vote_keeps_the_statement_and_says_so(session):
    page = session.new_page()
    refused = []

    def expire(route):
        refused.append(route.request.url)
        route.fulfill(status=400, body=json.dumps(SESSION_EXPIRED), content_type="application/json")

    page.route("**/api/v1/consultations/*/votes", expire)
    frame = host(page, session.server.url, f"/c/{SAMPLE}")
    text = frame.locator("#statement-text").inner_text()
    frame.locator("button[value=agree]").click()
    alert = frame.locator("#announcements .flash-error")
    alert.wait_for()
    assert "could not be recorded" in alert.inner_text()
    assert "still here" in alert.inner_text()
    assert len(refused) == 2, "one retry with a fresh token, then the refusal is shown"
    assert frame.locator("#statement-text").inner_text() == text, "the statement stays: nothing was recorded"
    assert frame.get_by_role("link", name="Open the consultation in a new tab").get_attribute("target") == "_blank"
    # The person tries again once the problem is gone: this time the vote is recorded and the next statement shows.
    page.unroute("**/api/v1/consultations/*/votes")
    frame.locator("button[value=disagree]").click()
    frame.locator("#announcements", has_text=re.compile("recorded")).wait_for()
    assert frame.locator("#statement-text").inner_text() != text


def test_a_refused_vote_on_the_page_itself_keeps_the_statement(session):
    page = session.new_page()
    page.route(
        "**/api/v1/consultations/*/votes",
        lambda route: route.fulfill(
            status=403,
            content_type="application/json",
            body=json.dumps({"error": {"code": "forbidden", "message": "You cannot take part in this consultation."}}),
        ),
    )
    page.goto(f"/c/{SAMPLE}")
    text = page.locator("#statement-text").inner_text()
    page.keyboard.press("d")
    page.locator("#announcements .flash-error").wait_for()
    assert "You cannot take part" in page.locator("#announcements").inner_text()
    assert page.locator("#statement-text").inner_text() == text
    assert page.get_by_role("link", name="Open the consultation in a new tab").count() == 0, "not embedded"
    assert page.evaluate("() => document.activeElement.id") == "statement-text"
    session.check(page)
