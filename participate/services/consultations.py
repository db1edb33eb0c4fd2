"""Consultations: public listing and look-up, set-up by facilitators, eligibility, monitoring, and the samples."""

import csv
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from ..models import (
    SLUG_MAX_LENGTH,
    Account,
    AllowedXid,
    Consultation,
    ConsultationModerator,
    ConsultationOwner,
    ConsultationStatus,
    CurrentVote,
    Eligibility,
    InviteCode,
    ModerationMode,
    ModerationState,
    Participant,
    ReportVisibility,
    Role,
    Statement,
    StatementOrigin,
    StatementTheme,
    Vote,
    utcnow,
)
from . import N_, Conflict, Forbidden, InvalidInput, NotFound, audit, participants, statements, voting

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "consultations"


@dataclass(frozen=True)
class Listing:
    consultation: Consultation
    participants: int
    statements: int


def get_any(session: Session, slug: str) -> Consultation:
    """A consultation by slug, whatever its status (for staff and the command line)."""
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(f"There is no consultation with the slug {slug!r}.")
    apply_schedule(session, consultation)
    return consultation


def get_public(session: Session, slug: str) -> Consultation:
    """An open or closed consultation by slug; drafts are invisible to the public."""
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is not None:
        apply_schedule(session, consultation)
    if consultation is None or consultation.status == ConsultationStatus.DRAFT:
        raise NotFound(N_("There is no consultation at this address."))
    return consultation


def public_listing(session: Session, *, statuses=(ConsultationStatus.OPEN,)) -> list[Listing]:
    """Consultations with how many people have taken part and how many statements are open for voting."""
    apply_due_schedules(session)
    voters = (
        select(CurrentVote.consultation_id, func.count(func.distinct(CurrentVote.participant_id)).label("n"))
        .group_by(CurrentVote.consultation_id)
        .subquery()
    )
    rows = session.execute(
        select(Consultation, func.coalesce(voters.c.n, 0))
        .outerjoin(voters, voters.c.consultation_id == Consultation.id)
        .where(Consultation.status.in_(statuses))
        .order_by(Consultation.opened_at.desc(), Consultation.id)
    ).all()
    listings = []
    for consultation, n_participants in rows:
        n_statements = session.scalar(
            select(func.count())
            .select_from(Statement)
            .where(Statement.consultation_id == consultation.id, voting.votable(consultation))
        )
        listings.append(Listing(consultation, n_participants, n_statements))
    return listings


def load_sample(session: Session, data: dict) -> Consultation:
    """Create a sample consultation, or add the statements it lacks; running it twice changes nothing."""
    consultation = session.scalar(select(Consultation).where(Consultation.slug == data["slug"]))
    if consultation is None:
        consultation = Consultation(
            slug=data["slug"],
            title=data["title"],
            question=data["question"],
            description=data.get("description", "").strip(),
            moderation=ModerationMode(data.get("moderation", "post")),
            allow_statements=bool(data.get("allow_statements", True)),
            status=ConsultationStatus(data.get("status", "open")),
            is_simulated=bool(data.get("simulated", False)),
            opened_at=utcnow(),
        )
        session.add(consultation)
        session.flush()
    sources = data.get("sources", {})
    for item in data["statements"]:
        text = statements.clean_text(item["text"])
        if statements.find_duplicate(session, consultation.id, text):
            continue
        source = sources.get(item.get("source"), {}).get("title", item.get("source"))
        section = item.get("section")
        statement = Statement(
            consultation_id=consultation.id,
            text=text,
            text_key=statements.text_key(text),
            origin=StatementOrigin.SEED,
            moderation=ModerationState.ACCEPTED,
            is_meta=bool(item.get("is_meta", False)),
            source=(f"{source}, {section}" if source and section else source)[:200] if source else None,
        )
        statement.themes = [StatementTheme(name=name) for name in dict.fromkeys(item.get("themes", []))]
        session.add(statement)
        session.flush()
    session.commit()
    return consultation


def load_samples(session: Session, folder: Path = SAMPLES) -> list[Consultation]:
    """Load every sample consultation file in ``folder``."""
    loaded = []
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            loaded.append(load_sample(session, yaml.safe_load(f)))
    return loaded


