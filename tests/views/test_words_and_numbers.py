"""Counts through plural forms (English and Welsh), numbers with the locale's separators, the audit log in words,
and the icon every browser asks for."""

import html
import re

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import Statement
from participate.services import consultations, moderation
from tests import factories


@pytest.fixture
def buses(client, login):
    owner = login(client, "facilitator")
    return consultations.create(db.session, owner, {"title": "Buses", "question": "More buses?", "slug": "buses"})


def flashed(response) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', response.text)


def test_one_is_singular_in_every_count_message(client, buses):
    def post(path, data):
        return flashed(client.post_form(f"/facilitate/buses{path}", data, follow_redirects=True))

    assert post("/statements", {"action": "add", "pasted": "Only one"}) == ["1 statement added, 0 refused."]
    assert post("/eligibility", {"action": "codes", "count": "1"}) == ["1 invite code was made. Download it as CSV."]
    assert post("/eligibility", {"action": "xids", "xids": "solo"}) == ["The allow-list now has 1 XID."]
    consultations.open_now(db.session, buses.owner, buses)
    statement = factories.submit_statement(db.session, buses, "token-1", "Written by a troll")
    assert post(f"/participants/{statement.author_id}/ban", {"reason": "spam"}) == [
        "The participant was banned; 1 of their statements was rejected."
    ]
    page = client.get("/facilitate/buses/eligibility").text
    assert "1 code, 0 used." in page and "1 XID on the list." in page


def test_numbers_have_thousands_separators(client, buses):
    xids = "\n".join(f"person-{i}" for i in range(1500))
    response = client.post_form(
        "/facilitate/buses/eligibility", {"action": "xids", "xids": xids}, follow_redirects=True
    )
    assert flashed(response) == ["The allow-list now has 1,500 XIDs."]
    assert "1,500 XIDs on the list." in response.text


def test_welsh_plural_forms(client, buses):
    assert 'lang="cy"' in client.get("/facilitate/buses?lang=cy").text  # first: the test's locale is Welsh
    moderation.add_seeds(db.session, buses.owner, buses, "One\nTwo")
    ids = [str(i) for i in db.session.scalars(select(Statement.id).where(Statement.consultation_id == buses.id))]
    response = client.post_form(
        "/facilitate/buses/moderate",
        {"action": "meta", "statement_id": ids, "state": "accepted"},
        follow_redirects=True,
    )
    # Two takes the dual form, with the soft mutation (2 ddatganiad); one the singular, unmutated (1 datganiad).
    two = flashed(response)[0]
    assert two.startswith("Nodwyd 2 ddatganiad fel meta: ") and "“One”" in two and "“Two”" in two
    response = client.post_form(
        "/facilitate/buses/moderate",
        {"action": "unmeta", "statement_id": ids[:1], "state": "meta"},
        follow_redirects=True,
    )
    assert html.unescape(flashed(response)[0]).startswith("Nid yw 1 datganiad wedi'i nodi fel meta mwyach: ")
    response = client.post_form(
        "/facilitate/buses/eligibility", {"action": "xids", "xids": "a\nb\nc"}, follow_redirects=True
    )
    assert "3" in flashed(response)[0] and "XID" in flashed(response)[0] and "allow-list" not in flashed(response)[0]


def test_the_audit_log_is_in_words(client, buses):
    client.post_form(
        "/facilitate/buses/settings", {"title": "Night buses", "moderation": "pre", "allow_statements": ""}
    )
    html = client.get("/facilitate/buses/audit").text
    table = html.split("<tbody>")[1]
    assert "settings_changed" not in table and "{" not in table and "created" not in table
    assert "Settings changed" in table and "Created" in table
    assert "Title: Buses → Night buses" in table
    assert "Moderation: post-moderation → pre-moderation" in table
    assert "Participants may add statements: yes → no" in table
    assert "web address: buses" in table


def test_the_audit_log_in_welsh(client, buses):
    html = client.get("/facilitate/buses/audit?lang=cy").text
    table = html.split("<tbody>")[1]
    assert "Created" not in table and "web address" not in table
    assert "Crëwyd" in table


def test_the_icon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    response.close()
