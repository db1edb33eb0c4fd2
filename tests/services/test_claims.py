"""Every claim in the brief holds up against the raw votes: simulated conversations built to break each rule.

Each scenario is checked twice: by the report's own lists and by :func:`analysis.claims.check`, which recounts the
votes without the report's code; the figures asserted here are recounted once more from the votes as cast.
"""

import pytest

from analysis import claims as claims_math
from analysis import evidence
from participate.extensions import db
from participate.models import VoteValue
from participate.services import Conflict, brief, claims, publishing, report
from participate.services.participation import identity
from participate.services.snapshots import runner
from tests import factories

AGREE, DISAGREE, PASS = VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS
X, Y = 20, 15  # two camps
COMMON, LATE, SILENT = 0, 9, 10  # statement indexes: common ground; a late one 3 people saw; one camp Y never saw


def camp_votes() -> dict[tuple[int, int], VoteValue]:
    """Camp X agrees with 1-4 and rejects 5-8, camp Y the reverse; everyone agrees with 0; 9 and 10 are the traps."""
    votes = {}
    for person in range(X + Y):
        x = person < X
        for s in range(9):
            if s == COMMON or (s <= 4) == x:
                votes[(person, s)] = AGREE
            else:
                votes[(person, s)] = DISAGREE
        if x:
            votes[(person, SILENT)] = AGREE  # all of camp X, none of camp Y
    for person in (0, 1, X):  # two of camp X and one of camp Y saw the late statement, and agreed
        votes[(person, LATE)] = AGREE
    return votes


@pytest.fixture
def traps(make_consultation):
    consultation = make_consultation("traps", statements=[f"Trap statement {i}" for i in range(11)])
    sids = sorted(s.id for s in consultation.statements)
    by_id = {s.id: s for s in consultation.statements}
    people = [identity.find_or_add(db.session, consultation, f"person-{i}") for i in range(X + Y)]
    for (person, s), value in camp_votes().items():
        factories.record(db.session, consultation, people[person], by_id[sids[s]], value)
    db.session.commit()
    runner.analyse(db.session, consultation.id)
    return consultation, sids


def _listed(summary: dict) -> set[int]:
    return {item["statement_id"] for name in claims_math.LISTS for item in summary[name]}


def test_a_late_statement_everyone_agrees_with_is_seen_by_too_few_to_say(app, traps):
    consultation, sids = traps
    built = report.build(db.session, consultation)
    assert built["ready"] and len(built["groups"]) == 2
    assert built["floor"] == {"voters": 20, "group_voters": 5}
    late = report.statement_index(built)[sids[LATE]]
    assert late["overall"] == {"agree": 3, "disagree": 0, "pass": 0, "votes": 3}  # recounted: persons 0, 1, X
    assert not late["at_floor"] and late["common"] is None and late["robust"] is None
    assert sids[LATE] not in built["common_ground"] + built["divisive"] + (built["headline"] or [])
    with app.test_request_context():
        summary = brief.build(built)
    assert summary["floor"] == {"voters": 20, "group_voters": 5}
    assert sids[LATE] not in _listed(summary)
    thin = {item["statement_id"]: item for item in summary["thin"]}
    assert thin[sids[LATE]]["everyone"] == {"agree": 3, "disagree": 0, "pass": 0, "votes": 3}
    assert sids[COMMON] in {item["statement_id"] for item in summary["common_ground"]}
    with app.test_request_context():
        assert claims.problems(db.session, consultation, built) == []


def test_a_group_silent_on_a_statement_makes_no_every_group_claim(app, traps):
    consultation, sids = traps
    built = report.build(db.session, consultation)
    silent = report.statement_index(built)[sids[SILENT]]
    assert silent["overall"]["votes"] == X and silent["at_floor"]  # everyone's floor met by camp X alone
    assert sorted(t["votes"] for t in silent["groups"]) == [0, X]
    assert silent["common"] is None and sids[SILENT] not in built["common_ground"] + built["divisive"]
    with app.test_request_context():
        summary = brief.build(built)
    for name in ("common_ground", "rejected", "divisions"):
        assert sids[SILENT] not in {item["statement_id"] for item in summary[name]}
    for item in summary["headline"]:
        if item["statement_id"] == sids[SILENT]:
            assert "every group" not in item["sentence"] and "Too few voted in" in item["sentence"]
    for item in summary["common_ground"]:  # every "every group" claim has the floor in every group
        assert all(t["votes"] >= 5 for t in item["groups"]) and item["everyone"]["votes"] >= 20