# ----------------------------------------------------------------------------------------------------------------
# Scheduled opening and closing: applied whenever a consultation is loaded, so no background process is needed.
# ----------------------------------------------------------------------------------------------------------------


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time Participate stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def apply_schedule(session: Session, consultation: Consultation, *, now: datetime | None = None) -> bool:
    """Open or close the consultation if its scheduled time has passed; True (and committed) if it changed."""
    now = now or utcnow()
    changed = False
    opens, closes = aware(consultation.scheduled_open_at), aware(consultation.scheduled_close_at)
    if opens is not None and opens <= now:
        if consultation.status == ConsultationStatus.DRAFT:
            consultation.status = ConsultationStatus.OPEN
            consultation.opened_at = opens
            audit.record(session, None, consultation, "opened", scheduled=opens.isoformat())
        consultation.scheduled_open_at = None
        changed = True
    if closes is not None and closes <= now and consultation.status != ConsultationStatus.DRAFT:
        if consultation.status == ConsultationStatus.OPEN:
            consultation.status = ConsultationStatus.CLOSED
            consultation.closed_at = closes
            audit.record(session, None, consultation, "closed", scheduled=closes.isoformat())
        consultation.scheduled_close_at = None
        changed = True
    if changed:
        session.commit()
    return changed


def apply_due_schedules(session: Session, *, now: datetime | None = None) -> int:
    """Apply every schedule that has come due (before listing consultations); returns how many changed."""
    now = now or utcnow()
    due = session.scalars(
        select(Consultation).where(
            or_(
                (Consultation.status == ConsultationStatus.DRAFT) & (Consultation.scheduled_open_at <= now),
                (Consultation.status == ConsultationStatus.OPEN) & (Consultation.scheduled_close_at <= now),
            )
        )
    ).all()
    return sum(apply_schedule(session, consultation, now=now) for consultation in due)


# ----------------------------------------------------------------------------------------------------------------
# Staff access: admins see everything, facilitators their own, moderators what they are assigned to.
# ----------------------------------------------------------------------------------------------------------------


def is_owner(session: Session, account: Account, consultation: Consultation) -> bool:
    """True if ``account`` created (owns) the consultation."""
    link = session.get(ConsultationOwner, consultation.id)
    return link is not None and link.account_id == account.id


def can_manage(session: Session, account: Account, consultation: Consultation) -> bool:
    """Change settings, statements, eligibility; export: the admin and the owner."""
    return account.role == Role.ADMIN or (account.role == Role.FACILITATOR and is_owner(session, account, consultation))


def can_moderate(session: Session, account: Account, consultation: Consultation) -> bool:
    """Moderate: whoever can manage, and the moderators assigned to the consultation."""
    if can_manage(session, account, consultation):
        return True
    return session.get(ConsultationModerator, (consultation.id, account.id)) is not None


def for_staff(session: Session, account: Account, slug: str, *, manage: bool = True) -> Consultation:
    """The consultation if ``account`` may manage it (or moderate it, with ``manage=False``).

    Someone with no business there gets 404, as if it did not exist; an assigned moderator asking to manage gets 403.
    """
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(N_("There is no consultation at this address."))
    apply_schedule(session, consultation)
    if can_manage(session, account, consultation):
        return consultation
    if can_moderate(session, account, consultation):
        if manage:
            raise Forbidden("As a moderator of this consultation you can moderate it, but not change its set-up.")
        return consultation
    raise NotFound(N_("There is no consultation at this address."))


def require_facilitator(account: Account) -> None:
    """Refuse moderators: only facilitators and admins create or import consultations."""
    if account.role not in (Role.ADMIN, Role.FACILITATOR):
        raise Forbidden("Only facilitators and admins can create or import consultations.")


@dataclass(frozen=True)
class StaffListing:
    consultation: Consultation
    can_manage: bool
    owner_email: str | None


def staff_listing(session: Session, account: Account) -> list[StaffListing]:
    """The consultations on the account's dashboard, newest first."""
    apply_due_schedules(session)
    query = (
        select(Consultation, ConsultationOwner.account_id, Account.email)
        .outerjoin(ConsultationOwner, ConsultationOwner.consultation_id == Consultation.id)
        .outerjoin(Account, Account.id == ConsultationOwner.account_id)
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
    )
    assigned = select(ConsultationModerator.consultation_id).where(ConsultationModerator.account_id == account.id)
    if account.role == Role.FACILITATOR:
        query = query.where(or_(ConsultationOwner.account_id == account.id, Consultation.id.in_(assigned)))
    elif account.role == Role.MODERATOR:
        query = query.where(Consultation.id.in_(assigned))
    return [
        StaffListing(
            consultation,
            account.role == Role.ADMIN or (account.role == Role.FACILITATOR and owner_id == account.id),
            email,
        )
        for consultation, owner_id, email in session.execute(query).all()
    ]


