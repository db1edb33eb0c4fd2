"""The database schema. Invariants live in the database as constraints, not only in Python."""

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import DateTime as SQLDateTime
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false, true

from .extensions import db

STATEMENT_MAX_LENGTH = 280
SLUG_MAX_LENGTH = 80
# A description is shown on every page of its consultation: bounded here, in the database and in the form.
DESCRIPTION_MAX_LENGTH = 10_000
SOURCE_MAX_LENGTH = 200
TITLE_MAX_LENGTH = 200
QUESTION_MAX_LENGTH = 500
CONTACT_MAX_LENGTH = 200  # the organiser's name, and how to reach them
XID_MAX_LENGTH = 200
LANGUAGE_MAX_LENGTH = 35  # a BCP 47 language tag, e.g. "cy" or "de-AT"
REASON_MAX_LENGTH = 500  # a moderator's reason in the moderation log
# Free texts without a database limit (TEXT), bounded by the service: the recruitment note, the moderation policy.
RECRUITMENT_MAX_LENGTH = 2_000
MODERATION_POLICY_MAX_LENGTH = 5_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time Participate stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class DateTime(TypeDecorator):
    """``DateTime(timezone=True)`` that stores every moment in UTC and always hands back aware datetimes.

    SQLite keeps no offset: a moment given as 12:00+02:00 was stored as 12:00 and read back as 12:00 UTC, two hours
    off. Converting to UTC on the way in (naive values are taken as UTC) makes both databases agree.
    """

    impl = SQLDateTime
    cache_ok = True

    def __init__(self, timezone: bool = True):
        super().__init__(timezone=True)

    def process_bind_param(self, value, dialect):
        return None if value is None else aware(value).astimezone(UTC)

    def process_result_value(self, value, dialect):
        return aware(value)


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    """Store enum values (not names) as strings with a CHECK constraint, portable to SQLite and PostgreSQL."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda k: [m.value for m in k],
        validate_strings=True,
    )


class ConsultationStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ModerationMode(enum.StrEnum):
    PRE = "pre"  # participant statements are hidden until a moderator accepts them
    POST = "post"  # participant statements are shown at once and may be rejected later


class StatementOrigin(enum.StrEnum):
    SEED = "seed"
    PARTICIPANT = "participant"


class ModerationState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: The moderation states of the statements participants are shown, and so of those a report may show (see
#: ``services.statements.reportable``): accepted ones and, under post-moderation, those no moderator has judged yet.
#: Under pre-moderation a pending statement has been seen by its author only.
SHOWN_STATES: dict[ModerationMode, tuple[ModerationState, ...]] = {
    ModerationMode.POST: (ModerationState.ACCEPTED, ModerationState.PENDING),
    ModerationMode.PRE: (ModerationState.ACCEPTED,),
}


class Role(enum.StrEnum):
    ADMIN = "admin"
    FACILITATOR = "facilitator"
    MODERATOR = "moderator"


class ReportVisibility(enum.StrEnum):
    PUBLIC = "public"  # listed and readable by anyone
    LINK = "link"  # readable by anyone holding the secret link
    PRIVATE = "private"  # staff only


class Eligibility(enum.StrEnum):
    OPEN = "open"  # anyone with the link
    XID = "xid"  # only external ids on the uploaded allow-list (the participant arrives with ?xid=...)
    INVITE = "invite"  # only holders of a one-time invite code (?code=...)


class DeletedStatements(enum.StrEnum):
    """What a participant's deleting their own data does to the statements they wrote."""

    ANONYMISE = "anonymise"  # keep the text, without its author
    REMOVE = "remove"  # delete the statements and everyone's votes on them


