"""The citizen's pages, driven like a browser: GET a page, POST its form with the CSRF token."""

import re

from sqlalchemy import func, select

from participate.extensions import db
from participate.models import CurrentVote, ModerationMode, Statement, Vote
from tests.conftest import page_csrf


def _shown_statement(html: str) -> int:
    return int(re.search(r'name="statement_id" value="(\d+)"', html).group(1))


def test_home_lists_open_consultations_with_participation(client, make_consultation):
    make_consultation("open-one")
    make_consultation("draft-one", status="draft")
    make_consultation("closed-one", status="closed")
    html = client.get("/").text
    assert "Title open-one" in html and "Question open-one?" in html
    assert "0 people have taken part" in html
    assert "draft-one" not in html and "closed-one" not in html


def test_vote_through_every_statement_then_thanks(client, make_consultation):
    make_consultation()
    seen = set()
    for left in (3, 2, 1):
        page = client.get("/c/test")
        assert f"{left} statement" in page.text and "left" in page.text
        sid = _shown_statement(page.text)
        assert sid not in seen
        seen.add(sid)
        response = client.post(
            "/c/test/vote", data={"csrf_token": page_csrf(page.text), "statement_id": sid, "vote": "agree"}
        )
        assert response.status_code == 302 and response.headers["Location"] == "/c/test#statement-text"
    done = client.get("/c/test")
    assert "Thank you for taking part" in done.text
    assert db.session.scalar(select(func.count()).select_from(CurrentVote)) == 3


def test_vote_without_csrf_token_is_refused_and_not_stored(client, make_consultation):
    consultation = make_consultation()
    client.get("/c/test")
    response = client.post("/c/test/vote", data={"statement_id": consultation.statements[0].id, "vote": "agree"})
    assert response.status_code == 400
    assert "reload the page" in response.text
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_unknown_vote_value_is_a_clear_400(client, make_consultation):
    consultation = make_consultation()
    response = client.post_form("/c/test/vote", {"statement_id": consultation.statements[0].id, "vote": "maybe"})
    assert response.status_code == 400
    assert "agree, disagree or pass" in response.text


def test_closed_consultation_shows_closed_and_refuses_votes_with_409(client, make_consultation):
    consultation = make_consultation(status="closed")
    page = client.get("/c/test")
    assert page.status_code == 200 and "This consultation is closed" in page.text
    response = client.post_form("/c/test/vote", {"statement_id": consultation.statements[0].id, "vote": "agree"})
    assert response.status_code == 409
    assert "closed" in response.text


def test_draft_and_unknown_consultations_are_404(client, make_consultation):
    make_consultation(status="draft")
    assert client.get("/c/test").status_code == 404
    assert client.get("/c/nope").status_code == 404


def test_add_statement_pre_moderation_tells_the_author(client, make_consultation):
    make_consultation(moderation=ModerationMode.PRE)
    response = client.post_form("/c/test/statements", {"text": "  Please   consider this "}, follow_redirects=True)
    assert "once a moderator has approved it" in response.text
    statement = db.session.scalar(select(Statement).where(Statement.text == "Please consider this"))
    assert statement.moderation.value == "pending"


def test_add_statement_errors_are_shown_in_the_form(client, make_consultation):
    make_consultation()
    too_long = client.post_form("/c/test/statements", {"text": "z" * 300})
    assert too_long.status_code == 400
    assert "the limit is 280" in too_long.text and 'aria-invalid="true"' in too_long.text
    duplicate = client.post_form("/c/test/statements", {"text": "seed ONE"})
    assert duplicate.status_code == 409
    assert "already been submitted to this consultation" in duplicate.text
    empty = client.post_form("/c/test/statements", {"text": ""})
    assert empty.status_code == 400


def test_statement_text_is_escaped(client, make_consultation):
    make_consultation(statements=[])
    client.post_form("/c/test/statements", {"text": "<img src=x onerror=alert(1)>"})
    html = client.get("/c/test/mine").text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_my_votes_shows_and_changes_votes(client, other_client, make_consultation):
    consultation = make_consultation()
    first = consultation.statements[0].id
    client.get("/c/test")
    client.post_form("/c/test/vote", {"statement_id": first, "vote": "agree"})
    page = client.get("/c/test/mine")
    assert "You have voted on 1 statement." in page.text
    assert 'value="agree" class="btn btn-small btn-agree"\n          aria-pressed="true"' in page.text
    changed = client.post_form("/c/test/vote", {"statement_id": first, "vote": "disagree", "return_to": "mine"})
    assert changed.headers["Location"] == f"/c/test/mine#statement-{first}"
    assert db.session.scalar(select(CurrentVote.value)) == -1
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 2
    other = other_client.get("/c/test/mine").text
    assert "You have not voted" in other, other


def test_participant_cookie_is_signed_httponly_and_lax(client, make_consultation):
    make_consultation()
    response = client.get("/c/test")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("participant=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    again = client.get("/c/test")
    assert "participant=" not in again.headers.get("Set-Cookie", "")


def test_tampered_cookie_gives_a_new_identity(client, make_consultation):
    consultation = make_consultation()
    client.set_cookie("participant", "forged-value")
    client.post_form("/c/test/vote", {"statement_id": consultation.statements[0].id, "vote": "pass"})
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1