# ----------------------------------------------------------------------------------------------------------------
# Set-up
# ----------------------------------------------------------------------------------------------------------------

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DESCRIPTION_MAX_LENGTH = 10_000
SETTINGS = (
    "title",
    "question",
    "description",
    "slug",
    "moderation",
    "allow_statements",
    "report_visibility",
    "eligibility",
    "scheduled_open_at",
    "scheduled_close_at",
)


def slugify(text: str) -> str:
    """A URL slug from a title: ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:SLUG_MAX_LENGTH].strip("-") or "consultation"


def unique_slug(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free."""
    base = base[: SLUG_MAX_LENGTH - 6].strip("-") or "consultation"
    candidate, n = base, 1
    while session.scalar(select(exists().where(Consultation.slug == candidate))):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _text(data: dict, name: str, label: str, max_length: int, *, required: bool = True) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(f"Please give the {label}.")
    if len(value) > max_length:
        raise InvalidInput(f"The {label} is {len(value)} characters long; the limit is {max_length}.")
    return value


def _choice(kind, value, label: str):
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInput(f"The {label} must be one of: {allowed}.") from None


def parse_moment(value: object, label: str) -> datetime | None:
    """A date and time from a form (``YYYY-MM-DDTHH:MM``, UTC) or None when blank."""
    if isinstance(value, datetime):
        return aware(value)
    text = str(value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"The {label} must be a date and time like 2026-12-31T18:00.") from None
    return aware(moment)


def _settings(session: Session, data: dict, consultation: Consultation | None, now: datetime) -> dict:
    """Validated settings from form data; on edit, fields missing from ``data`` keep their value."""

    def given(name):
        return consultation is None or name in data

    values: dict = {}
    if given("title"):
        values["title"] = _text(data, "title", "title", 200)
    if given("question"):
        values["question"] = _text(data, "question", "question", 500)
    if given("description"):
        values["description"] = _text(data, "description", "description", DESCRIPTION_MAX_LENGTH, required=False)
    if given("slug"):
        slug = str(data.get("slug") or "").strip().lower()
        if not slug and consultation is None:
            slug = unique_slug(session, slugify(values["title"]))
        if not SLUG.match(slug) or len(slug) > SLUG_MAX_LENGTH:
            raise InvalidInput(
                f"The web address must be lowercase letters, digits and single hyphens, at most {SLUG_MAX_LENGTH}."
            )
        taken = session.scalar(select(Consultation.id).where(Consultation.slug == slug))
        if taken is not None and (consultation is None or taken != consultation.id):
            raise Conflict(f"The web address {slug!r} is already used by another consultation.")
        values["slug"] = slug
    if given("moderation"):
        values["moderation"] = _choice(ModerationMode, data.get("moderation") or "post", "moderation mode")
    if given("allow_statements"):  # on creation, absent means allowed; forms send "" for an unticked box
        values["allow_statements"] = data.get("allow_statements", True) in (True, "1", "on", "true", "yes")
    if given("report_visibility"):
        values["report_visibility"] = _choice(
            ReportVisibility, data.get("report_visibility") or "public", "report visibility"
        )
    if given("eligibility"):
        values["eligibility"] = _choice(Eligibility, data.get("eligibility") or "open", "eligibility")
    for name, label in (("scheduled_open_at", "opening time"), ("scheduled_close_at", "closing time")):
        if given(name):
            moment = parse_moment(data.get(name), label)
            if moment is not None and moment <= now and moment != aware(getattr(consultation, name, None)):
                raise InvalidInput(f"The {label} is in the past: choose a later time, or open or close it now.")
            values[name] = moment
    opens = values.get("scheduled_open_at", getattr(consultation, "scheduled_open_at", None))
    closes = values.get("scheduled_close_at", getattr(consultation, "scheduled_close_at", None))
    if opens and closes and aware(closes) <= aware(opens):
        raise InvalidInput("The closing time must be after the opening time.")
    return values


def _jsonable(value):
    if isinstance(value, datetime):
        return aware(value).isoformat()
    return value.value if hasattr(value, "value") else value


def create(session: Session, account: Account, data: dict, *, now: datetime | None = None) -> Consultation:
    """A facilitator creates a consultation (a draft, owned by them)."""
    require_facilitator(account)
    now = now or utcnow()
    values = _settings(session, data, None, now)
    consultation = Consultation(status=ConsultationStatus.DRAFT, created_at=now, **values)
    if consultation.report_visibility == ReportVisibility.LINK:
        consultation.report_key = secrets.token_urlsafe(24)
    session.add(consultation)
    session.flush()
    session.add(ConsultationOwner(consultation_id=consultation.id, account_id=account.id))
    audit.record(session, account, consultation, "created", slug=consultation.slug)
    session.commit()
    return consultation


