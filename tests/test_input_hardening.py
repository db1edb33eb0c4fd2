"""Bad input changes nothing: statements are plain text, always escaped; odd bytes and characters are refused or
normalised with a clear message; property-based tests over the vote and statement endpoints never see a 5xx."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import CurrentVote, Participant, Statement, Vote

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _rows() -> tuple[int, ...]:
    db.session.rollback()
    models = (Statement, Vote, CurrentVote, Participant)
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in models)


@pytest.fixture
def open_consultation(app, make_consultation):
    app.config.update(VOTE_RATE_LIMIT="100000 per minute", STATEMENT_RATE_LIMIT="100000 per minute")
    return make_consultation()


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script> is a fine idea",
        '<img src=x onerror="alert(1)"> pictures',
        "**Bold** claim with [a link](javascript:alert(1))",
        '"><svg onload=alert(1)> quoting',
        "{{ 7*7 }} and {% raw %} templates",
    ],
)
def test_markup_is_stored_as_plain_text_and_escaped(client, open_consultation, payload):
    assert client.post_form("/c/test/statements", {"text": payload}).status_code == 302
    stored = db.session.scalar(select(Statement.text).where(Statement.text == payload))
    assert stored == payload
    client.post_form("/c/test/vote", {"statement_id": 1, "vote": "agree"})
    client.post_form("/c/test/vote", {"statement_id": 2, "vote": "agree"})
    client.post_form("/c/test/vote", {"statement_id": 3, "vote": "agree"})
    pages = client.get("/c/test").text + client.get("/c/test/mine").text + client.get("/c/test/report").text
    assert [s["text"] for s in client.get("/c/test/mine.json").get_json()["statements"]] == [payload]
    assert "<script>alert" not in pages and "<img src=x" not in pages and "<svg onload" not in pages
    assert 'href="javascript:' not in pages and "<strong>Bold" not in pages and ">49<" not in pages


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        ("x" * 1001, 400, "the limit is"),
        ("Hidden \u202eevil\u202c text", 400, "text-direction"),
        ("Bell \x07 rings", 400, "control characters"),
        ("Null \x00 byte", 400, "control characters"),
        ("Broken \ufffd bytes", 400, "could not be read"),
        ("\u200b\u200b", 400, "empty"),
        ("   \n\t ", 400, "empty"),
    ],
)
def test_bad_statements_are_refused_with_a_message_and_change_nothing(client, open_consultation, raw, status, message):
    before = _rows()
    page = client.post_form("/c/test/statements", {"text": raw})
    assert page.status_code == status and message.split()[0] in page.text
    api = client.post_json("/api/v1/consultations/test/statements", {"text": raw})
    assert api.status_code == status
    assert _rows() == before


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Cafe\u0301 culture", "Café culture"),  # NFC
        ("Zero\u200bwidth\u2060 joiners", "Zerowidth joiners"),
        ("  Lots   of\n\nspace\t here ", "Lots of space here"),
    ],
)
def test_statements_are_normalised(client, open_consultation, raw, stored):
    assert client.post_json("/api/v1/consultations/test/statements", {"text": raw}).get_json()["text"] == stored


def test_invalid_utf8_bodies_are_refused(client, open_consultation):
    before = _rows()
    token = client.csrf_token()
    form = client.post(
        "/c/test/statements",
        data=f"csrf_token={token}&text=".encode() + b"caf\xe9 \xff\xfe",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 400
    raw = client.post(
        "/api/v1/consultations/test/statements",
        data=b'{"text": "caf\xe9 \xff"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert raw.status_code == 400 and raw.get_json()["error"]["message"]
    vote = client.post(
        "/api/v1/consultations/test/votes",
        data=b'{"statement_id": 1, "vote": "agr\xffee"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert vote.status_code == 400
    assert _rows() == before


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
_vote_bodies = st.one_of(
    _json,
    st.fixed_dictionaries(
        {
            "statement_id": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=5), _json),
            "vote": st.one_of(st.sampled_from(["agree", "disagree", "pass", "AGREE", "yes", ""]), _json),
        }
    ),
)


def _check(response, before):
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert _rows() == before


@BOUNDED
@given(body=_vote_bodies)
def test_vote_api_never_fails_and_refusals_change_nothing(client, open_consultation, body):
    before = _rows()
    _check(client.post_json("/api/v1/consultations/test/votes", body), before)


@BOUNDED
@given(statement_id=st.text(max_size=25), vote=st.text(max_size=10))
def test_vote_form_never_fails_and_refusals_change_nothing(client, open_consultation, statement_id, vote):
    before = _rows()
    _check(client.post_form("/c/test/vote", {"statement_id": statement_id, "vote": vote}), before)


@BOUNDED
@given(text=st.one_of(st.text(max_size=1100), _json))
def test_statement_api_never_fails_and_refusals_change_nothing(client, open_consultation, text):
    before = _rows()
    _check(client.post_json("/api/v1/consultations/test/statements", {"text": text}), before)


@BOUNDED
@given(text=st.text(max_size=1100))
def test_statement_form_never_fails_and_refusals_change_nothing(client, open_consultation, text):
    before = _rows()
    _check(client.post_form("/c/test/statements", {"text": text}), before)


@BOUNDED
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_fail(client, open_consultation, raw):
    before = _rows()
    token = client.csrf_token()
    for url in ("/api/v1/consultations/test/votes", "/api/v1/consultations/test/statements"):
        response = client.post(url, data=raw, content_type="application/json", headers={"X-CSRFToken": token})
        _check(response, before)
