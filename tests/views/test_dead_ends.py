"""Dead ends a person met: closing at one click, a scheduled link that said "no consultation", participants never
told who runs a consultation or until when, a privacy page without a controller and with raw rate limits."""

import re
from datetime import timedelta

import pytest

from participate.extensions import db
from participate.models import Consultation, ConsultationStatus, utcnow
from participate.services import consultations


@pytest.fixture
def owned(client, login):
    owner = login(client, "facilitator")

    def make(**data):
        return consultations.create(
            db.session, owner, {"title": "Buses", "question": "More buses?", "slug": "buses", **data}
        )

    return make


def test_close_now_asks_first_and_closes_only_from_the_confirmation(client, owned):
    consultation = owned()
    consultations.open_now(db.session, consultation.owner, consultation)
    overview = client.get("/facilitate/buses").text
    assert 'action="/facilitate/buses/close"' not in overview, "no one-click close on the overview"
    assert 'href="/facilitate/buses/close"' in overview
    confirm = client.get("/facilitate/buses/close")
    assert confirm.status_code == 200
    assert 'action="/facilitate/buses/close"' in confirm.text and "Yes, close it now" in confirm.text
    assert 'href="/facilitate/buses"' in confirm.text  # "No, keep it open"
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).status == ConsultationStatus.OPEN
    assert client.post_form("/facilitate/buses/close", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).status == ConsultationStatus.CLOSED


def test_a_scheduled_consultation_says_when_it_opens(client, owned):
    opens = (utcnow() + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)
    owned(scheduled_open_at=opens.strftime("%Y-%m-%dT%H:%M"))
    client.post_form("/logout", {})
    page = client.get("/c/buses")
    assert page.status_code == 404
    assert "There is no consultation at this address" not in page.text
    assert "has not opened yet" in page.text and "More buses?" in page.text
    assert f"{opens.day} {opens.strftime('%B')} {opens.year}, 09:30" in page.text
    api = client.get("/api/v1/consultations/buses/next")
    assert api.status_code == 404 and "opens at" in api.get_json()["error"]["message"]


def test_an_unscheduled_draft_stays_invisible(client, owned):
    owned()
    client.post_form("/logout", {})
    page = client.get("/c/buses")
    assert page.status_code == 404 and "There is no consultation at this address" in page.text


def test_participants_see_who_runs_it_how_to_reach_them_and_until_when(client, owned):
    closes = (utcnow() + timedelta(days=10)).replace(hour=17, minute=0, second=0, microsecond=0)
    consultation = owned(
        organiser="Cardiff Council, transport team",
        contact="buses@example.org",
        scheduled_close_at=closes.strftime("%Y-%m-%dT%H:%M"),
    )
    consultations.open_now(db.session, consultation.owner, consultation)
    client.post_form("/logout", {})
    for path in ("/c/buses", "/c/buses/mine"):
        html = client.get(path).text
        assert re.search(r"<dt>Run by</dt><dd>Cardiff Council, transport team</dd>", html), path
        assert '<a href="mailto:buses@example.org">buses@example.org</a>' in html, path
        assert f"<dt>Open until</dt><dd>{closes.day} {closes.strftime('%B')} {closes.year}, 17:00 (UTC)</dd>" in html


def test_organiser_and_contact_are_settings_with_limits(client, owned):
    owned()
    response = client.post_form("/facilitate/buses/settings", {"organiser": "x" * 201})
    assert response.status_code == 400 and "the limit is 200" in response.text
    assert client.post_form("/facilitate/buses/settings", {"contact": "https://example.org/ask"}).status_code == 302
    assert consultations.get_any(db.session, "buses").contact == "https://example.org/ask"
    assert 'value="https://example.org/ask"' in client.get("/facilitate/buses/settings").text


def test_the_privacy_page_names_the_controller_and_contact_when_set(app, client):
    assert "Data controller" not in client.get("/privacy").text
    app.config.update(DATA_CONTROLLER="Cardiff Council", CONTACT="privacy@example.org")
    html = client.get("/privacy").text
    assert "<dt>Data controller</dt><dd>Cardiff Council</dd>" in html
    assert '<a href="mailto:privacy@example.org">privacy@example.org</a>' in html


def test_the_privacy_page_states_rate_limits_in_words(app, client):
    html = client.get("/privacy").text
    assert "per minute" not in html and "3000 per hour" not in html
    assert "(120 a minute and 3,000 an hour)" in html
    app.config["VOTE_RATE_LIMIT"] = "5000 per day"
    assert "(5,000 a day)" in client.get("/privacy").text


def test_the_rate_limits_in_welsh(client):
    welsh = client.get("/privacy?lang=cy").text  # first: the locale is kept for the test's app context
    assert 'lang="cy"' in welsh
    assert "(120 y funud a 3,000 yr awr)" in welsh