def update(
    session: Session, account: Account, consultation: Consultation, data: dict, *, now: datetime | None = None
) -> dict:
    """Change settings; returns (and audits) what changed as {field: [old, new]}."""
    values = _settings(session, data, consultation, now or utcnow())
    changes = {}
    for name, new in values.items():
        old = getattr(consultation, name)
        if isinstance(old, datetime):
            old = aware(old)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(consultation, name, new)
    if consultation.report_visibility == ReportVisibility.LINK and not consultation.report_key:
        consultation.report_key = secrets.token_urlsafe(24)
    if changes:
        audit.record(session, account, consultation, "settings_changed", changes=changes)
    session.commit()
    return changes


def open_now(session: Session, account: Account, consultation: Consultation) -> Consultation:
    """Open (or re-open) the consultation for votes and statements."""
    if consultation.status == ConsultationStatus.OPEN:
        raise Conflict("This consultation is already open.")
    consultation.status = ConsultationStatus.OPEN
    consultation.opened_at = consultation.opened_at or utcnow()
    consultation.closed_at = None
    consultation.scheduled_open_at = None
    audit.record(session, account, consultation, "opened")
    session.commit()
    return consultation


def close_now(session: Session, account: Account, consultation: Consultation) -> Consultation:
    """Close the consultation: read-only from now on, its results stay visible."""
    if consultation.status != ConsultationStatus.OPEN:
        raise Conflict("Only an open consultation can be closed.")
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = utcnow()
    consultation.scheduled_close_at = None
    audit.record(session, account, consultation, "closed")
    session.commit()
    return consultation


# ----------------------------------------------------------------------------------------------------------------
# Moderators
# ----------------------------------------------------------------------------------------------------------------


def moderators(session: Session, consultation: Consultation) -> list[Account]:
    """The accounts assigned to moderate the consultation, by email."""
    return list(
        session.scalars(
            select(Account)
            .join(ConsultationModerator, ConsultationModerator.account_id == Account.id)
            .where(ConsultationModerator.consultation_id == consultation.id)
            .order_by(Account.email)
        )
    )


def add_moderator(session: Session, actor: Account, consultation: Consultation, email: str) -> Account:
    """Assign an existing account to moderate the consultation."""
    moderator = session.scalar(select(Account).where(Account.email == (email or "").strip().lower()))
    if moderator is None or not moderator.is_active:
        raise NotFound("There is no active account with that email address. An admin can invite them first.")
    if session.get(ConsultationModerator, (consultation.id, moderator.id)):
        raise Conflict(f"{moderator.email} already moderates this consultation.")
    session.add(ConsultationModerator(consultation_id=consultation.id, account_id=moderator.id))
    audit.record(session, actor, consultation, "moderator_added", email=moderator.email)
    session.commit()
    return moderator


def remove_moderator(session: Session, actor: Account, consultation: Consultation, account_id: int) -> None:
    """Unassign a moderator from the consultation."""
    link = session.get(ConsultationModerator, (consultation.id, account_id))
    if link is None:
        raise NotFound("That account does not moderate this consultation.")
    email = session.get(Account, account_id).email
    session.delete(link)
    audit.record(session, actor, consultation, "moderator_removed", email=email)
    session.commit()


# ----------------------------------------------------------------------------------------------------------------
# Eligibility: open to anyone with the link, an XID allow-list, or one-time invite codes
# ----------------------------------------------------------------------------------------------------------------

XID_MAX_LENGTH = 200
MAX_INVITE_CODES = 10_000
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes get read aloud and typed
CODE_LENGTH = 10


def parse_xids(text: str) -> list[str]:
    """XIDs from an uploaded file: the first column of each CSV row; blank rows and an ``xid`` header skipped."""
    xids: dict[str, None] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text or "")), start=1):
        if not row or not row[0].strip():
            continue
        xid = row[0].strip()
        if number == 1 and xid.lower() == "xid":
            continue
        if len(xid) > XID_MAX_LENGTH:
            raise InvalidInput(f"Row {number}: the XID is longer than {XID_MAX_LENGTH} characters.")
        xids[xid] = None
    return list(xids)


