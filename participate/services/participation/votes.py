"""The one writer of votes: every vote is appended to the history and made the current vote in one transaction.

One vote at a time (the acts) or many at once (the Pol.is import, the simulator); nothing else writes ``vote`` or
``current_vote`` rows. Also the few reads of one participant's votes.
"""

from datetime import datetime

from sqlalchemy import bindparam, delete, func, or_, select, text
from sqlalchemy.orm import Session

from ...database import INSERTS
from ...models import SHOWN_STATES, Consultation, CurrentVote, ModerationMode, Participant, Statement, Vote, VoteValue
from .. import N_, InvalidInput

VOTE_WORDS = {"agree": VoteValue.AGREE, "disagree": VoteValue.DISAGREE, "pass": VoteValue.PASS}
WORD_OF_VOTE = {value: word for word, value in VOTE_WORDS.items()}


def parse_vote(word: object) -> VoteValue:
    if not isinstance(word, str) or word.lower() not in VOTE_WORDS:
        raise InvalidInput(N_("The vote must be one of: agree, disagree, pass."))
    return VOTE_WORDS[word.lower()]


_statement, _vote, _current = Statement.__table__, Vote.__table__, CurrentVote.__table__


def shown_under(moderation: ModerationMode):
    """SQL condition on ``statement``: open for voting under ``moderation``. Plain comparisons rather than an IN
    list, which SQLAlchemy would expand into the statement on every execution."""
    return or_(*(_statement.c.moderation == state for state in SHOWN_STATES[moderation]))


_COLUMNS = ["consultation_id", "participant_id", "statement_id", "value", "created_at"]
_PARAMS = [bindparam(name, type_=_vote.c[name].type) for name in _COLUMNS]


def _insert_if_votable(moderation: ModerationMode):
    """INSERT of the vote if its statement belongs to the consultation and is open for voting under ``moderation``."""
    return (
        _vote.insert()
        .from_select(
            _COLUMNS,
            select(*_PARAMS[:2], _statement.c.id, *_PARAMS[3:]).where(
                _statement.c.id == bindparam("statement_id"),
                _statement.c.consultation_id == bindparam("consultation_id"),
                shown_under(moderation),
            ),
        )
        .returning(_vote.c.id)
    )


# The statements of the vote path, built once per moderation mode: building a statement costs more than running it.
_INSERT_IF_VOTABLE = {mode: _insert_if_votable(mode) for mode in ModerationMode}
_INSERT = _vote.insert().returning(_vote.c.id)


def _upsert_current(insert, rows=None):
    """INSERT ... ON CONFLICT DO UPDATE of the current vote, from parameters or from ``rows`` (a select of votes)."""
    stmt = insert(_current)
    if rows is not None:
        stmt = stmt.from_select(
            ["participant_id", "statement_id", "consultation_id", "value", "vote_id", "updated_at"],
            select(
                rows.c.participant_id,
                rows.c.statement_id,
                rows.c.consultation_id,
                rows.c.value,
                rows.c.id,
                rows.c.created_at,
            ).where(rows.c.id.is_not(None)),
        )
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "statement_id"],
        set_={"value": stmt.excluded.value, "vote_id": stmt.excluded.vote_id, "updated_at": stmt.excluded.updated_at},
        where=_current.c.vote_id < stmt.excluded.vote_id,
    )


_UPSERT_CURRENT = {dialect: _upsert_current(insert) for dialect, insert in INSERTS.items()}


def _in_one_statement(moderation: ModerationMode):
    """PostgreSQL: the history row and the current vote in one statement (one round trip, atomic on its own)."""
    voted = (
        _INSERT_IF_VOTABLE[moderation]
        .returning(
            _vote.c.participant_id, _vote.c.statement_id, _vote.c.consultation_id, _vote.c.value, _vote.c.created_at
        )
        .cte("voted")
    )
    upserted = _upsert_current(INSERTS["postgresql"], voted).cte("upserted")
    return select(voted.c.id).add_cte(upserted)


_IN_ONE_STATEMENT = {mode: _in_one_statement(mode) for mode in ModerationMode}


