"""Moderation: seed statements, the queue with near-duplicate hints, accept / reject / meta, bans, and the log."""

import hashlib
import io
import statistics
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from analysis import csv_safe

from ..models import (
    REASON_MAX_LENGTH,
    Account,
    Consultation,
    ModerationAction,
    ModerationLogEntry,
    ModerationState,
    Participant,
    Statement,
    StatementOrigin,
    Vote,
    aware,
    utcnow,
)
from . import N_, Conflict, InvalidInput, NotFound, ServiceError, audit, is_id, statements
from .participation import identity
from .signals import votes_changed

PAGE_SIZE = 25
MAX_SEED_LINES = 1000
HINT_LIMIT = 3
HINT_THRESHOLD = 0.35  # below this, character n-gram TF-IDF cosine is mostly shared function words
REJECT_REASONS = {
    "off-topic": N_("Off topic"),
    "duplicate": N_("Repeats another statement"),
    "more-than-one-idea": N_("More than one idea"),
    "unclear": N_("Unclear"),
    "abusive": N_("Abusive or a personal attack"),
    "personal-data": N_("Contains personal information"),
    "spam": N_("Spam or advertising"),
}

# ----------------------------------------------------------------------------------------------------------------
# Seed statements
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedLine:
    number: int  # line number in what was pasted
    text: str
    error: ServiceError | None  # why it would be refused; None when it will be added


def preview_seeds(session: Session, consultation: Consultation, pasted: str) -> list[SeedLine]:
    """Each non-blank pasted line, validated as a participant's statement would be, with the reason it is refused."""
    lines = (pasted or "").splitlines()
    if sum(1 for line in lines if line.strip()) > MAX_SEED_LINES:
        raise InvalidInput(N_("Please paste at most %(limit)d statements at a time."), limit=MAX_SEED_LINES)
    result = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            text = statements.clean_text(raw)
        except ServiceError as error:
            result.append(SeedLine(number, raw.strip(), error))
            continue
        key = statements.text_key(text)
        if key in seen:
            result.append(SeedLine(number, text, InvalidInput(N_("Repeats line %(line)d."), line=seen[key])))
        elif statements.find_duplicate(session, consultation.id, text):
            result.append(SeedLine(number, text, Conflict(N_("Already in this consultation."))))
        else:
            seen[key] = number
            result.append(SeedLine(number, text, None))
    return result


def add_seeds(session: Session, account: Account, consultation: Consultation, pasted: str) -> list[SeedLine]:
    """Add every valid pasted line as an accepted seed statement; returns every line with its outcome."""
    lines = preview_seeds(session, consultation, pasted)
    if not lines:
        raise InvalidInput(N_("Please write at least one statement."))
    valid = [line for line in lines if line.error is None]
    now = utcnow()
    for line in valid:
        session.add(statements.seed(consultation.id, line.text, created_at=now))
    if valid:
        audit.record(session, account, consultation, "seeds_added", count=len(valid), refused=len(lines) - len(valid))
    session.commit()
    return lines


def add_seed(session: Session, account: Account, consultation: Consultation, text: str) -> Statement:
    """Add one seed statement, or raise saying why it cannot be added."""
    if "\n" in (text or "").strip():
        raise InvalidInput(N_("Write one statement here; use 'paste many' for several."))
    lines = preview_seeds(session, consultation, text)
    if not lines:
        raise InvalidInput(N_("The statement is empty: please write something."))
    if lines[0].error:
        raise lines[0].error
    add_seeds(session, account, consultation, lines[0].text)
    return statements.find_duplicate(session, consultation.id, lines[0].text)


def current_statements(session: Session, consultation: Consultation) -> list[Statement]:
    """The statements already in a consultation (accepted or waiting, not rejected), oldest first: what a facilitator
    adding seeds needs to see to avoid repeats."""
    return list(
        session.scalars(
            select(Statement)
            .where(Statement.consultation_id == consultation.id, Statement.moderation != ModerationState.REJECTED)
            .order_by(Statement.id)
        )
    )


def has_votes(session: Session, statement: Statement) -> bool:
    """True once anyone has voted on the statement."""
    return bool(session.scalar(select(exists().where(Vote.statement_id == statement.id))))


def get_statement(session: Session, consultation: Consultation, statement_id: object) -> Statement:
    """A statement of this consultation by id, or :class:`NotFound`."""
    statement = session.get(Statement, statement_id) if is_id(statement_id) else None
    if statement is None or statement.consultation_id != consultation.id:
        raise NotFound(N_("There is no such statement in this consultation."))
    return statement