def set_allowed_xids(session: Session, actor: Account, consultation: Consultation, text: str) -> int:
    """Replace the consultation's XID allow-list with the XIDs in ``text``; returns how many there are."""
    xids = parse_xids(text)
    if not xids:
        raise InvalidInput("The file has no XIDs: put one per line (a CSV file's first column is used).")
    session.execute(delete(AllowedXid).where(AllowedXid.consultation_id == consultation.id))
    session.execute(AllowedXid.__table__.insert(), [{"consultation_id": consultation.id, "xid": xid} for xid in xids])
    audit.record(session, actor, consultation, "xid_list_uploaded", count=len(xids))
    session.commit()
    return len(xids)


def allowed_xid_count(session: Session, consultation: Consultation) -> int:
    """How many XIDs are on the consultation's allow-list."""
    return session.scalar(select(func.count()).where(AllowedXid.consultation_id == consultation.id))


def generate_invite_codes(session: Session, actor: Account, consultation: Consultation, count: object) -> int:
    """Make ``count`` new one-time invite codes."""
    try:
        n = int(count)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_INVITE_CODES:
        raise InvalidInput(f"Choose how many codes to make: between 1 and {MAX_INVITE_CODES}.")
    existing = set(session.scalars(select(InviteCode.code).where(InviteCode.consultation_id == consultation.id)))
    codes: set[str] = set()
    while len(codes) < n:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in existing:
            codes.add(code)
    now = utcnow()
    session.execute(
        InviteCode.__table__.insert(),
        [{"consultation_id": consultation.id, "code": code, "created_at": now} for code in sorted(codes)],
    )
    audit.record(session, actor, consultation, "invite_codes_generated", count=n)
    session.commit()
    return n


def invite_code_counts(session: Session, consultation: Consultation) -> tuple[int, int]:
    """(codes, codes used)."""
    row = session.execute(
        select(func.count(), func.count(InviteCode.participant_id)).where(InviteCode.consultation_id == consultation.id)
    ).one()
    return row[0], row[1]


