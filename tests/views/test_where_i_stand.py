"""My votes tells a participant, in words and without JavaScript, where they stand and what became of their
statements; the group it names is always the report's group for them, from the report's own snapshot."""

import html
import re

import pytest
from flask_babel import refresh
from sqlalchemy import select

from participate import jobs
from participate.extensions import db
from participate.models import AnalysisSnapshot, ModerationMode, Participant, Statement
from participate.services import moderation, report, simulate
from participate.services.snapshots import runner, store

STATEMENTS = [f"Statement number {i}" for i in range(10)]


@pytest.fixture
def no_runner(monkeypatch):
    """Votes are recorded without the analysis running after each one; tests run it when they choose."""
    monkeypatch.setattr(jobs, "analysis_wanted", lambda consultation_id: None)


def _welsh(client, url):
    """A page in Welsh (the fixture's app context outlives requests, and Flask-Babel caches the locale on it)."""
    refresh()
    page = client.get(url + "?lang=cy").text
    refresh()
    client.set_cookie("lang", "en")
    return page


def _vote(client, slug, sids, word="agree"):
    for sid in sids:
        assert client.post_form(f"/c/{slug}/vote", {"statement_id": sid, "vote": word}).status_code == 302


def _me(consultation) -> Participant:
    """The one participant who is not a simulated voter."""
    return db.session.scalar(
        select(Participant).where(Participant.consultation_id == consultation.id, Participant.xid.is_(None))
    )


def _report_label(consultation, participant) -> str | None:
    """The report's label for the participant: the report's snapshot, the report's groups (read independently)."""
    built = report.build(db.session, consultation)
    if not built["ready"]:
        return None
    snapshot = db.session.get(AnalysisSnapshot, built["analysis"]["snapshot_id"])
    gid = next(g["id"] for g in snapshot.result["groups"] if participant.id in g["members"])
    return next(g["label"] for g in built["groups"] if g["id"] == gid)


def test_below_the_threshold_says_what_is_missing_and_shows_no_group(client, make_consultation, no_runner):
    consultation = make_consultation(statements=STATEMENTS)
    sids = sorted(s.id for s in consultation.statements)
    _vote(client, "test", sids[:3])
    runner.analyse(db.session, consultation.id)
    page = client.get("/c/test/mine").text
    assert "Vote on 4 more statements to be placed in an opinion group." in page
    assert "Opinion groups appear once 7 people have voted on 7 statements each (so far: 0)." in page
    assert "you are in opinion group" not in page
    stand = client.get("/c/test/mine.json").get_json()["where_i_stand"]
    assert stand["group"] is None and stand["group_size"] is None
    assert stand["missing"].startswith("Vote on 4 more statements")
    welsh = _welsh(client, "/c/test/mine")
    assert "Where you stand" not in welsh and "Vote on 4 more" not in welsh
    assert "Pleidleisiwch ar 4 datganiad arall" in welsh
    consultation.status = "closed"  # closed: no more votes to ask for; say why there is no group instead
    db.session.commit()
    closed = client.get("/c/test/mine.json").get_json()["where_i_stand"]
    assert closed["group"] is None and closed["missing"] == "Too few people voted for opinion groups to be shown."


def test_no_group_while_the_report_shows_none_though_the_snapshot_has_groups(client, make_consultation, no_runner):
    """The old bug: "you are in opinion group A" while the report said no groups existed yet."""
    consultation = make_consultation(statements=STATEMENTS)
    sids = sorted(s.id for s in consultation.statements)
    _vote(client, "test", sids)
    simulate.simulate_votes(db.session, consultation, 5, groups=2, seed=3)
    runner.analyse(db.session, consultation.id)
    me = _me(consultation)
    assert me.id in store.latest(db.session, consultation).group_of  # the snapshot does place them
    assert not report.build(db.session, consultation)["ready"]
    page = client.get("/c/test/mine").text
    assert "you are in opinion group" not in page
    assert "Opinion groups appear once 7 people" in page
    voting_page = client.get("/c/test").text  # the other pages only link to My votes: they name no group
    assert "you are in opinion group" not in voting_page and "#where-i-stand" in voting_page
    assert client.get("/c/test/mine.json").get_json()["where_i_stand"]["group"] is None


def test_label_on_my_votes_is_the_reports_label_from_the_same_snapshot(
    client, other_client, make_consultation, no_runner
):
    consultation = make_consultation(statements=STATEMENTS)
    sids = sorted(s.id for s in consultation.statements)
    simulate.simulate_votes(db.session, consultation, 60, groups=3, seed=1)
    _vote(client, "test", sids[:5], "agree")
    _vote(client, "test", sids[5:], "disagree")
    runner.analyse(db.session, consultation.id)
    me = _me(consultation)
    expected = _report_label(consultation, me)
    assert expected is not None
    brief_group = next(
        g for g in client.get("/c/test/report.json").get_json()["brief"]["groups"] if g["label"] == expected
    )
    page = html.unescape(client.get("/c/test/mine").text)
    # The report's name for the group (the facilitators', else generated from its most distinctive statement).
    named = f", “{brief_group['name']}”" if brief_group["name"] else ""
    assert f"you are in opinion group {expected}{named}." in page
    assert re.search(r'id="my-group" data-group="([^"]+)"', page).group(1) == expected
    stand = client.get("/c/test/mine.json").get_json()["where_i_stand"]
    built = report.build(db.session, consultation)
    group = next(g for g in built["groups"] if g["label"] == expected)
    assert stand["group"] == expected and stand["group_size"] == group["size"] and stand["missing"] is None
    assert stand["name"] == brief_group["name"] and stand["summary"] == brief_group["summary"]  # the brief's words
    for item in stand["differ_from_group"]:
        assert item["share"] > 0.5 and item["vote"] in ("agree", "disagree")
    for item in stand["agree_with_others"]:
        assert item["group"] != expected and item["share"] > max(0.5, item["own_share"])

    # A newer snapshot without its checks: the report still shows the checked one, and so does My votes.
    _vote(other_client, "test", sids, "pass")
    store.compute_snapshot(db.session, consultation.id)
    newcomer = db.session.scalar(
        select(Participant).where(
            Participant.consultation_id == consultation.id, Participant.xid.is_(None), Participant.id != me.id
        )
    )
    assert newcomer.id in store.latest(db.session, consultation).group_of
    late = other_client.get("/c/test/mine.json").get_json()["where_i_stand"]
    assert late["group"] is None and "not in the analysis yet" in late["missing"]
    assert client.get("/c/test/mine.json").get_json()["where_i_stand"]["group"] == expected
    welsh = _welsh(client, "/c/test/mine")
    assert f'data-group="{expected}"' in welsh and "Where you stand" not in welsh


