"""Visibility is one rule: every surface derived from a report asks ``services.visibility`` whether this viewer may
see it. An anonymous voter on a private or link-only consultation sees their own votes and nothing derived from
other people's (issue 23, M1)."""

import pytest

from participate import jobs
from participate.extensions import db
from participate.models import ConsultationStatus, ReportVisibility
from participate.services import publishing, simulate
from participate.services.snapshots import runner

STATEMENTS = [f"Statement number {i}" for i in range(10)]


@pytest.fixture
def analysed(make_consultation, client, monkeypatch):
    """A consultation with opinion groups, in which ``client`` voted enough to be placed in one and wrote a
    statement others voted on; returns a function setting its report visibility."""
    monkeypatch.setattr(jobs, "analysis_wanted", lambda consultation_id: None)
    consultation = make_consultation(statements=STATEMENTS)
    for statement in consultation.statements:
        assert client.post_form("/c/test/vote", {"statement_id": statement.id, "vote": "agree"}).status_code == 302
    assert client.post_form("/c/test/statements", {"text": "My own statement"}).status_code == 302
    simulate.simulate_votes(db.session, consultation, 60, groups=3, seed=1)
    runner.analyse(db.session, consultation.id)
    published = publishing.publish(db.session, consultation)

    def set_visibility(visibility: ReportVisibility, status=ConsultationStatus.OPEN):
        consultation.report_visibility = visibility
        consultation.status = status
        if visibility == ReportVisibility.LINK:
            consultation.report_key = "the-secret-key"
        db.session.commit()
        return consultation, published

    return set_visibility


def test_a_public_report_shows_where_i_stand(client, analysed):
    """The control: with a public report the same voter does see their group (so the hidden cases mean something)."""
    analysed(ReportVisibility.PUBLIC)
    stand = client.get("/c/test/mine.json").get_json()["where_i_stand"]
    assert stand["group"] is not None and stand["group_size"]
    assert 'id="my-group"' in client.get("/c/test/mine").text
    assert 'id="your-group"' in client.get("/c/test").text


@pytest.mark.parametrize("visibility", [ReportVisibility.PRIVATE, ReportVisibility.LINK])
@pytest.mark.parametrize("status", [ConsultationStatus.OPEN, ConsultationStatus.CLOSED])
def test_an_anonymous_voter_sees_only_their_own_votes(client, analysed, visibility, status):
    _, published = analysed(visibility, status)
    data = client.get("/c/test/mine.json").get_json()
    stand = data["where_i_stand"]
    assert stand["group"] is None and stand["name"] is None and stand["group_size"] is None
    assert stand["summary"] is None and stand["differ_from_group"] == [] and stand["agree_with_others"] == []
    assert "so far" not in (stand["missing"] or "")  # how many others qualified is derived from them too
    assert len(data["current_votes"]) >= len(STATEMENTS)  # their own votes stay theirs to see
    mine = [s for s in data["my_statements"] if s["text"] == "My own statement"]
    assert mine and mine[0]["agree"] is None and mine[0]["disagree"] is None and mine[0]["pass"] is None
    page = client.get("/c/test/mine").text
    assert 'id="my-group"' not in page and "Votes so far" not in page
    assert 'id="your-group"' not in client.get("/c/test").text
    for url in ("/c/test/report", "/c/test/report.json", "/c/test/report.csv", "/c/test/report.pdf"):
        assert client.get(url).status_code in (403, 404), url
    for suffix in ("", ".json", ".csv"):
        response = client.get(f"/r/{published.token}{suffix}")
        assert response.status_code == (403 if visibility == ReportVisibility.PRIVATE else 200), suffix
    assert "Title test" not in client.get("/reports").text


def test_the_link_holder_sees_a_link_only_report_and_where_they_stand(client, analysed):
    analysed(ReportVisibility.LINK)
    assert client.get("/c/test/report.json?key=the-secret-key").status_code == 200
    stand = client.get("/c/test/mine.json?key=the-secret-key").get_json()["where_i_stand"]
    assert stand["group"] is not None
    assert client.get("/c/test/report.json?key=wrong").status_code == 404
