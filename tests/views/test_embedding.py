"""Embedding: a cross-site frame that cannot keep cookies gets a new-tab link; staff are told what embedding needs."""

import pytest

CROSS_SITE_FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}


def test_a_cross_site_frame_without_embed_cookies_offers_a_new_tab(client, make_consultation):
    make_consultation()
    html = client.get("/c/test?xid=abc", headers=CROSS_SITE_FRAME).text
    assert 'href="/c/test?xid=abc" target="_blank" rel="noopener"' in html
    assert 'name="vote"' not in html and "vote-form" not in html


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["no headers", "own site's frame", "link from another site"],
)
def test_other_visits_get_the_voting_page(client, make_consultation, headers):
    make_consultation()
    assert 'id="vote-form"' in client.get("/c/test", headers=headers).text


def test_with_embed_cookies_over_https_the_frame_votes(app, client, make_consultation):
    app.config.update(EMBED_COOKIES=True, PREFERRED_URL_SCHEME="https")
    make_consultation()
    assert 'id="vote-form"' in client.get("/c/test", headers=CROSS_SITE_FRAME).text


@pytest.mark.parametrize("on", [False, True])
def test_the_share_section_says_what_embedding_needs(app, client, login, on):
    from participate.extensions import db
    from participate.services import consultations

    owner = login(client, "facilitator")
    consultations.create(db.session, owner, {"title": "T", "question": "Q?", "slug": "t"})
    app.config.update(EMBED_COOKIES=on, PREFERRED_URL_SCHEME="https" if on else "http")
    html = client.get("/facilitate/t").text
    assert "PARTICIPATE_EMBED_COOKIES" in html and "HTTPS" in html
    assert ("Embedding works here" in html) is on
