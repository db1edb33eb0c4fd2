"""Consultations: public listing and look-up, set-up by facilitators, staff access, and the samples.

Longer than most services (about 570 lines) because the settings form's parsing and validation, which is most of
it, belongs with the one model it fills; splitting it would leave each half reading the other's rules.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from analysis import evidence

from ..models import (
    CONTACT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    LANGUAGE_MAX_LENGTH,
    MODERATION_POLICY_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    RECRUITMENT_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Account,
    Consultation,
    ConsultationModerator,
    ConsultationOwner,
    ConsultationStatus,
    CurrentVote,
    DeletedStatements,
    Eligibility,
    ModerationMode,
    ReportVisibility,
    Role,
    Statement,
    StatementTheme,
    aware,
    utcnow,
)
from . import N_, Conflict, Forbidden, InvalidInput, NotFound, Term, audit, statements

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "consultations"


class NotOpenYet(NotFound):
    """A draft due to open at a set time: its link says when, rather than that there is nothing there."""

    def __init__(self, consultation: Consultation):
        self.consultation = consultation
        self.opens_at = aware(consultation.scheduled_open_at)
        when = self.opens_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        super().__init__(N_("This consultation opens at %(when)s UTC. Please come back then."), when=when)


@dataclass(frozen=True)
class Listing:
    consultation: Consultation
    participants: int
    statements: int


def get_any(session: Session, slug: str) -> Consultation:
    """A consultation by slug, whatever its status (for staff and the command line)."""
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(N_("There is no consultation with the web address “%(slug)s”."), slug=slug)
    return consultation


def get_public(session: Session, slug: str) -> Consultation:
    """An open or closed consultation by slug; drafts are invisible to the public, except when they will open."""
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is not None and consultation.status == ConsultationStatus.DRAFT and consultation.scheduled_open_at:
        raise NotOpenYet(consultation)
    if consultation is None or consultation.status == ConsultationStatus.DRAFT:
        raise NotFound(N_("There is no consultation at this address."))
    return consultation


def public_listing(session: Session, *, statuses=(ConsultationStatus.OPEN,)) -> list[Listing]:
    """Consultations with how many people have taken part and how many statements they count (meta ones apart).

    Schedules that have come due are applied first, so the list is true now.
    """
    apply_due_schedules(session)
    voters = (
        select(CurrentVote.consultation_id, func.count(func.distinct(CurrentVote.participant_id)).label("n"))
        .group_by(CurrentVote.consultation_id)
        .subquery()
    )
    rows = session.execute(
        select(Consultation, func.coalesce(voters.c.n, 0))
        .outerjoin(voters, voters.c.consultation_id == Consultation.id)
        .where(Consultation.status.in_(statuses), Consultation.unlisted.is_(False))
        .order_by(Consultation.opened_at.desc(), Consultation.id)
    ).all()
    listings = []
    for consultation, n_participants in rows:
        counted = statements.counted(consultation)
        n_statements = session.scalar(select(func.count()).select_from(Statement).where(counted))
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
        statement = statements.seed(
            consultation.id,
            text,
            is_meta=bool(item.get("is_meta", False)),
            source=(f"{source}, {section}" if source and section else source)[:SOURCE_MAX_LENGTH] if source else None,
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
# Scheduled opening and closing, without a background process: the participation gate applies a consultation's
# schedule when it has come due, before it is asked; the public listing and the staff's look-up apply theirs.
# ----------------------------------------------------------------------------------------------------------------


def apply_schedule(session: Session, consultation: Consultation, *, now: datetime | None = None) -> bool:
    """Open or close the consultation if its scheduled time has passed, in the caller's transaction; True if it did."""
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
    return changed


def apply_due_schedules(session: Session, *, slug: str | None = None, now: datetime | None = None) -> int:
    """Apply every schedule that has come due (of one consultation, with ``slug``); how many changed. One commit.

    Nothing due costs one indexed query; a request runs this before any view reads a consultation.
    """
    now = now or utcnow()
    query = select(Consultation).where(
        or_(
            (Consultation.status == ConsultationStatus.DRAFT) & (Consultation.scheduled_open_at <= now),
            (Consultation.status == ConsultationStatus.OPEN) & (Consultation.scheduled_close_at <= now),
        )
    )
    if slug is not None:
        query = query.where(Consultation.slug == slug)
    changed = sum(apply_schedule(session, consultation, now=now) for consultation in session.scalars(query).all())
    if changed:
        session.commit()
    return changed


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
    apply_due_schedules(session, slug=slug)  # staff see the status it has now
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(N_("There is no consultation at this address."))
    if can_manage(session, account, consultation):
        return consultation
    if can_moderate(session, account, consultation):
        if manage:
            raise Forbidden(N_("As a moderator of this consultation you can moderate it, but not change its set-up."))
        return consultation
    raise NotFound(N_("There is no consultation at this address."))