def test_every_percentage_in_the_brief_comes_with_its_people(app, traps):
    consultation, sids = traps
    built = report.build(db.session, consultation)
    with app.test_request_context():
        summary = brief.build(built)
    common = next(item for item in summary["common_ground"] if item["statement_id"] == sids[COMMON])
    assert common[
        "sentence"
    ] == f"Every group agreed. 100% in every group (Group A: {X} of {X}, Group B: {Y} of {Y})." or (
        common["sentence"] == f"Every group agreed. 100% in every group (Group A: {Y} of {Y}, Group B: {X} of {X})."
    )
    for item in summary["headline"]:
        e = item["everyone"]
        assert f"{e['agree']} of the {e['votes']} who voted" in item["sentence"]
        assert f"({round(100 * e['votes'] / (X + Y))}% of participants)" in item["sentence"]


def test_the_claims_check_refuses_a_brief_built_without_the_floors(app, traps, monkeypatch):
    consultation, sids = traps

    # A report and brief built as before the floors: floors of one voter, which Floors itself refuses.
    monkeypatch.setattr(evidence.Floors, "__post_init__", lambda self: None)
    monkeypatch.setattr(report, "floors_of", lambda consultation: evidence.Floors(1, 1))
    built = report.build(db.session, consultation)
    with app.test_request_context():
        summary = brief.build(built)
        found = claims.problems(db.session, consultation, built)
    assert sids[LATE] in _listed(summary) or sids[SILENT] in _listed(summary)
    assert found and any("below" in p or "floor" in p for p in found)
    with app.test_request_context(), pytest.raises(Conflict, match="not published"):
        publishing.publish(db.session, consultation)
    monkeypatch.undo()
    with app.test_request_context():
        assert publishing.publish(db.session, consultation).token


def test_the_claims_check_catches_a_figure_that_is_not_the_votes(app, traps):
    consultation, sids = traps
    built = report.build(db.session, consultation)
    with app.test_request_context():
        summary = brief.build(built)
    item = summary["common_ground"][0]
    item["everyone"] = {**item["everyone"], "agree": item["everyone"]["agree"] - 1}
    item["sentence"] = item["sentence"].replace("100%", "99%")
    votes = [(p, s, v) for (p, s), v in camp_votes().items()]
    people = {i: identity.find_or_add(db.session, consultation, f"person-{i}").id for i in range(X + Y)}
    snapshot_groups = report.view_of(db.session.get(report.AnalysisSnapshot, built["analysis"]["snapshot_id"]))
    members = {g.label: g.members for g in snapshot_groups.groups}
    found = claims_math.check(
        summary,
        ([people[p] for p, _, _ in votes], [sids[s] for _, s, _ in votes], [int(v) for _, _, v in votes]),
        members,
        evidence.Floors(),
        texts={r["id"]: r["text"] for r in built["statements"]},
        participants=built["counts"]["participants"],
    )
    assert any("everyone's figures" in p for p in found) and any("99%" in p for p in found)


@pytest.mark.slow
def test_every_shared_conversation_publishes_a_brief_that_holds_up(app, shared_conversations):
    """On real conversations: no brief item below a floor, every "every group" claim at the floor in every group,
    and the claims check (which recounts from the votes) passes on what is published."""
    for folder, consultation in shared_conversations:
        built = report.build(db.session, consultation)
        with app.test_request_context():
            summary = brief.build(built)
            assert claims.problems(db.session, consultation, built) == [], folder.name
            assert publishing.publish(db.session, consultation).token
        for name in ("headline", "common_ground", "rejected"):
            for item in summary[name]:
                assert item["everyone"]["votes"] >= 20, (folder.name, name, item["statement_id"])
        for name in ("common_ground", "rejected"):
            for item in summary[name]:
                assert all(t["votes"] >= 5 for t in item["groups"]), (folder.name, name)
        for item in summary["divisions"]:
            assert sum(t["votes"] >= 5 for t in item["groups"]) >= 2, folder.name
        for item in summary["thin"]:
            assert item["statement_id"] not in _listed(summary), folder.name
        about = set(built["about_participants"])
        assert not about & _listed(summary), folder.name  # descriptions of oneself are never reported as views
