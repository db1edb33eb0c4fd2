"""Moderation services: seed statements, the queue and its hints, actions, bans and the log."""

import csv
import io

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import (
    ModerationAction,
    ModerationLogEntry,
    ModerationState,
    Participant,
    Statement,
    StatementOrigin,
    VoteValue,
)
from participate.services import (
    Conflict,
    InvalidInput,
    NotFound,
    consultations,
    moderation,
)
from participate.services.participation import identity
from tests import factories


@pytest.fixture
def owner(make_account):
    return make_account("facilitator")


@pytest.fixture
def consultation(owner):
    c = consultations.create(db.session, owner, {"title": "Buses", "question": "What about buses?", "slug": "buses"})
    moderation.add_seeds(db.session, owner, c, "Buses should be free\nBuses should run all night")
    c.status = c.status.OPEN
    db.session.commit()
    return c


def _texts(consultation):
    return set(db.session.scalars(select(Statement.text).where(Statement.consultation_id == consultation.id)))


def test_paste_many_adds_valid_lines_and_says_why_others_are_refused(owner, consultation):
    pasted = "\n".join(
        [
            "  More bike lanes, please  ",  # 1: valid (trimmed)
            "",  # 2: blank lines are ignored
            "Buses should be FREE",  # 3: already in the consultation (case-folded)
            "x" * 281,  # 4: too long
            "more bike lanes, please",  # 5: repeats line 1
            "Evil \u202etext",  # 6: bidi control
            "Trams too",  # 7: valid
        ]
    )
    preview = moderation.preview_seeds(db.session, consultation, pasted)
    assert [(line.number, line.error is None) for line in preview] == [
        (1, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
        (7, True),
    ]
    reasons = {line.number: line.error.message for line in preview if line.error}
    assert reasons[3] == "Already in this consultation."
    assert "the limit is 280" in reasons[4]
    assert reasons[5] == "Repeats line 1."
    assert "text-direction" in reasons[6]
    assert _texts(consultation) == {"Buses should be free", "Buses should run all night"}  # preview adds nothing

    moderation.add_seeds(db.session, owner, consultation, pasted)
    assert _texts(consultation) == {
        "Buses should be free",
        "Buses should run all night",
        "More bike lanes, please",
        "Trams too",
    }
    added = db.session.scalar(select(Statement).where(Statement.text == "Trams too"))
    assert added.origin == StatementOrigin.SEED and added.moderation == ModerationState.ACCEPTED


def test_single_seed_refusals(owner, consultation):
    with pytest.raises(Conflict):
        moderation.add_seed(db.session, owner, consultation, "buses should be free")
    with pytest.raises(InvalidInput):
        moderation.add_seed(db.session, owner, consultation, "   ")


def _participant_statement(consultation, text, token="tok"):
    return factories.submit_statement(db.session, consultation, token, text)


def test_statement_with_votes_cannot_be_edited_but_a_fresh_seed_can(owner, consultation):
    seed = db.session.scalar(select(Statement).where(Statement.text == "Buses should be free"))
    moderation.edit_statement(db.session, owner, consultation, seed.id, "Buses should be free for children")
    assert seed.text == "Buses should be free for children"
    log = moderation.log(db.session, consultation)
    assert log[0].action == ModerationAction.EDIT and log[0].reason == "was: Buses should be free"
    factories.cast(db.session, consultation, "voter", seed.id, VoteValue.AGREE)
    with pytest.raises(Conflict, match="already voted"):
        moderation.edit_statement(db.session, owner, consultation, seed.id, "Something else")


def test_accept_reject_meta_in_bulk_each_logged(owner, consultation):
    a = _participant_statement(consultation, "Cheaper tickets for students", "p1")
    b = _participant_statement(consultation, "Buy my product at example.com", "p2")
    c = _participant_statement(consultation, "This survey is too long", "p3")
    assert moderation.act(db.session, owner, consultation, [a.id], "accept") == 1
    with pytest.raises(InvalidInput, match="reason"):
        moderation.act(db.session, owner, consultation, [b.id], "reject")
    moderation.act(db.session, owner, consultation, [b.id, c.id], "reject", "Spam or advertising")
    moderation.act(db.session, owner, consultation, [str(c.id)], "meta")
    assert (a.moderation, b.moderation, c.moderation) == (
        ModerationState.ACCEPTED,
        ModerationState.REJECTED,
        ModerationState.REJECTED,
    )
    assert c.is_meta
    entries = [
        (e.statement_id, e.action.value, e.reason, e.account_id)
        for e in reversed(moderation.log(db.session, consultation))
    ]
    assert entries == [
        (a.id, "accept", None, owner.id),
        (b.id, "reject", "Spam or advertising", owner.id),
        (c.id, "reject", "Spam or advertising", owner.id),
        (c.id, "meta", None, owner.id),
    ]
    rows = list(csv.reader(io.StringIO(moderation.log_csv(db.session, consultation))))
    assert rows[0] == list(moderation.LOG_HEADER)
    assert rows[2][1:5] == [owner.email, "reject", str(b.id), "Buy my product at example.com"]
    assert rows[2][6] == "Spam or advertising"


def test_actions_on_another_consultations_statement_are_refused(owner, consultation, make_consultation):
    elsewhere = make_consultation("elsewhere")
    with pytest.raises(Exception, match="no such statement"):
        moderation.act(db.session, owner, consultation, [elsewhere.statements[0].id], "accept")
    assert db.session.scalar(select(func.count()).select_from(ModerationLogEntry)) == 0


def test_queue_is_newest_first_and_paginated(owner, consultation, monkeypatch):
    monkeypatch.setattr(moderation, "PAGE_SIZE", 2)
    made = [_participant_statement(consultation, f"Participant idea number {i}", f"p{i}") for i in range(5)]
    first = moderation.queue(db.session, consultation, "pending", 1)
    assert [item.statement.id for item in first.items] == [made[4].id, made[3].id]
    assert (first.page, first.pages, first.total) == (1, 3, 5)
    last = moderation.queue(db.session, consultation, "pending", 99)
    assert last.page == 3 and [item.statement.id for item in last.items] == [made[0].id]
    assert first.counts == {"pending": 5, "accepted": 2, "rejected": 0}


def test_near_duplicate_hints_find_rewordings_across_languages(owner, make_account):
    c = consultations.create(db.session, owner, {"title": "Mixed", "question": "Q?", "slug": "mixed"})
    moderation.add_seeds(
        db.session,
        owner,
        c,
        "\n".join(
            [
                "Public transport should be free for everyone",
                "Les transports publics devraient être gratuits",
                "Parks need more trees",
                "Der Stadtrat sollte mehr Radwege bauen",
            ]
        ),
    )
    c.status = c.status.OPEN
    db.session.commit()
    english = _participant_statement(c, "Public transport should be free for all", "a")
    french = _participant_statement(c, "Les transports publics doivent être gratuits", "b")
    german = _participant_statement(c, "Mehr Radwege sollte der Stadtrat bauen", "c")
    unrelated = _participant_statement(c, "Zebra crossings near schools", "d")
    hints = moderation.similar_statements(db.session, c, [english, french, german, unrelated])
    assert hints[english.id][0].statement.text == "Public transport should be free for everyone"
    assert hints[english.id][0].similarity > 0.7
    assert hints[french.id][0].statement.text == "Les transports publics devraient être gratuits"
    assert hints[german.id][0].statement.text == "Der Stadtrat sollte mehr Radwege bauen"
    assert hints[unrelated.id] == []
    page = moderation.queue(db.session, c, "pending")
    by_id = {item.statement.id: item for item in page.items}
    assert by_id[english.id].hints[0].similarity == hints[english.id][0].similarity


def test_ban_rejects_statements_logs_and_blocks_further_participation(owner, consultation):
    first = _participant_statement(consultation, "Troll statement one", "troll")
    second = _participant_statement(consultation, "Troll statement two", "troll")
    author = db.session.get(Participant, first.author_id)
    with pytest.raises(InvalidInput):
        moderation.ban(db.session, owner, consultation, author.id, "")
    assert moderation.ban(db.session, owner, consultation, author.id, "Abusive or a personal attack") == 2
    assert author.is_banned
    assert first.moderation == second.moderation == ModerationState.REJECTED
    actions = [(e.action.value, e.participant_id) for e in moderation.log(db.session, consultation)]
    assert ("ban", author.id) in actions and actions.count(("reject", author.id)) == 2
    with pytest.raises(Conflict):
        moderation.ban(db.session, owner, consultation, author.id, "again")
    with pytest.raises(Exception, match="no longer take part"):
        factories.check_eligible(db.session, consultation, "troll")
    assert identity.find(db.session, consultation, "troll").is_banned


def test_unban_lets_them_take_part_again_logs_it_and_leaves_their_statements_rejected(
    owner, consultation, make_account
):
    statement = _participant_statement(consultation, "Troll statement", "troll")
    author = db.session.get(Participant, statement.author_id)
    with pytest.raises(Conflict, match="not banned"):
        moderation.unban(db.session, owner, consultation, author.id, None)
    moderation.ban(db.session, owner, consultation, author.id, "Spam or advertising")
    moderation.unban(db.session, owner, consultation, author.id, "Appealed by email")
    assert not author.is_banned
    factories.check_eligible(db.session, consultation, "troll")  # no longer refused
    assert statement.moderation == ModerationState.REJECTED
    latest = moderation.log(db.session, consultation)[0]
    assert (latest.action, latest.participant_id, latest.account_id, latest.reason) == (
        ModerationAction.UNBAN,
        author.id,
        owner.id,
        "Appealed by email",
    )
    with pytest.raises(Conflict):
        moderation.unban(db.session, owner, consultation, author.id, None)
    other = consultations.create(db.session, owner, {"title": "Other", "question": "Q?", "slug": "other"})
    with pytest.raises(NotFound):
        moderation.unban(db.session, owner, other, author.id, None)
