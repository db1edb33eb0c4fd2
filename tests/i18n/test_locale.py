"""The interface language: ?lang= (remembered in a cookie), then the cookie, then Accept-Language; English otherwise."""

import re

import pytest
from flask_babel import refresh


def lang_of(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.text).group(1)


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("", None, None, "en"),
        ("", None, "cy-GB,cy;q=0.9,en;q=0.5", "cy"),
        ("", None, "fr, en;q=0.5", "en"),
        ("", "cy", "en", "cy"),
        ("", "en", "cy", "en"),
        ("?lang=cy", "en", "en", "cy"),
        ("?lang=en", "cy", "cy", "en"),
        ("?lang=xx", None, "cy", "cy"),
    ],
)
def test_language_choice(client, query, cookie, accept, expected):
    if cookie:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/" + query, headers=headers)
    assert response.status_code == 200
    assert lang_of(response) == expected
    assert "Accept-Language" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]


def test_a_chosen_language_is_remembered(client):
    response = client.get("/?lang=cy")
    assert "lang=cy" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    later = client.get("/login", headers={"Accept-Language": "en"})
    assert lang_of(later) == "cy"
    assert "Mewngofnodi" in later.text
    again = client.get("/?lang=cy").headers.getlist("Set-Cookie")
    assert not [c for c in again if c.startswith("lang=")], "set once"


def test_every_page_has_a_switcher_that_keeps_the_address(client, make_consultation):
    make_consultation("sw")
    html = client.get("/c/sw/mine?x=1&lang=cy").text
    assert 'href="/c/sw/mine?x=1&amp;lang=en" lang="en" hreflang="en">English</a>' in html
    assert 'lang="cy" hreflang="cy" aria-current="true">Cymraeg</a>' in html


def test_welsh_vote_page_and_messages(client, make_consultation):
    make_consultation("cy-test", statements=("Statement stays as written",))
    page = client.get("/c/cy-test?lang=cy").text
    assert "Cytuno" in page and "Anghytuno" in page and "Pasio / Ansicr" in page
    assert "Statement stays as written" in page
    statement_id = int(re.search(r'name="statement_id" value="(\d+)"', page).group(1))
    response = client.post_form(
        "/c/cy-test/vote", {"statement_id": statement_id, "vote": "agree"}, follow_redirects=True
    )
    assert "Mae eich pleidlais wedi&#39;i chofnodi." in response.text


def test_service_errors_in_welsh(client, make_consultation):
    make_consultation("cy-errors")
    client.get("/c/cy-errors?lang=cy")
    page = client.post_form("/c/cy-errors/statements", {"text": "x" * 2000})
    assert page.status_code == 400
    assert "Mae&#39;r datganiad yn 2000 nod o hyd" in page.text
    api = client.post_json("/api/v1/consultations/cy-errors/votes", {"statement_id": 999999, "vote": "agree"})
    assert api.status_code == 404
    assert api.get_json()["error"]["message"] == "Does dim datganiad o'r fath yn yr ymgynghoriad hwn."
    refresh()  # the fixture's app context outlives requests, and Flask-Babel caches the locale on it
    english = client.post_json(
        "/api/v1/consultations/cy-errors/votes?lang=en", {"statement_id": 999999, "vote": "agree"}
    )
    assert english.get_json()["error"]["message"] == "There is no such statement in this consultation."