def require_facilitator(account: Account) -> None:
    """Refuse moderators: only facilitators and admins create or import consultations."""
    if account.role not in (Role.ADMIN, Role.FACILITATOR):
        raise Forbidden(N_("Only facilitators and admins can create or import consultations."))


@dataclass(frozen=True)
class StaffListing:
    consultation: Consultation
    can_manage: bool
    owner_email: str | None


def staff_listing(session: Session, account: Account) -> list[StaffListing]:
    """The consultations on the account's dashboard, newest first."""
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
#: The content language of a consultation whose facilitators or source did not say (the interface's default).
DEFAULT_LANGUAGE = "en"
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")


def check_language(value: object) -> str:
    """A BCP 47 language tag as stored (``de``, ``cy``, ``de-AT``; lower case, as HTML's ``lang`` accepts it)."""
    tag = str(value or "").strip().replace("_", "-").lower()
    if not _LANGUAGE_TAG.match(tag) or len(tag) > LANGUAGE_MAX_LENGTH:
        raise InvalidInput(
            N_("The language must be a language code such as en, cy or de (“%(value)s” is not one)."),
            value=str(value)[:40],
        )
    return tag


SETTINGS = (
    "title",
    "question",
    "description",
    "slug",
    "moderation",
    "allow_statements",
    "event_mode",
    "unlisted",
    "report_visibility",
    "recruitment",
    "language",
    "floor_voters",
    "floor_group_voters",
    "moderation_policy",
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


MAX_FLOOR = 100_000


def _floor(data: dict, name: str, least: int, label: str) -> int | None:
    """An evidence floor from a form: empty keeps the default; otherwise a whole number from the default up."""
    raw = str(data.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not least <= int(raw) <= MAX_FLOOR:
        raise InvalidInput(
            N_("The %(label)s must be a whole number from %(least)d to %(most)d."),
            label=Term(label),
            least=least,
            most=MAX_FLOOR,
        )
    return None if int(raw) == least else int(raw)


def _text(data: dict, name: str, label: str, max_length: int, *, required: bool = True) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(N_("Please give the %(label)s."), label=Term(label))
    if len(value) > max_length:
        raise InvalidInput(
            N_("The %(label)s is %(length)d characters long; the limit is %(limit)d."),
            label=Term(label),
            length=len(value),
            limit=max_length,
        )
    return value


def _choice(kind, value, label: str):
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        message = N_("The %(label)s must be one of: %(allowed)s.")
        raise InvalidInput(message, label=Term(label), allowed=allowed) from None


def parse_moment(value: object, label: str) -> datetime | None:
    """A date and time from a form (``YYYY-MM-DDTHH:MM``, UTC) or None when blank."""
    if isinstance(value, datetime):
        return aware(value)
    text = str(value or "").strip()
    if not text:
        return None
    try:
        # In UTC, as it is stored: an offset that moves it beyond the year 9999 (or before 1) is no time at all.
        return aware(datetime.fromisoformat(text)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            N_("The %(label)s must be a date and time like 2026-12-31T18:00."), label=Term(label)
        ) from None


def _settings(session: Session, data: dict, consultation: Consultation | None, now: datetime) -> dict:
    """Validated settings from form data; on edit, fields missing from ``data`` keep their value."""

    def given(name):
        return consultation is None or name in data

    values: dict = {}
    if given("title"):
        values["title"] = _text(data, "title", N_("title"), TITLE_MAX_LENGTH)
    if given("question"):
        values["question"] = _text(data, "question", N_("question"), QUESTION_MAX_LENGTH)
    if given("description"):
        values["description"] = _text(data, "description", N_("description"), DESCRIPTION_MAX_LENGTH, required=False)
    if given("slug"):
        slug = str(data.get("slug") or "").strip().lower()
        if not slug and consultation is None:
            slug = unique_slug(session, slugify(values["title"]))
        if not SLUG.match(slug) or len(slug) > SLUG_MAX_LENGTH:
            raise InvalidInput(
                N_("The web address must be lowercase letters, digits and single hyphens, at most %(limit)d."),
                limit=SLUG_MAX_LENGTH,
            )
        taken = session.scalar(select(Consultation.id).where(Consultation.slug == slug))
        if taken is not None and (consultation is None or taken != consultation.id):
            raise Conflict(N_("The web address “%(slug)s” is already used by another consultation."), slug=slug)
        values["slug"] = slug
    if given("moderation"):
        values["moderation"] = _choice(ModerationMode, data.get("moderation") or "post", N_("moderation mode"))
    if given("allow_statements"):  # on creation, absent means allowed; forms send "" for an unticked box
        values["allow_statements"] = data.get("allow_statements", True) in (True, "1", "on", "true", "yes")
    for flag in ("event_mode", "unlisted"):  # absent means off, on creation as on edit (an unticked box)
        if given(flag):
            values[flag] = data.get(flag, False) in (True, "1", "on", "true", "yes")
    if given("report_visibility"):
        values["report_visibility"] = _choice(
            ReportVisibility, data.get("report_visibility") or "public", N_("report visibility")
        )
    if given("recruitment"):
        values["recruitment"] = _text(
            data,
            "recruitment",
            N_("description of how participants were recruited"),
            RECRUITMENT_MAX_LENGTH,
            required=False,
        )
    if given("language"):  # empty: the interface's default
        values["language"] = check_language(data.get("language") or DEFAULT_LANGUAGE)
    for name, least, label in (
        ("floor_voters", evidence.DEFAULT_VOTERS, N_("least number of voters for a claim about everyone")),
        ("floor_group_voters", evidence.DEFAULT_GROUP_VOTERS, N_("least number of voters for a claim about a group")),
    ):
        if given(name):  # empty: the default; a facilitator may raise a floor, never lower it
            values[name] = _floor(data, name, least, label)
    if given("moderation_policy"):  # empty: the default policy, in the reader's language
        values["moderation_policy"] = _text(
            data, "moderation_policy", N_("moderation policy"), MODERATION_POLICY_MAX_LENGTH, required=False
        )
    if given("organiser"):
        values["organiser"] = _text(data, "organiser", N_("organiser"), CONTACT_MAX_LENGTH, required=False)
    if given("contact"):
        values["contact"] = _text(data, "contact", N_("contact"), CONTACT_MAX_LENGTH, required=False)
    if given("eligibility"):
        values["eligibility"] = _choice(Eligibility, data.get("eligibility") or "open", N_("eligibility"))
    if given("deleted_statements"):  # empty: follow the site's setting
        chosen = data.get("deleted_statements") or None
        label = N_("choice for deleted statements")
        values["deleted_statements"] = chosen and _choice(DeletedStatements, chosen, label)
    for name, label in (("scheduled_open_at", N_("opening time")), ("scheduled_close_at", N_("closing time"))):
        if given(name):
            moment = parse_moment(data.get(name), label)
            if moment is not None and moment <= now and moment != aware(getattr(consultation, name, None)):
                raise InvalidInput(
                    N_("The %(label)s is in the past: choose a later time, or open or close it now."),
                    label=Term(label),
                )
            values[name] = moment
    opens = values.get("scheduled_open_at", getattr(consultation, "scheduled_open_at", None))
    closes = values.get("scheduled_close_at", getattr(consultation, "scheduled_close_at", None))
    if opens and closes and aware(closes) <= aware(opens):
        raise InvalidInput(N_("The closing time must be after the opening time."))
    return values


def _jsonable(value):
    if isinstance(value, datetime):
        return aware(value).isoformat()
    return value.value if hasattr(value, "value") else value


def make_secrets(consultation: Consultation) -> None:
    """The secrets its settings need: a link-only report's key; the key integrators sign XIDs with."""
    if consultation.report_visibility == ReportVisibility.LINK and not consultation.report_key:
        consultation.report_key = secrets.token_urlsafe(24)
    if consultation.eligibility == Eligibility.XID and not consultation.xid_secret:
        consultation.xid_secret = secrets.token_hex(32)


def create(session: Session, account: Account, data: dict, *, now: datetime | None = None) -> Consultation:
    """A facilitator creates a consultation (a draft, owned by them)."""
    require_facilitator(account)
    now = now or utcnow()
    values = _settings(session, data, None, now)
    consultation = Consultation(status=ConsultationStatus.DRAFT, created_at=now, **values)
    make_secrets(consultation)
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
    make_secrets(consultation)
    if changes:
        audit.record(session, account, consultation, "settings_changed", changes=changes)
    session.commit()
    return changes


def has_votes(session: Session, consultation: Consultation) -> bool:
    return bool(session.scalar(select(exists().where(CurrentVote.consultation_id == consultation.id))))


def delete(session: Session, account: Account, consultation: Consultation) -> None:
    """Delete a consultation nobody has voted in (a test, a mistake), with its statements; once anyone has voted,
    the votes are people's contributions: close it or unlist it instead. The audit log keeps that it was deleted."""
    if not can_manage(session, account, consultation):
        raise Forbidden(N_("Only the consultation's owner or an admin can delete it."))
    if has_votes(session, consultation):
        raise Conflict(
            N_(
                "People have voted in this consultation, so it cannot be deleted. "
                "Close it, or unlist it to take it off the public lists."
            )
        )
    audit.record(session, account, consultation, "deleted", slug=consultation.slug)
    session.flush()
    # The database cascades to statements, participants and the rest; the audit entry keeps its words.
    session.execute(sql_delete(Consultation).where(Consultation.id == consultation.id))
    session.commit()


def open_now(session: Session, account: Account, consultation: Consultation) -> Consultation:
    """Open (or re-open) the consultation for votes and statements."""
    if consultation.status == ConsultationStatus.OPEN:
        raise Conflict(N_("This consultation is already open."))
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
        raise Conflict(N_("Only an open consultation can be closed."))
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = utcnow()
    consultation.scheduled_close_at = None
    audit.record(session, account, consultation, "closed")
    session.commit()
    return consultation


def transfer(session: Session, actor: Account, consultation: Consultation, email: str) -> Account:
    """Hand the consultation to another facilitator or admin, who owns it from now on (the owner or an admin only).

    The previous owner keeps no access of their own: a consultation has one owner (see ConsultationOwner).
    """
    if not can_manage(session, actor, consultation):
        raise Forbidden(N_("Only the owner of this consultation or an admin can hand it over."))
    new_owner = session.scalar(select(Account).where(Account.email == (email or "").strip().lower()))
    if new_owner is None or not new_owner.is_active:
        raise NotFound(N_("There is no active account with that email address. An admin can invite them first."))
    if new_owner.role not in (Role.ADMIN, Role.FACILITATOR):
        raise InvalidInput(
            N_("%(email)s is a moderator: only facilitators and admins can own a consultation."), email=new_owner.email
        )
    link = session.get(ConsultationOwner, consultation.id)
    previous = session.get(Account, link.account_id) if link is not None else None
    if previous is not None and previous.id == new_owner.id:
        raise Conflict(N_("%(email)s already owns this consultation."), email=new_owner.email)
    if link is None:
        session.add(ConsultationOwner(consultation_id=consultation.id, account_id=new_owner.id))
    else:
        link.account_id = new_owner.id
    audit.record(
        session,
        actor,
        consultation,
        "transferred",
        previous_owner=previous.email if previous is not None else None,
        new_owner=new_owner.email,
    )
    session.commit()
    session.expire(consultation, ["owner"])  # a view-only relationship: read it again from the new row
    return new_owner


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
        raise NotFound(N_("There is no active account with that email address. An admin can invite them first."))
    if session.get(ConsultationModerator, (consultation.id, moderator.id)):
        raise Conflict(N_("%(email)s already moderates this consultation."), email=moderator.email)
    session.add(ConsultationModerator(consultation_id=consultation.id, account_id=moderator.id))
    audit.record(session, actor, consultation, "moderator_added", email=moderator.email)
    session.commit()
    return moderator


def remove_moderator(session: Session, actor: Account, consultation: Consultation, account_id: int) -> None:
    """Unassign a moderator from the consultation."""
    link = session.get(ConsultationModerator, (consultation.id, account_id))
    if link is None:
        raise NotFound(N_("That account does not moderate this consultation."))
    email = session.get(Account, account_id).email
    session.delete(link)
    audit.record(session, actor, consultation, "moderator_removed", email=email)
    session.commit()