def record(
    session: Session,
    consultation_id: int,
    participant_id: int,
    statement_id: int,
    value: VoteValue,
    now: datetime,
    *,
    moderation: ModerationMode | None = None,
) -> int | None:
    """Append a vote and make it the current vote, in the caller's transaction; the vote's id.

    With ``moderation``, only if the statement belongs to the consultation and is open for voting under that
    moderation mode (else None, nothing written), checked in the same statement as the write.
    """
    connection = session.connection()
    params = {
        "consultation_id": consultation_id,
        "participant_id": participant_id,
        "statement_id": statement_id,
        "value": int(value),
        "created_at": now,
    }
    dialect = connection.dialect.name
    if moderation is not None:
        if dialect == "postgresql":
            return connection.scalar(_IN_ONE_STATEMENT[moderation], params)
        vote_id = connection.scalar(_INSERT_IF_VOTABLE[moderation], params)
    else:
        vote_id = connection.scalar(_INSERT, params)
    if vote_id is not None:
        # Upserted in SQL, so concurrent re-votes never read-modify-write; the newest vote wins.
        connection.execute(
            _UPSERT_CURRENT[dialect],
            {
                "participant_id": participant_id,
                "statement_id": statement_id,
                "consultation_id": consultation_id,
                "value": int(value),
                "vote_id": vote_id,
                "updated_at": now,
            },
        )
    return vote_id


def record_many(session: Session, consultation_id: int, rows: list[dict]) -> int:
    """Append many votes of one consultation (``participant_id``, ``statement_id``, ``value``, ``created_at``; in
    time order) and make the latest of each participant and statement current; the caller commits. How many."""
    if not rows:
        return 0
    before = session.scalar(select(func.max(Vote.id))) or 0
    session.execute(_vote.insert(), [{"consultation_id": consultation_id, **row} for row in rows])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Fresh statistics first: without them the planner expects one vote and runs the IN below as a nested loop,
        # quadratic in the votes (a 50,000-vote import took hours). ANALYZE sees this transaction's rows.
        session.execute(text("ANALYZE vote"))
    # The rows went in in time order within this transaction: the highest id of a pair is its latest vote.
    mine = (_vote.c.consultation_id == consultation_id) & (_vote.c.id > before)
    latest = select(func.max(_vote.c.id)).where(mine).group_by(_vote.c.participant_id, _vote.c.statement_id)
    newest = select(_vote).where(mine, _vote.c.id.in_(latest)).subquery()
    session.execute(_upsert_current(INSERTS[dialect], newest))
    return len(rows)


def forget(session: Session, *, participant_id: int | None = None, statement_ids=None) -> int:
    """Delete a participant's votes, or every vote on ``statement_ids`` (a list or a subquery), history and current
    alike, in the caller's transaction; how many current votes went."""
    if participant_id is not None:
        current, history = _current.c.participant_id == participant_id, _vote.c.participant_id == participant_id
    else:
        current, history = _current.c.statement_id.in_(statement_ids), _vote.c.statement_id.in_(statement_ids)
    removed = session.execute(delete(_current).where(current)).rowcount
    session.execute(delete(_vote).where(history))
    return removed


def my_votes(session: Session, participant: Participant | None) -> list[tuple[Statement, int]]:
    """Every statement the participant voted on, with their current vote, in the order they first voted.

    A changed vote keeps its place, so a list someone is working through does not reorder under them.
    """
    if participant is None:
        return []
    first = (
        select(Vote.statement_id, func.min(Vote.id).label("first"))
        .where(Vote.participant_id == participant.id)
        .group_by(Vote.statement_id)
        .subquery()
    )
    rows = session.execute(
        select(Statement, CurrentVote.value)
        .join(CurrentVote, CurrentVote.statement_id == Statement.id)
        .join(first, first.c.statement_id == Statement.id)
        .where(CurrentVote.participant_id == participant.id)
        .order_by(first.c.first)
    ).all()
    return [(statement, value) for statement, value in rows]


def counts(session: Session, consultation: Consultation) -> tuple[int, int]:
    """(participants who voted, current votes) of a consultation."""
    row = session.execute(
        select(func.count(func.distinct(CurrentVote.participant_id)), func.count()).where(
            CurrentVote.consultation_id == consultation.id
        )
    ).one()
    return row[0], row[1]