def edit_statement(
    session: Session, account: Account, consultation: Consultation, statement_id: int, raw_text: str
) -> Statement:
    """Reword a statement nobody has voted on yet (a vote is a vote on the words as they were)."""
    statement = get_statement(session, consultation, statement_id)
    if has_votes(session, statement):
        raise Conflict(N_("People have already voted on this statement, so its wording can no longer change."))
    text = statements.clean_text(raw_text)
    duplicate = statements.find_duplicate(session, consultation.id, text)
    if duplicate is not None and duplicate.id != statement.id:
        raise Conflict(N_("That statement is already in this consultation."))
    if text != statement.text:
        session.add(
            ModerationLogEntry(
                consultation_id=consultation.id,
                account_id=account.id,
                statement_id=statement.id,
                action=ModerationAction.EDIT,
                reason=f"was: {statement.text}"[:REASON_MAX_LENGTH],
                created_at=utcnow(),
            )
        )
        statement.text = text
        statement.text_key = statements.text_key(text)
    session.commit()
    return statement


# ----------------------------------------------------------------------------------------------------------------
# The queue
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    statement: Statement
    similarity: float


@dataclass(frozen=True)
class QueueItem:
    statement: Statement
    votes: int
    editable: bool
    author_banned: bool
    hints: list[Hint]


@dataclass(frozen=True)
class QueuePage:
    state: ModerationState
    items: list[QueueItem]
    page: int
    pages: int
    total: int
    counts: dict[str, int]


def parse_state(value: object) -> ModerationState:
    """A moderation tab name (pending by default), or :class:`InvalidInput`."""
    try:
        return ModerationState(value or "pending")
    except ValueError:
        raise InvalidInput(N_("The tab must be pending, accepted or rejected.")) from None


def similar_statements(
    session: Session,
    consultation: Consultation,
    targets: list[Statement],
    *,
    limit: int = HINT_LIMIT,
    threshold: float = HINT_THRESHOLD,
) -> dict[int, list[Hint]]:
    """For each target, the most similar other statements of the consultation (TF-IDF cosine, character n-grams).

    Character n-grams within word boundaries need no tokeniser or stop-word list, so they work in any language
    and catch small rewordings and typos.
    """
    if not targets:
        return {}
    from sklearn.feature_extraction.text import TfidfVectorizer  # imported late: only moderation pages need it

    corpus = session.execute(
        select(Statement.id, Statement.text).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    if len(corpus) < 2:
        return {t.id: [] for t in targets}
    ids = [sid for sid, _ in corpus]
    position = {sid: i for i, sid in enumerate(ids)}
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=True, sublinear_tf=True)
    matrix = vectoriser.fit_transform([text for _, text in corpus])  # rows are L2-normalised: dot = cosine
    rows = [position[t.id] for t in targets]
    similarity = (matrix[rows] @ matrix.T).toarray()
    hints: dict[int, list[Hint]] = {}
    for target, row, scores in zip(targets, rows, similarity, strict=True):
        scores[row] = -1.0
        best = [i for i in scores.argsort()[::-1][:limit] if scores[i] >= threshold]
        hints[target.id] = [Hint(session.get(Statement, ids[i]), round(float(scores[i]), 2)) for i in best]
    return hints


def state_counts(session: Session, consultation: Consultation) -> dict[str, int]:
    """How many statements the consultation has in each moderation state."""
    rows = dict(
        session.execute(
            select(Statement.moderation, func.count())
            .where(Statement.consultation_id == consultation.id)
            .group_by(Statement.moderation)
        ).all()
    )
    return {state.value: rows.get(state, 0) for state in ModerationState}