def invite_codes_csv(session: Session, consultation: Consultation, participate_url: str) -> str:
    """Every invite code with its personal link and whether it has been used, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "link", "used_at"])
    for code in session.scalars(
        select(InviteCode).where(InviteCode.consultation_id == consultation.id).order_by(InviteCode.id)
    ):
        used = aware(code.used_at).isoformat() if code.used_at else ""
        writer.writerow([code.code, f"{participate_url}?code={code.code}", used])
    return out.getvalue()


def _normal_code(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").upper()


def admit(
    session: Session, consultation: Consultation, token: str, *, xid: str | None = None, code: str | None = None
) -> None:
    """A visitor arrives with ``?xid=`` or ``?code=``: make this browser an eligible participant, or refuse."""
    if consultation.eligibility == Eligibility.XID and xid:
        _admit_xid(session, consultation, token, xid.strip())
    elif consultation.eligibility == Eligibility.INVITE and code:
        _admit_code(session, consultation, token, _normal_code(code))
    session.commit()


def _admit_xid(session: Session, consultation: Consultation, token: str, xid: str) -> None:
    allowed = session.get(AllowedXid, (consultation.id, xid))
    if allowed is None:
        raise Forbidden(N_("This personal link is not on the list of people invited to this consultation."))
    participant = participants.find(session, consultation, token)
    bound = session.scalar(
        select(Participant).where(Participant.consultation_id == consultation.id, Participant.xid == xid)
    )
    if participant is not None:
        if participant.xid == xid:
            return
        if participant.xid is not None or bound is not None:
            raise Forbidden(N_("This browser has already taken part in this consultation as someone else."))
        participant.xid = xid
    elif bound is not None:
        # The same person on another device: their participation follows their personal link.
        bound.token_hash = participants.token_hash(token, consultation.id)
    else:
        participant = participants.find_or_add(session, consultation, token)
        participant.xid = xid


def _admit_code(session: Session, consultation: Consultation, token: str, code: str) -> None:
    invite = session.scalar(
        select(InviteCode).where(InviteCode.consultation_id == consultation.id, InviteCode.code == code)
    )
    if invite is None:
        raise Forbidden(N_("This invite code is not valid for this consultation. Please check it and try again."))
    participant = participants.find(session, consultation, token)
    if invite.participant_id is not None:
        if participant is not None and invite.participant_id == participant.id:
            return
        raise Forbidden(N_("This invite code has already been used. Each code admits one person."))
    if participant is not None and _has_code(session, participant):
        return  # already admitted with another code: do not use up this one
    participant = participant or participants.find_or_add(session, consultation, token)
    invite.participant_id = participant.id
    invite.used_at = utcnow()


def _has_code(session: Session, participant: Participant) -> bool:
    return bool(session.scalar(select(exists().where(InviteCode.participant_id == participant.id))))


def check_eligible(session: Session, consultation: Consultation, token: str | None) -> None:
    """Raise :class:`Forbidden`, with a message for the visitor, unless this browser may take part."""
    participant = participants.find(session, consultation, token) if token else None
    if participant is not None and participant.is_banned:
        raise Forbidden(N_("You can no longer take part in this consultation."))
    if consultation.eligibility == Eligibility.OPEN:
        return
    if consultation.eligibility == Eligibility.XID:
        if (
            participant is None
            or participant.xid is None
            or session.get(AllowedXid, (consultation.id, participant.xid)) is None
        ):
            raise Forbidden(
                N_("This consultation is open only to invited people. Please use the personal link you were given.")
            )
        return
    if participant is None or not _has_code(session, participant):
        raise Forbidden(N_("This consultation is open only to people with an invite code. Please enter your code."))


# ----------------------------------------------------------------------------------------------------------------
# Monitoring
# ----------------------------------------------------------------------------------------------------------------

VOTES_PER_PARTICIPANT_BINS = ((1, 1), (2, 5), (6, 10), (11, 20), (21, 50), (51, None))
MAX_TIME_BINS = 60


@dataclass(frozen=True)
class TimeBin:
    start: date
    end: date  # inclusive
    votes: int
    participants: int


@dataclass(frozen=True)
class Monitor:
    participants: int
    voters: int
    votes: int  # current votes
    vote_events: int  # every vote ever cast, re-votes included
    statements: dict[str, int]
    meta_statements: int
    distribution: list[tuple[str, int]]
    timeline: list[TimeBin] = field(default_factory=list)


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _daily(session: Session, column, where) -> dict[date, int]:
    day = func.date(column)
    return {_day(d): n for d, n in session.execute(select(day, func.count()).where(where).group_by(day)).all()}


def _rebin(votes: dict[date, int], people: dict[date, int]) -> list[TimeBin]:
    days = sorted(set(votes) | set(people))
    if not days:
        return []
    first, last = days[0], days[-1]
    span = (last - first).days + 1
    width = max(1, -(-span // MAX_TIME_BINS))
    bins = []
    start = first
    while start <= last:
        end = start + timedelta(days=width - 1)
        in_bin = [d for d in days if start <= d <= end]
        bins.append(TimeBin(start, end, sum(votes.get(d, 0) for d in in_bin), sum(people.get(d, 0) for d in in_bin)))
        start = end + timedelta(days=1)
    return bins


def monitor(session: Session, consultation: Consultation) -> Monitor:
    """Live numbers for the facilitator: participation, statements by state, activity over time."""
    cid = consultation.id
    n_participants = session.scalar(select(func.count()).where(Participant.consultation_id == cid))
    voters, votes = voting.counts(session, consultation)
    vote_events = session.scalar(select(func.count()).where(Vote.consultation_id == cid))
    by_state = dict(
        session.execute(
            select(Statement.moderation, func.count())
            .where(Statement.consultation_id == cid)
            .group_by(Statement.moderation)
        ).all()
    )
    statements_by_state = {state.value: by_state.get(state, 0) for state in ModerationState}
    meta = session.scalar(select(func.count()).where(Statement.consultation_id == cid, Statement.is_meta.is_(True)))
    per_participant = (
        select(func.count().label("n"))
        .where(CurrentVote.consultation_id == cid)
        .group_by(CurrentVote.participant_id)
        .subquery()
    )
    counts = dict(session.execute(select(per_participant.c.n, func.count()).group_by(per_participant.c.n)).all())
    distribution = []
    for low, high in VOTES_PER_PARTICIPANT_BINS:
        label = str(low) if low == high else (f"{low}-{high}" if high else f"{low}+")
        distribution.append((label, sum(c for n, c in counts.items() if n >= low and (high is None or n <= high))))
    timeline = _rebin(
        _daily(session, Vote.created_at, Vote.consultation_id == cid),
        _daily(session, Participant.created_at, Participant.consultation_id == cid),
    )
    return Monitor(
        participants=n_participants,
        voters=voters,
        votes=votes,
        vote_events=vote_events,
        statements=statements_by_state,
        meta_statements=meta,
        distribution=distribution,
        timeline=timeline,
    )
