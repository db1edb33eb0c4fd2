"""The next statement a participant is shown, drawn among those they have not voted on yet."""

import random
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ...models import Consultation, CurrentVote, ModerationMode, Participant, Statement, StatementOrigin
from . import votes


@dataclass(frozen=True)
class Shown:
    """A statement as a participant sees it."""

    id: int
    text: str
    origin: str  # "seed" (the organisers') or "participant": shown beside the text


@dataclass(frozen=True)
class Next:
    statement: Shown | None
    remaining: int


_statement, _current = Statement.__table__, CurrentVote.__table__


def _candidates(moderation: ModerationMode):
    """Statements open for voting that the participant has not voted on (participant_id NULL: all of them), but for
    ``exclude`` (0: none)."""
    return select(_statement.c.id).where(
        _statement.c.consultation_id == bindparam("consultation_id"),
        votes.shown_under(moderation),
        _statement.c.id != bindparam("exclude"),
        _statement.c.id.not_in(
            select(_current.c.statement_id).where(_current.c.participant_id == bindparam("participant_id"))
        ),
    )


def _with_counts(candidates):
    counts = (
        select(_current.c.statement_id, func.count().label("n"))
        .where(_current.c.consultation_id == bindparam("consultation_id"))
        .group_by(_current.c.statement_id)
        .subquery()
    )
    return candidates.add_columns(func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.statement_id == _statement.c.id
    )


# Built once per moderation mode: building a statement costs more than running it.
_CANDIDATES = {mode: _candidates(mode) for mode in ModerationMode}
_CANDIDATES_WITH_COUNTS = {mode: _with_counts(_candidates(mode)) for mode in ModerationMode}
_TEXT = select(_statement.c.text, _statement.c.origin).where(_statement.c.id == bindparam("id"))


def next_statement(
    session: Session,
    consultation: Consultation,
    participant: Participant | None,
    *,
    priorities: dict[int, float] | None = None,
    rng: random.Random | None = None,
) -> Next:
    """Draw the next statement for a participant among those they have not voted on.

    With an analysis, draw with probability proportional to its priority (polis-math.md §10; statements
    the analysis has not seen yet weigh 1); without one, the statements with the fewest votes first.
    """
    return draw(
        session, consultation.id, consultation.moderation, participant.id if participant else None, priorities, rng
    )


def draw(
    session: Session,
    consultation_id: int,
    moderation: ModerationMode,
    participant_id: int | None,
    priorities: dict[int, float] | None,
    rng: random.Random | None = None,
    exclude: int = 0,
) -> Next:
    """:func:`next_statement` by ids, in Core SQL (it runs with every vote); ``exclude``: the one being voted on."""
    rng = rng or random.SystemRandom()
    connection = session.connection()
    params = {"consultation_id": consultation_id, "participant_id": participant_id, "exclude": exclude}
    chosen = None
    if priorities:
        # The priorities alone decide: no need to count every vote of the consultation on each draw.
        ids = connection.scalars(_CANDIDATES[moderation], params).all()
        if not ids:
            return Next(None, 0)
        weights = [max(priorities.get(sid, 1.0), 0.0) for sid in ids]
        if sum(weights) > 0:
            chosen, remaining = rng.choices(ids, weights=weights, k=1)[0], len(ids)
    if chosen is None:
        rows = connection.execute(_CANDIDATES_WITH_COUNTS[moderation], params).all()
        if not rows:
            return Next(None, 0)
        fewest = min(n for _, n in rows)
        chosen, remaining = rng.choice([sid for sid, n in rows if n == fewest]), len(rows)
    text, origin = connection.execute(_TEXT, {"id": chosen}).one()
    return Next(Shown(chosen, text, StatementOrigin(origin).value), remaining)
