"""The JSON API: every success and error case named in the contract."""

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import CurrentVote, Statement, Vote


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_list_consultations(client, make_consultation):
    make_consultation()
    make_consultation("hidden", status="draft")
    assert client.get("/api/v1/consultations").get_json() == [
        {
            "slug": "test",
            "title": "Title test",
            "question": "Question test?",
            "status": "open",
            "participants": 0,
            "statements": 3,
        }
    ]


def test_next_then_vote_until_none_left(client, make_consultation):
    make_consultation()
    for remaining in (3, 2, 1):
        body = client.get("/api/v1/consultations/test/next").get_json()
        assert body["remaining"] == remaining
        response = client.post_json(
            "/api/v1/consultations/test/votes", {"statement_id": body["statement"]["id"], "vote": "disagree"}
        )
        assert response.status_code == 201
        assert response.get_json()["vote"] == "disagree" and response.get_json()["value"] == -1
    assert client.get("/api/v1/consultations/test/next").get_json() == {"statement": None, "remaining": 0}
    assert client.get("/api/v1/consultations/test").status_code == 404


def test_each_vote_answer_carries_the_next_statement(client, make_consultation):
    make_consultation()
    shown = client.get("/api/v1/consultations/test/next").get_json()
    seen = []
    while shown["statement"] is not None:
        seen.append(shown["statement"]["id"])
        response = client.post_json(
            "/api/v1/consultations/test/votes", {"statement_id": shown["statement"]["id"], "vote": "agree"}
        )
        assert response.status_code == 201
        shown = response.get_json()["next"]
        assert shown["remaining"] == 3 - len(seen)
        if shown["statement"] is not None:
            text = db.session.get(Statement, shown["statement"]["id"]).text
            assert shown["statement"]["text"] == text and shown["statement"]["id"] not in seen
    assert len(seen) == 3 and shown == {"statement": None, "remaining": 0}
    assert _count(Vote) == 3


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "invalid"),
        ([1, 2], 400, "invalid"),
        ({"vote": "agree"}, 400, "invalid"),
        ({"statement_id": "FIRST", "vote": "love"}, 400, "invalid"),
        ({"statement_id": "FIRST"}, 400, "invalid"),
        ({"statement_id": "1", "vote": "agree"}, 400, "invalid"),
        ({"statement_id": 999999, "vote": "agree"}, 404, "not_found"),
        ({"statement_id": "OTHER", "vote": "agree"}, 404, "not_found"),
    ],
)
def test_vote_errors(client, make_consultation, body, status, code):
    first = make_consultation().statements[0].id
    other = make_consultation("other").statements[0].id
    if isinstance(body, dict) and body.get("statement_id") in ("FIRST", "OTHER"):
        body = {**body, "statement_id": first if body["statement_id"] == "FIRST" else other}
    if body == "not json":
        response = client.post(
            "/api/v1/consultations/test/votes",
            data="not json",
            headers={"X-CSRFToken": client.csrf_token(), "Content-Type": "application/json"},
        )
    else:
        response = client.post_json("/api/v1/consultations/test/votes", body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and len(error["message"]) > 10
    assert _count(Vote) == 0


def test_vote_on_closed_consultation_is_409(client, make_consultation):
    first = make_consultation(status="closed").statements[0].id
    response = client.post_json("/api/v1/consultations/test/votes", {"statement_id": first, "vote": "agree"})
    assert response.status_code == 409
    assert "closed" in response.get_json()["error"]["message"]


def test_vote_on_pre_moderated_pending_statement_is_409(client, make_consultation):
    make_consultation(moderation="pre")
    created = client.post_json("/api/v1/consultations/test/statements", {"text": "Pending one"}).get_json()
    assert created["moderation"] == "pending"
    response = client.post_json("/api/v1/consultations/test/votes", {"statement_id": created["id"], "vote": "agree"})
    assert response.status_code == 409
    assert "not open for voting" in response.get_json()["error"]["message"]


def test_vote_on_unknown_consultation_is_404_json(client):
    response = client.post_json("/api/v1/consultations/nope/votes", {"statement_id": 1, "vote": "agree"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_revote_through_api_keeps_history(client, make_consultation):
    first = make_consultation().statements[0].id
    for word in ("agree", "pass"):
        client.post_json("/api/v1/consultations/test/votes", {"statement_id": first, "vote": word})
    assert _count(Vote) == 2
    assert db.session.scalar(select(CurrentVote.value)) == 0


def test_json_requests_without_csrf_header_are_refused(client, make_consultation):
    first = make_consultation().statements[0].id
    response = client.post("/api/v1/consultations/test/votes", json={"statement_id": first, "vote": "agree"})
    assert response.status_code == 400
    assert "error" in response.get_json()
    response = client.post("/api/v1/consultations/test/statements", json={"text": "Sneaky"})
    assert response.status_code == 400
    assert _count(Vote) == 0 and _count(Statement) == 3


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "   "}, 400),
        ({"text": "x" * 281}, 400),
        ({"text": 5}, 400),
        ({}, 400),
        ({"text": "Seed ONE"}, 409),
    ],
)
def test_statement_errors(client, make_consultation, body, status):
    make_consultation()
    response = client.post_json("/api/v1/consultations/test/statements", body)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert _count(Statement) == 3 and _count(Vote) == 0


def test_statement_created_with_author_agree(client, make_consultation):
    make_consultation()
    response = client.post_json("/api/v1/consultations/test/statements", {"text": "  New   idea "})
    assert response.status_code == 201
    assert response.get_json()["text"] == "New idea" and response.get_json()["moderation"] == "pending"
    assert db.session.scalar(select(CurrentVote.value)) == 1


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
