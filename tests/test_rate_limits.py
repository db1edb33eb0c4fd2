"""Rate limits: votes and statements per participant, new participants per hashed address; 429 with a message."""

import pytest
from sqlalchemy import func, select

from participate import create_app, jobs
from participate.extensions import db
from participate.models import CurrentVote, Participant, Statement
from tests.conftest import Client, app_config


def _sids(consultation_id) -> list[int]:
    return db.session.scalars(select(Statement.id).where(Statement.consultation_id == consultation_id)).all()


@pytest.fixture
def consultation(make_consultation):
    return make_consultation(statements=[f"Seed {i}" for i in range(6)])


def test_votes_are_limited_per_participant_and_earlier_votes_stay(
    app, client, other_client, consultation, limiter_clock
):
    app.config["VOTE_RATE_LIMIT"] = "3 per minute"
    sids = _sids(consultation.id)
    client.get("/c/test")
    for sid in sids[:3]:
        assert client.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"}).status_code == 302
    page = client.post_form("/c/test/vote", {"statement_id": sids[3], "vote": "agree"})
    assert page.status_code == 429 and "your earlier votes are kept" in page.text
    api = client.post_json("/api/v1/consultations/test/votes", {"statement_id": sids[3], "vote": "agree"})
    assert api.status_code == 429
    error = api.get_json()["error"]
    assert error["code"] == "too_many_requests" and "earlier votes" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(CurrentVote)) == 3
    # Another participant (same address) has their own budget.
    other_client.get("/c/test")
    assert other_client.post_form("/c/test/vote", {"statement_id": sids[0], "vote": "pass"}).status_code == 302


def test_statements_are_limited_per_participant(app, client, consultation, limiter_clock):
    app.config["STATEMENT_RATE_LIMIT"] = "2 per hour"
    client.get("/c/test")
    for i in range(2):
        assert client.post_form("/c/test/statements", {"text": f"Idea {i}"}).status_code == 302
    refused = client.post_json("/api/v1/consultations/test/statements", {"text": "Idea 3"})
    assert refused.status_code == 429 and "wait" in refused.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 6 + 2


def test_new_participants_are_limited_per_address_but_existing_ones_carry_on(app, consultation, limiter_clock):
    app.config["NEW_PARTICIPANT_RATE_LIMIT"] = "2 per minute"
    sid = _sids(consultation.id)[0]
    browsers = [Client(app) for _ in range(3)]
    for browser in browsers:
        browser.get("/c/test")
    assert [b.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"}).status_code for b in browsers] == [
        302,
        302,
        429,
    ]
    again = browsers[2].post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"})
    assert "joined from your network" in again.text
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 2
    # Known participants are not new: they keep voting.
    assert browsers[0].post_form("/c/test/vote", {"statement_id": sid, "vote": "pass"}).status_code == 302
    # Another address is not affected.
    other = Client(app)
    other.get("/c/test")
    elsewhere = other.post_form(
        "/c/test/vote", {"statement_id": sid, "vote": "agree"}, environ_base={"REMOTE_ADDR": "198.51.100.4"}
    )
    assert elsewhere.status_code == 302


def test_limits_come_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("PARTICIPATE_VOTE_RATE_LIMIT", "7 per second")
    monkeypatch.setenv("PARTICIPATE_NEW_PARTICIPANT_RATE_LIMIT", "1000 per minute")
    app = create_app(app_config(database_url))
    assert app.config["VOTE_RATE_LIMIT"] == "7 per second"
    assert app.config["NEW_PARTICIPANT_RATE_LIMIT"] == "1000 per minute"
    assert app.config["STATEMENT_RATE_LIMIT"] == "10 per minute;60 per hour"


@pytest.mark.slow  # 500 people join and vote: a thousand requests
def test_a_hall_of_500_behind_one_address_all_vote_within_five_minutes(app, consultation, limiter_clock, monkeypatch):
    """Half the hall joins in the first minute after the link goes up, the rest over the next four: with the
    default allowance every one of the 500 is recorded."""
    monkeypatch.setattr(jobs, "analysis_wanted", lambda consultation_id: None)  # the votes are what is tested
    sid = _sids(consultation.id)[0]
    refused = []
    for i in range(500):
        limiter_clock.now += 60 / 250 if i < 250 else 240 / 250
        browser = Client(app)
        browser.get("/c/test")
        answer = browser.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"})
        if answer.status_code != 302:
            refused.append((i, answer.status_code))
    assert refused == []
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 500
    assert db.session.scalar(select(func.count()).select_from(CurrentVote)) == 500


def test_one_device_cannot_use_up_its_networks_allowance(app, consultation, limiter_clock):
    """A script that forgets its cookie after every vote is one device: it is stopped long before the network is,
    and the next person on the same network still joins."""
    sid = _sids(consultation.id)[0]
    script, answers = Client(app), []
    for _ in range(15):
        token = script.csrf_token()
        script.http.delete_cookie(app.config["PARTICIPANT_COOKIE"])
        form = {"csrf_token": token, "statement_id": sid, "vote": "agree"}
        answers.append(script.post("/c/test/vote", data=form, headers={"User-Agent": "a script"}).status_code)
    assert answers[:10] == [302] * 10 and set(answers[10:]) == {429}
    person = Client(app)
    person.get("/c/test")
    assert person.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"}).status_code == 302


def test_event_mode_raises_the_network_allowance_of_one_consultation(app, client, consultation, limiter_clock):
    app.config.update(NEW_PARTICIPANT_RATE_LIMIT="2 per minute", EVENT_NEW_PARTICIPANT_RATE_LIMIT="5 per minute")
    sid = _sids(consultation.id)[0]
    consultation.event_mode = True
    db.session.commit()

    def join():
        browser = Client(app)
        browser.get("/c/test")
        return browser.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"})

    assert [join().status_code for _ in range(6)] == [302] * 5 + [429]
    refused = join()
    assert "very many people have just joined from your network" in refused.text
    assert "Back to the statement" in refused.text  # and what to do: the way back, to vote again
    limiter_clock.now += 61  # a minute later the same people get in
    assert join().status_code == 302