def test_rejected_statement_shows_the_reason_to_its_author_only(client, other_client, make_consultation, make_account):
    consultation = make_consultation()
    client.post_form("/c/test/statements", {"text": "Buses should run all night"})
    statement = db.session.scalar(select(Statement).where(Statement.text == "Buses should run all night"))
    moderator = make_account("admin")
    moderation.act(db.session, moderator, consultation, [statement.id], "reject", "Off topic")
    page = client.get("/c/test/mine").text
    assert "Buses should run all night" in page and "Rejected" in page
    assert "Reason given: Off topic" in page
    mine = client.get("/c/test/mine.json").get_json()["my_statements"]
    assert mine == [
        {
            "id": statement.id,
            "text": "Buses should run all night",
            "status": "rejected",
            "reason": "Off topic",
            "decided_at": mine[0]["decided_at"],
            "agree": None,
            "disagree": None,
            "pass": None,
        }
    ]
    assert mine[0]["decided_at"]
    other_client.get("/c/test")
    for url in ("/c/test/mine", "/c/test/mine.json", "/c/test", "/c/test/report", "/c/test/report.json"):
        text = other_client.get(url).text
        assert "Off topic" not in text, url
    assert other_client.get("/c/test/mine.json").get_json()["my_statements"] == []
    assert "Ddim yn berthnasol" in _welsh(client, "/c/test/mine")  # a listed reason, in Welsh


def test_pre_moderated_statement_shows_waiting_then_its_votes_once_accepted(
    client, other_client, make_consultation, make_account
):
    consultation = make_consultation(moderation=ModerationMode.PRE)
    client.post_form("/c/test/statements", {"text": "More benches in the park"})
    mine = client.get("/c/test/mine.json").get_json()["my_statements"]
    assert [(s["status"], s["reason"], s["decided_at"], s["agree"]) for s in mine] == [("waiting", None, None, None)]
    assert "Waiting for a moderator" in client.get("/c/test/mine").text
    statement = db.session.get(Statement, mine[0]["id"])
    moderation.act(db.session, make_account("admin"), consultation, [statement.id], "accept")
    other_client.post_form("/c/test/vote", {"statement_id": statement.id, "vote": "disagree"})
    mine = client.get("/c/test/mine.json").get_json()["my_statements"]
    assert (mine[0]["status"], mine[0]["agree"], mine[0]["disagree"], mine[0]["pass"]) == ("accepted", 1, 1, 0)
    assert "Votes so far: 1 agree, 1 disagree, 0 pass" in client.get("/c/test/mine").text


def test_my_votes_keep_their_order_after_a_change(client, make_consultation, no_runner):
    consultation = make_consultation()
    first, second, third = sorted(s.id for s in consultation.statements)
    _vote(client, "test", [second, first, third])
    before = re.findall(r'<li id="statement-(\d+)"', client.get("/c/test/mine").text)
    client.post_form("/c/test/vote", {"statement_id": second, "vote": "disagree", "return_to": "mine"})
    after = re.findall(r'<li id="statement-(\d+)"', client.get("/c/test/mine").text)
    assert before == after == [str(second), str(first), str(third)]


def test_delete_my_votes_asks_first_without_javascript(client, make_consultation, no_runner):
    consultation = make_consultation()
    _vote(client, "test", [consultation.statements[0].id])
    asked = client.post_form("/c/test/mine/delete", {})
    assert asked.status_code == 200 and "Yes, delete my votes" in asked.text
    assert 'name="confirmed" value="1"' in asked.text
    assert client.get("/c/test/mine.json").get_json()["current_votes"]  # nothing deleted yet
    done = client.post_form("/c/test/mine/delete", {"confirmed": "1"})
    assert done.status_code == 302
    assert client.get("/c/test/mine.json").get_json()["current_votes"] == []


def test_statements_are_marked_participants_or_organisers(client, make_consultation, no_runner):
    consultation = make_consultation(statements=["From the organisers, this one"])
    client.post_form("/c/test/statements", {"text": "Mine, a participant's"})  # its author's vote: agree
    drawn = client.get("/api/v1/consultations/test/next").get_json()
    assert drawn["statement"]["origin"] == "seed"
    voting_page = client.get("/c/test").text
    assert 'id="statement-origin"' in voting_page and "How statements are moderated" in voting_page
    _vote(client, "test", [consultation.statements[0].id])
    page = client.get("/c/test/mine").text
    assert "Written by a participant" in page and "From the organisers" in page
    assert "by a participant" in client.get("/c/test/report").text