def queue(session: Session, consultation: Consultation, state: object = "pending", page: object = 1) -> QueuePage:
    """One page of statements in one moderation state, newest first, with near-duplicate hints for pending ones."""
    state = parse_state(state)
    counts = state_counts(session, consultation)
    total = counts[state.value]
    pages = max(1, -(-total // PAGE_SIZE))
    try:
        page = min(max(1, int(page)), pages)
    except (TypeError, ValueError):
        page = 1
    votes = (
        select(Vote.statement_id, func.count(func.distinct(Vote.participant_id)).label("n"))
        .where(Vote.consultation_id == consultation.id)
        .group_by(Vote.statement_id)
        .subquery()
    )
    rows = session.execute(
        select(Statement, func.coalesce(votes.c.n, 0), func.coalesce(Participant.is_banned, False))
        .outerjoin(votes, votes.c.statement_id == Statement.id)
        .outerjoin(Participant, Participant.id == Statement.author_id)
        .where(Statement.consultation_id == consultation.id, Statement.moderation == state)
        .order_by(Statement.created_at.desc(), Statement.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    hints = (
        similar_statements(session, consultation, [s for s, _, _ in rows]) if state == ModerationState.PENDING else {}
    )
    items = [
        QueueItem(statement, n, n == 0, bool(banned), hints.get(statement.id, [])) for statement, n, banned in rows
    ]
    return QueuePage(state, items, page, pages, total, counts)


def reason_text(code: object, free_text: object) -> str | None:
    """The reason to log: the free text if given, else the label of the chosen reason."""
    free = str(free_text or "").strip()
    if free:
        return free[:REASON_MAX_LENGTH]
    return REJECT_REASONS.get(str(code or ""))


_STATE_OF = {ModerationAction.ACCEPT: ModerationState.ACCEPTED, ModerationAction.REJECT: ModerationState.REJECTED}


def act(
    session: Session,
    account: Account,
    consultation: Consultation,
    statement_ids: list,
    action: object,
    reason: str | None = None,
) -> int:
    """Accept, reject (with a reason), mark or unmark as meta one or many statements; each one is logged."""
    try:
        action = ModerationAction(action)
    except ValueError:
        action = None
    if action not in (ModerationAction.ACCEPT, ModerationAction.REJECT, ModerationAction.META, ModerationAction.UNMETA):
        raise InvalidInput(N_("Choose an action: accept, reject, meta or not meta."))
    try:
        ids = sorted({int(sid) for sid in statement_ids})
    except (TypeError, ValueError):
        raise InvalidInput(N_("The statements chosen are not valid.")) from None
    if not ids:
        raise InvalidInput(N_("Select at least one statement first."))
    if action == ModerationAction.REJECT and not reason:
        raise InvalidInput(N_("Choose or write a reason for rejecting."))
    chosen = [get_statement(session, consultation, sid) for sid in ids]
    now = utcnow()
    for statement in chosen:
        if action in _STATE_OF:
            statement.moderation = _STATE_OF[action]
        else:
            statement.is_meta = action == ModerationAction.META
            if action == ModerationAction.UNMETA:  # the facilitator undoes "about participants" too
                statement.about_participants = False
        session.add(
            ModerationLogEntry(
                consultation_id=consultation.id,
                account_id=account.id,
                statement_id=statement.id,
                action=action,
                reason=reason if action == ModerationAction.REJECT else None,
                created_at=now,
            )
        )
    session.commit()
    votes_changed.send(consultation.id)
    return len(chosen)


def get_participant(session: Session, consultation: Consultation, participant_id: object) -> Participant:
    """A participant of this consultation by id, or :class:`NotFound`."""
    participant = session.get(Participant, participant_id) if is_id(participant_id) else None
    if participant is None or participant.consultation_id != consultation.id:
        raise NotFound(N_("There is no such participant in this consultation."))
    return participant


def ban(session: Session, account: Account, consultation: Consultation, participant_id: object, reason: str) -> int:
    """Ban a participant: their votes leave the analysis and their statements are rejected; returns how many."""
    participant = get_participant(session, consultation, participant_id)
    if participant.is_banned:
        raise Conflict(N_("This participant is already banned."))
    if not reason:
        raise InvalidInput(N_("Choose or write a reason for the ban."))
    now = utcnow()
    participant.is_banned = True
    identity.record_ban(session, participant)  # survives the participant deleting their data
    session.add(
        ModerationLogEntry(
            consultation_id=consultation.id,
            account_id=account.id,
            participant_id=participant.id,
            action=ModerationAction.BAN,
            reason=reason,
            created_at=now,
        )
    )
    theirs = session.scalars(
        select(Statement).where(Statement.author_id == participant.id, Statement.moderation != ModerationState.REJECTED)
    ).all()
    for statement in theirs:
        statement.moderation = ModerationState.REJECTED
        session.add(
            ModerationLogEntry(
                consultation_id=consultation.id,
                account_id=account.id,
                statement_id=statement.id,
                participant_id=participant.id,
                action=ModerationAction.REJECT,
                reason=f"Author banned: {reason}"[:REASON_MAX_LENGTH],
                created_at=now,
            )
        )
    session.commit()
    votes_changed.send(consultation.id)
    return len(theirs)


def unban(
    session: Session, account: Account, consultation: Consultation, participant_id: object, reason: str | None
) -> None:
    """Lift a ban: the participant may take part again and their votes count in the next analysis.

    Their statements stay rejected: the ban's reason may still apply to some of them, so a moderator accepts again
    only those that deserve it, one by one, from the rejected tab.
    """
    participant = get_participant(session, consultation, participant_id)
    if not participant.is_banned:
        raise Conflict(N_("This participant is not banned."))
    participant.is_banned = False
    identity.lift_ban(session, participant)
    session.add(
        ModerationLogEntry(
            consultation_id=consultation.id,
            account_id=account.id,
            participant_id=participant.id,
            action=ModerationAction.UNBAN,
            reason=reason or None,
            created_at=utcnow(),
        )
    )
    session.commit()
    votes_changed.send(consultation.id)


# ----------------------------------------------------------------------------------------------------------------
# The log
# ----------------------------------------------------------------------------------------------------------------


def log(session: Session, consultation: Consultation, *, limit: int | None = 500) -> list[ModerationLogEntry]:
    """Moderation actions on the consultation, newest first."""
    query = (
        select(ModerationLogEntry)
        .where(ModerationLogEntry.consultation_id == consultation.id)
        .order_by(ModerationLogEntry.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def translated_reason(reason: str | None) -> str | None:
    """A logged reason in the interface language when it is one of :data:`REJECT_REASONS`, else as written."""
    if reason in REJECT_REASONS.values():
        from flask_babel import gettext

        return gettext(reason)
    return reason


def _csv(header: tuple, rows) -> str:
    """The log's CSV, formulas neutralised: the staff download and the canonical form a report's hash covers."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


LOG_HEADER = ("time", "moderator", "action", "statement_id", "statement", "participant_id", "reason")
CANONICAL_LOG_HEADER = ("id", "time", "action", "statement_id", "participant_id", "reason")


def _time(entry: ModerationLogEntry) -> str:
    return aware(entry.created_at).isoformat(timespec="seconds")


def log_csv(session: Session, consultation: Consultation) -> str:
    """The whole moderation log as CSV, oldest first: every action, with who took it."""
    return _csv(
        LOG_HEADER,
        (
            (
                _time(entry),
                entry.account.email if entry.account else "",
                entry.action.value,
                entry.statement_id or "",
                entry.statement.text if entry.statement else "",
                entry.participant_id or "",
                entry.reason or "",
            )
            for entry in reversed(log(session, consultation, limit=None))
        ),
    )


def _canonical_rows(session: Session, consultation_id: int):
    """The canonical log's rows, oldest first: what both the log's hash and its prefixes' hashes are made of."""
    entries = session.scalars(
        select(ModerationLogEntry)
        .where(ModerationLogEntry.consultation_id == consultation_id)
        .order_by(ModerationLogEntry.id)
    )
    return (
        (e.id, _time(e), e.action.value, e.statement_id or "", e.participant_id or "", e.reason or "") for e in entries
    )


def canonical_log_csv(session: Session, consultation_id: int) -> bytes:
    """The moderation log as a published report's SHA-256 covers it: oldest first, UTF-8, LF line ends.

    Only what cannot change afterwards: no moderator e-mail (accounts are renamed and deleted) and no statement
    text (a statement nobody voted on may be reworded; the rewording is itself an ``edit`` row).
    """
    return _csv(CANONICAL_LOG_HEADER, _canonical_rows(session, consultation_id)).encode()


def canonical_log_prefix_sha256(session: Session, consultation_id: int):
    """``(entries, SHA-256)`` of the canonical log's every prefix, oldest first, starting with the header alone.

    A published report hashes the log as it stood; rows appended since (later moderation, a participant's deletion
    recorded by a "redact" row) leave that prefix unchanged, so ``participate verify`` finds it among these.
    """
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(CANONICAL_LOG_HEADER)
    digest = hashlib.sha256(out.getvalue().encode())
    yield 0, digest.hexdigest()
    for count, row in enumerate(_canonical_rows(session, consultation_id), start=1):
        out.seek(0)
        out.truncate()
        writer.writerow(row)
        digest.update(out.getvalue().encode())
        yield count, digest.hexdigest()


def decision_times(session: Session, consultation_id: int) -> dict:
    """How long participants' statements waited for a moderator: ``{"decided", "waiting", "median_seconds"}``.

    From each statement's submission to the first accept or reject logged for it; statements still pending count
    as waiting. The median is None before any decision.
    """
    first = (
        select(ModerationLogEntry.statement_id, func.min(ModerationLogEntry.created_at).label("at"))
        .where(
            ModerationLogEntry.consultation_id == consultation_id,
            ModerationLogEntry.action.in_((ModerationAction.ACCEPT, ModerationAction.REJECT)),
        )
        .group_by(ModerationLogEntry.statement_id)
        .subquery()
    )
    rows = session.execute(
        select(Statement.created_at, first.c.at, Statement.moderation)
        .outerjoin(first, first.c.statement_id == Statement.id)
        .where(Statement.consultation_id == consultation_id, Statement.origin == StatementOrigin.PARTICIPANT)
    ).all()
    waits = sorted(
        max(0.0, (aware(decided) - aware(created)).total_seconds()) for created, decided, _ in rows if decided
    )
    waiting = sum(1 for _, decided, state in rows if decided is None and state == ModerationState.PENDING)
    return {"decided": len(waits), "waiting": waiting, "median_seconds": statistics.median(waits) if waits else None}