class ModerationAction(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    META = "meta"
    UNMETA = "unmeta"
    BAN = "ban"
    UNBAN = "unban"
    EDIT = "edit"
    REDACT = "redact"  # the participant deleted their data: added, never rewriting the rows before it


class VoteValue(enum.IntEnum):
    """Agree = +1, disagree = -1, pass = 0: Pol.is's export convention, used everywhere in Participate."""

    AGREE = 1
    DISAGREE = -1
    PASS = 0


class Consultation(db.Model):
    __tablename__ = "consultation"
    __table_args__ = (
        CheckConstraint("length(slug) >= 1", name="slug_not_empty"),
        CheckConstraint(f"length(description) <= {DESCRIPTION_MAX_LENGTH}", name="description_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX_LENGTH), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    question: Mapped[str] = mapped_column(String(QUESTION_MAX_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ConsultationStatus] = mapped_column(
        _enum(ConsultationStatus, "consultation_status"), default=ConsultationStatus.DRAFT
    )
    moderation: Mapped[ModerationMode] = mapped_column(
        _enum(ModerationMode, "moderation_mode"), default=ModerationMode.POST
    )
    allow_statements: Mapped[bool] = mapped_column(Boolean, default=True)
    is_simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Scheduled changes, applied whenever the consultation is loaded (no background process needed).
    scheduled_open_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scheduled_close_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report_visibility: Mapped[ReportVisibility] = mapped_column(
        _enum(ReportVisibility, "report_visibility"), default=ReportVisibility.PUBLIC, server_default="public"
    )
    report_key: Mapped[str | None] = mapped_column(String(64))  # the secret of a link-only report
    # How participants were recruited, in the facilitators' words; empty means a self-selected group.
    recruitment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Names the facilitators gave the opinion groups in the report's brief: {letter: name}, e.g. {"A": "Cautious"}.
    group_names: Mapped[dict | None] = mapped_column(JSON)
    # Who runs it and how participants reach them (an email address, web address or phone); shown when given.
    organiser: Mapped[str] = mapped_column(String(CONTACT_MAX_LENGTH), default="", server_default="")
    contact: Mapped[str] = mapped_column(String(CONTACT_MAX_LENGTH), default="", server_default="")
    # Imported from a Pol.is export: its report carries the data's licence and attribution.
    imported_from_polis: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    eligibility: Mapped[Eligibility] = mapped_column(
        _enum(Eligibility, "eligibility"), default=Eligibility.OPEN, server_default="open"
    )
    # Signed XIDs: an integrator passes ?xid=...&sig=HMAC-SHA256(xid_secret, xid); unsigned ones only if chosen.
    xid_secret: Mapped[str | None] = mapped_column(String(64))
    xid_unsigned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What deleting one's own data does to one's statements here; None follows the site's DELETED_STATEMENTS.
    deleted_statements: Mapped[DeletedStatements | None] = mapped_column(_enum(DeletedStatements, "deleted_statements"))
    # Bumped whenever votes are deleted (a participant deleting their data): an analysis that read the votes under an
    # older version is discarded, since the vote ids it covers no longer say which votes it saw.
    data_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The moderation policy participants read before writing (Markdown); empty shows the default text, translated.
    moderation_policy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The language its statements, title and question are written in (a BCP 47 tag such as "en", "cy", "de"):
    # pages and the PDF mark the statements with it, while the interface language frames them.
    language: Mapped[str] = mapped_column(String(LANGUAGE_MAX_LENGTH), default="en", server_default="en")
    # The report's evidence floors, raised by the facilitators (None keeps analysis.evidence's defaults; never lower).
    floor_voters: Mapped[int | None] = mapped_column(Integer)
    floor_group_voters: Mapped[int | None] = mapped_column(Integer)
    # False for an import whose source recorded no vote times: its votes' stored times are the import's, and no
    # timing check or date range reads them as when people voted.
    vote_times: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # An in-room event: many people join from one network within minutes (EVENT_NEW_PARTICIPANT_RATE_LIMIT).
    event_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Off the public lists of consultations and reports (a test, or one shared only by its link).
    unlisted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    statements: Mapped[list["Statement"]] = relationship(back_populates="consultation")
    # The facilitator who created it (see ConsultationOwner); None for the samples and imports without an owner.
    owner: Mapped["Account | None"] = relationship(secondary="consultation_owner", viewonly=True, uselist=False)

    @property
    def is_open(self) -> bool:
        return self.status == ConsultationStatus.OPEN

    def statements_on_delete(self, site_default: str) -> str:
        """What deleting one's data does to one's statements here: this consultation's choice, else the site's."""
        return self.deleted_statements.value if self.deleted_statements else site_default


class Participant(db.Model):
    """A person taking part in one consultation (as in Pol.is); known only by an opaque key."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("consultation_id", "token_hash"),
        UniqueConstraint("consultation_id", "xid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    # SHA-256 of the browser's random token and the consultation id: the cookie never appears in the database,
    # and one person's participations in different consultations cannot be linked from the data.
    token_hash: Mapped[str] = mapped_column(String(64))
    xid: Mapped[str | None] = mapped_column(String(XID_MAX_LENGTH))
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # HMAC of the address it first took part from, keyed by a daily key (``security.ip_hash``): for rate limits and
    # the integrity annex only; never exported; cleared after IP_HASH_RETENTION_DAYS by ``participate purge``.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # For an import: the source's participant id and its opinion group (Pol.is's 0-based group-id), so the report
    # can show both ids side by side and letter the groups as the source did.
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    source_group: Mapped[int | None] = mapped_column(Integer)


class Statement(db.Model):
    __tablename__ = "statement"
    __table_args__ = (
        # ``text_key`` is the case- and whitespace-folded text: duplicates are refused by the database itself.
        UniqueConstraint("consultation_id", "text_key"),
        CheckConstraint(f"length(text) BETWEEN 1 AND {STATEMENT_MAX_LENGTH}", name="text_length"),
        CheckConstraint("(origin = 'seed' AND author_id IS NULL) OR origin = 'participant'", name="seed_has_no_author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(STATEMENT_MAX_LENGTH))
    text_key: Mapped[str] = mapped_column(String(STATEMENT_MAX_LENGTH))
    origin: Mapped[StatementOrigin] = mapped_column(_enum(StatementOrigin, "statement_origin"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    moderation: Mapped[ModerationState] = mapped_column(
        _enum(ModerationState, "moderation_state"), default=ModerationState.PENDING
    )
    is_meta: Mapped[bool] = mapped_column(Boolean, default=False)
    # A meta statement in which participants describe themselves ("I am over 65"): reported as how each opinion
    # group answered it, never as a view. Found by ``services.about_participants``; a facilitator can undo it.
    about_participants: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # False when an imported source did not say whether the organisers or a participant wrote the statement.
    origin_stated: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    source: Mapped[str | None] = mapped_column(String(SOURCE_MAX_LENGTH))
    # For an import: the source's statement id (Pol.is's comment-id), shown beside ours in the report.
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="statements")
    themes: Mapped[list["StatementTheme"]] = relationship(cascade="all, delete-orphan", order_by="StatementTheme.name")

    @property
    def theme_names(self) -> list[str]:
        return [t.name for t in self.themes]


class StatementTheme(db.Model):
    """A facilitator's tag on a statement, e.g. ``criterion`` or ``use:policing``."""

    __tablename__ = "statement_theme"

    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True)


class Vote(db.Model):
    """Every vote ever cast: a re-vote adds a row, so the history is never lost."""

    __tablename__ = "vote"
    __table_args__ = (
        CheckConstraint("value IN (-1, 0, 1)", name="value_is_vote"),
        Index("ix_vote_participant_statement", "participant_id", "statement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CurrentVote(db.Model):
    """The latest vote per (participant, statement), kept in the same transaction as the history row.

    Reading a consultation's vote matrix is then one indexed scan of this table.
    """

    __tablename__ = "current_vote"
    __table_args__ = (
        CheckConstraint("value IN (-1, 0, 1)", name="value_is_vote"),
        Index("ix_current_vote_consultation_statement", "consultation_id", "statement_id"),
    )

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"), primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Account(db.Model):
    """A facilitator, moderator or admin. Citizens never have accounts."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "account_role"), default=Role.FACILITATOR)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Part of the login session's id: bumping it (password change, deactivation) logs out every session.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # Flask-Login's user interface, written out so the model does not import Flask-Login.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Invitation(db.Model):
    """A one-time link an admin gives someone to create their own account; only its hash is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(_enum(Role, "account_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsultationOwner(db.Model):
    """The facilitator who owns a consultation: at most one, since the consultation is the primary key.

    A table rather than a column on ``consultation``: adding a foreign-key column there would make SQLite's
    migration copy the table, and dropping the original would cascade to every statement and vote.
    """

    __tablename__ = "consultation_owner"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)


class ConsultationModerator(db.Model):
    """A moderator assigned to a consultation."""

    __tablename__ = "consultation_moderator"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account] = relationship()


class AllowedXid(db.Model):
    """An external id allowed to take part in a consultation whose eligibility is ``xid``."""

    __tablename__ = "allowed_xid"
    __table_args__ = (CheckConstraint("length(xid) >= 1", name="xid_not_empty"),)

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    xid: Mapped[str] = mapped_column(String(XID_MAX_LENGTH), primary_key=True)


class BannedIdentity(db.Model):
    """A banned participant's identities, hashed (browser key, XID, invite code; nothing else), kept when the
    participant deletes their data, so that deleting it does not lift the ban; checked whenever someone joins."""

    __tablename__ = "banned_identity"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    identity_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InviteCode(db.Model):
    """A one-time code admitting one participant to a consultation whose eligibility is ``invite``."""

    __tablename__ = "invite_code"
    __table_args__ = (UniqueConstraint("consultation_id", "code"), UniqueConstraint("participant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ModerationLogEntry(db.Model):
    """One moderation action: who did what to which statement or participant, when, and why."""

    __tablename__ = "moderation_log"
    __table_args__ = (Index("ix_moderation_log_consultation", "consultation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    # Plain numbers, not foreign keys: the log is append-only, and a published report's SHA-256 covers these ids, so
    # deleting a participant or a statement must not rewrite them (a "redact" row records the deletion instead).
    statement_id: Mapped[int | None] = mapped_column(Integer)
    participant_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[ModerationAction] = mapped_column(_enum(ModerationAction, "moderation_action"))
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account | None] = relationship()
    statement: Mapped[Statement | None] = relationship(
        primaryjoin="foreign(ModerationLogEntry.statement_id) == Statement.id", viewonly=True
    )


class AuditLogEntry(db.Model):
    """A facilitator's action on a consultation: created, settings changed, opened, closed, exported, imported."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_consultation", "consultation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account | None] = relationship()


class AnalysisSnapshot(db.Model):
    """One completed analysis of a consultation; web requests only ever read these."""

    __tablename__ = "analysis_snapshot"
    # AUTOINCREMENT: SQLite would otherwise give a new snapshot the id of a deleted one, and the newest id (which
    # the caches and the report rely on) would no longer mean the newest analysis. PostgreSQL never reuses ids.
    __table_args__ = (Index("ix_analysis_snapshot_latest", "consultation_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    vote_count: Mapped[int] = mapped_column(Integer)
    last_vote_id: Mapped[int] = mapped_column(Integer)
    # When the analysis began reading the votes: everything committed before then is in it.
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seconds: Mapped[float] = mapped_column(default=0.0)
    result: Mapped[dict] = mapped_column(JSON)


class AnalysisRobustness(db.Model):
    """The bootstrap and re-clustering check of one analysis snapshot (``analysis.robustness``), computed after it."""

    __tablename__ = "analysis_robustness"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analysis_snapshot.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seconds: Mapped[float] = mapped_column(default=0.0)
    result: Mapped[dict] = mapped_column(JSON)


class AnalysisIntegrity(db.Model):
    """The integrity annex of one analysis snapshot: flagged participants and the results without them."""

    __tablename__ = "analysis_integrity"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analysis_snapshot.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    result: Mapped[dict] = mapped_column(JSON)


class ReportSnapshot(db.Model):
    """A published, immutable report: later votes never change it. Its public id is an unguessable token."""

    __tablename__ = "report_snapshot"
    __table_args__ = (
        CheckConstraint("length(token) >= 16", name="token_long_enough"),
        CheckConstraint("length(votes_sha256) = 64", name="votes_sha256_is_hex"),
        CheckConstraint("moderation_sha256 IS NULL OR length(moderation_sha256) = 64", name="moderation_sha256_is_hex"),
        Index("ix_report_snapshot_consultation", "consultation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Which analysis it froze (analysis snapshots are pruned later, so this is a plain number, not a foreign key).
    analysis_snapshot_id: Mapped[int | None] = mapped_column(Integer)
    vote_count: Mapped[int] = mapped_column(Integer)
    votes_sha256: Mapped[str] = mapped_column(String(64))  # of the canonical CSV of the current votes
    # Of the canonical CSV of the moderation log (``moderation.canonical_log_csv``); None before it was recorded.
    moderation_sha256: Mapped[str | None] = mapped_column(String(64))
    code_version: Mapped[str] = mapped_column(String(100))
    report: Mapped[dict] = mapped_column(JSON)  # the report data structure exactly as published
    analysis: Mapped[dict | None] = mapped_column(JSON)  # the full analysis result and its robustness check


QUESTION_TEXT_MAX_LENGTH = 300
CATEGORY_LABEL_MAX_LENGTH = 120
CATEGORY_VALUE_MAX_LENGTH = 40
LAWFUL_BASIS_MAX_LENGTH = 1_000
POPULATION_SOURCE_MAX_LENGTH = 300


class ParticipantQuestion(db.Model):
    """An optional question about participants (age band, region, ...), with the population's share of each answer.

    Set by the facilitator, answered by participants when they like (``ParticipantAnswer``), and used to compare
    who took part with the population and to weight the results (``services.population``). A question in a special
    category of personal data (health, ethnicity, religion, politics) cannot be saved without a lawful basis, which
    participants are shown.
    """

    __tablename__ = "participant_question"
    __table_args__ = (
        CheckConstraint(f"length(text) BETWEEN 1 AND {QUESTION_TEXT_MAX_LENGTH}", name="text_length"),
        CheckConstraint("NOT special_category OR length(lawful_basis) >= 1", name="special_category_has_basis"),
        UniqueConstraint("consultation_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(QUESTION_TEXT_MAX_LENGTH))
    # The template it came from (``services.population.TEMPLATES``): its texts are then shown translated.
    template: Mapped[str | None] = mapped_column(String(40))
    special_category: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lawful_basis: Mapped[str] = mapped_column(String(LAWFUL_BASIS_MAX_LENGTH), default="", server_default="")
    # Where the population's shares come from, e.g. "ONS mid-2022 population estimates, UK, ages 16+".
    population_source: Mapped[str] = mapped_column(String(POPULATION_SOURCE_MAX_LENGTH), default="", server_default="")
    population_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    categories: Mapped[list["QuestionCategory"]] = relationship(
        cascade="all, delete-orphan", order_by="QuestionCategory.position"
    )


class QuestionCategory(db.Model):
    """One answer to a question about participants, with the population's share (None: no figure for it)."""

    __tablename__ = "question_category"
    __table_args__ = (
        CheckConstraint(f"length(label) BETWEEN 1 AND {CATEGORY_LABEL_MAX_LENGTH}", name="label_length"),
        CheckConstraint("length(value) >= 1", name="value_not_empty"),
        CheckConstraint(
            "population_share IS NULL OR (population_share >= 0 AND population_share <= 1)", name="share_is_share"
        ),
        UniqueConstraint("question_id", "position"),
        UniqueConstraint("question_id", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("participant_question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(CATEGORY_VALUE_MAX_LENGTH))  # stable code, e.g. "25-34" (exports)
    label: Mapped[str] = mapped_column(String(CATEGORY_LABEL_MAX_LENGTH))
    population_share: Mapped[float | None] = mapped_column()


class ParticipantAnswer(db.Model):
    """A participant's answer to a question about participants; no category means "prefer not to say".

    Deleted with the participant (the foreign key cascades, and ``privacy.delete_mine`` deletes it explicitly).
    """

    __tablename__ = "participant_answer"
    __table_args__ = (Index("ix_participant_answer_question", "question_id"),)

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("participant_question.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int | None] = mapped_column(ForeignKey("question_category.id", ondelete="CASCADE"))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """Long work run off the request path (an import, an export, a PDF, a publication, the monitor's figures).

    The web request creates the row and enqueues it (``participate.background.submit``); whichever process runs it
    writes its progress and result here, so any web process can show the status page.
    """

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_is_a_percentage"),
        Index("ix_job_consultation", "consultation_id", "kind", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex: the status page's address
    kind: Mapped[str] = mapped_column(String(20))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)
    step: Mapped[str | None] = mapped_column(String(100))  # what it is doing now (a catalogue message id)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # Column "result"; named "outcome" here so ``.result`` in the package means only an analysis's stored JSON,
    # which only the snapshot store reads (tests/services/test_snapshot_store.py).
    outcome: Mapped[dict | None] = mapped_column("result", JSON)
    error: Mapped[str | None] = mapped_column(String(500))  # a message for the person who started it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SharedCache(db.Model):
    """Built documents shared by every process (the built report, PDFs, the monitor's figures), keyed by what they
    show. A row without a value is a lease: one process is building it and the others wait or say "not ready"."""

    __tablename__ = "shared_cache"
    __table_args__ = (Index("ix_shared_cache_consultation", "consultation_id"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SnapshotMember(db.Model):
    """Each grouped participant's opinion group in one snapshot, stored with it, so "where I stand" reads one row."""

    __tablename__ = "snapshot_member"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analysis_snapshot.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # participants may be deleted later
    group_id: Mapped[int] = mapped_column(SmallInteger)
