"""The built report is kept per process and rebuilt when anything it shows changes."""

import pytest

from participate.extensions import db
from participate.models import ModerationAction, ModerationMode, VoteValue
from participate.services import moderation, report, shared_cache, themes
from participate.services.snapshots import checks, runner
from tests import factories
from tests.factories import hand_votes, make_hand_consultation


@pytest.fixture
def builds(monkeypatch):
    """Each build of a report from the votes (what a cache hit saves) since the test began."""
    seen = []
    build_fresh = report.build_fresh
    monkeypatch.setattr(report, "build_fresh", lambda *a, **k: seen.append(1) or build_fresh(*a, **k))
    return seen


def test_a_second_request_reuses_the_built_report_and_counts_newer_votes_live(make_consultation, builds):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    first = report.build(db.session, consultation)
    assert builds == [1]
    again = report.build(db.session, consultation)
    assert builds == [1] and again["statements"] is first["statements"]
    for i in range(2):
        factories.cast(db.session, consultation, f"late-{i}", sids[0], VoteValue.DISAGREE)
    later = report.build(db.session, consultation)
    assert builds == [1]  # counts follow the next snapshot…
    assert later["analysis"]["newer_votes"] == 2  # …and the report says what it does not include yet
    assert later["counts"]["votes"] == len(hand_votes())


def test_a_new_snapshot_rebuilds_it(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    before = report.build(db.session, consultation)
    for i in range(2):
        factories.cast(db.session, consultation, f"late-{i}", sids[0], VoteValue.DISAGREE)
    runner.analyse(db.session, consultation.id)
    after = report.build(db.session, consultation)
    assert after["analysis"]["snapshot_id"] > before["analysis"]["snapshot_id"]
    assert after["counts"]["votes"] == len(hand_votes()) + 2 and after["analysis"]["newer_votes"] == 0
    assert report.statement_index(after)[sids[0]]["overall"]["disagree"] == 2


def test_a_checked_snapshot_rebuilds_it(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    factories.cast(db.session, consultation, "late", sids[0], VoteValue.DISAGREE)
    busy = runner.analyse(db.session, consultation.id, more_coming=lambda: True)
    assert report.build(db.session, consultation)["analysis"]["snapshot_id"] < busy.id
    checks.compute_checks(db.session, busy)
    assert report.build(db.session, consultation)["analysis"]["snapshot_id"] == busy.id


def test_moderation_themes_and_the_consultation_rebuild_it(make_consultation, make_account):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    moderator = make_account("admin")
    assert sids[9] in report.statement_index(report.build(db.session, consultation))
    moderation.act(db.session, moderator, consultation, [sids[9]], ModerationAction.REJECT, "off-topic")
    assert sids[9] not in report.statement_index(report.build(db.session, consultation))
    moderation.act(db.session, moderator, consultation, [sids[8]], ModerationAction.META)
    assert report.statement_index(report.build(db.session, consultation))[sids[8]]["is_meta"] is True
    themes.set_themes(db.session, moderator, consultation, {sids[1]: "use:policing, condition:never"})
    data = report.build(db.session, consultation)
    assert report.statement_index(data)[sids[1]]["themes"] == ["condition:never", "use:policing"]
    assert [t["name"] for t in data["themes"]] == ["condition:never", "use:policing"]
    consultation.title = "A new title"
    db.session.commit()
    assert report.build(db.session, consultation)["consultation"]["title"] == "A new title"


def test_the_cache_in_memory_keeps_the_latest_reports_and_no_more(make_consultation, monkeypatch):
    monkeypatch.setattr(report, "BUILT_CACHE_SIZE", 2)
    made = {slug: make_consultation(slug) for slug in ("one", "two", "three")}
    for consultation in made.values():
        report.build(db.session, consultation)
    shared = []  # a report not in this process's memory is read from the shared cache
    read_shared = shared_cache.get_or_build
    monkeypatch.setattr(
        shared_cache, "get_or_build", lambda s, name, *a, **k: shared.append(name) or read_shared(s, name, *a, **k)
    )
    report.build(db.session, made["three"])
    report.build(db.session, made["two"])
    assert shared == []
    report.build(db.session, made["one"])  # the oldest of three went when the third came
    assert len(shared) == 1


def test_a_snapshot_still_being_checked_does_not_rebuild_the_report_of_the_checked_one(make_consultation, builds):
    """The report shows the newest checked snapshot; a newer one changes nothing it shows, so nothing is rebuilt
    (the runner would otherwise rebuild it after every snapshot of a busy consultation), and its population
    section still counts the checked snapshot's voters, not the newcomer's."""
    consultation, sids, _ = make_hand_consultation(make_consultation)
    before = report.build(db.session, consultation)
    builds.clear()
    factories.cast(db.session, consultation, "newcomer", sids[0], VoteValue.DISAGREE)
    busy = runner.analyse(db.session, consultation.id, more_coming=lambda: True)
    after = report.build(db.session, consultation)
    assert builds == [] and after["analysis"]["snapshot_id"] == before["analysis"]["snapshot_id"] < busy.id
    assert after["population"]["participants"] == before["population"]["participants"]
    assert after["analysis"]["newer_votes"] == 1
    checks.compute_checks(db.session, busy)
    checked = report.build(db.session, consultation)
    assert builds == [1] and checked["population"]["participants"] == before["population"]["participants"] + 1


def test_removing_a_statement_nobody_was_shown_updates_the_moderation_count(make_consultation, make_account):
    """Under pre-moderation a pending statement is in no list of the report, but its removal is counted."""
    consultation = make_consultation(moderation=ModerationMode.PRE)
    pending = factories.submit_statement(db.session, consultation, "author", "A statement waiting for review")
    before = report.build(db.session, consultation)["moderation"]
    moderation.act(db.session, make_account("admin"), consultation, [pending.id], ModerationAction.REJECT, "spam")
    after = report.build(db.session, consultation)["moderation"]
    assert (before["removed"], after["removed"]) == (0, 1) and after["submitted"] == before["submitted"]
