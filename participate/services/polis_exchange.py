"""Pol.is import and export: the glue between the database and :mod:`analysis.polis_io`'s reader and writer.

Vote sign as everywhere: agree = +1, disagree = -1, pass = 0. Pol.is ``moderated``: 1 accepted, 0 pending,
-1 rejected. Longer than most services (about 570 lines): export and import are one format read and written both
ways, and the import's all-or-nothing checks of ``consultation.json`` (types, bounds, zip limits) sit beside the
code that trusts them.
"""

import hashlib
import json
import math
import re
import secrets
import tempfile
import unicodedata
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from analysis import polis_io

from ..models import (
    DESCRIPTION_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Account,
    Consultation,
    ConsultationOwner,
    ConsultationStatus,
    ModerationAction,
    ModerationLogEntry,
    ModerationMode,
    ModerationState,
    Participant,
    ReportVisibility,
    Statement,
    StatementOrigin,
    StatementTheme,
    Vote,
    utcnow,
)
from . import N_, Conflict, InvalidInput, Term, about_participants, audit, consultations, population, statements
from .participation.votes import record_many
from .signals import votes_changed
from .snapshots import store, view_of
from .themes import THEME_MAX_LENGTH

SETTINGS_FILE = "consultation.json"
#: The files of an export folder that an import reads (or may meet); a web upload keeps only these.
FOLDER_FILES = frozenset(
    {
        "comments.csv",
        "votes.csv",
        "participants-votes.csv",
        "participant-votes.csv",
        "summary.csv",
        "comment-groups.csv",
        SETTINGS_FILE,
    }
)
SETTINGS_FORMAT = "participate-consultation/1"
# The vote table for the big insert: plain executemany, without the ORM's per-row bookkeeping (several times faster).
_MODERATED = {ModerationState.ACCEPTED: 1, ModerationState.PENDING: 0, ModerationState.REJECTED: -1}
_STATE = {value: state for state, value in _MODERATED.items()}


#: The moderation log's reason for a statement the source's moderators removed (kept in English, as data).
REMOVED_IN_SOURCE = "removed in Pol.is before import"
#: summary.csv's counts the report compares with what was imported.
SOURCE_COUNTS = ("voters", "voters-in-conv", "commenters", "comments")


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else consultations.aware(moment).timestamp()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else consultations.aware(moment).isoformat()


# ----------------------------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------------------------


def build_export(session: Session, consultation: Consultation, *, url: str = "") -> polis_io.PolisExport:
    """The consultation as a :class:`analysis.polis_io.PolisExport`: full vote history, statements, summary."""
    rows = session.execute(
        select(Vote.participant_id, Vote.statement_id, Vote.value, Vote.created_at)
        .where(Vote.consultation_id == consultation.id)
        .order_by(Vote.id)
    ).all()
    votes = polis_io.Votes.from_records((p, s, v, _seconds(t)) for p, s, v, t in rows)
    statement_rows = session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    polis_statements = [
        polis_io.Statement(
            id=s.id,
            text=s.text,
            author_id=s.author_id,
            moderated=_MODERATED[s.moderation],
            is_meta=s.is_meta,
            is_seed=s.origin == StatementOrigin.SEED,
            timestamp=_seconds(s.created_at),
        )
        for s in statement_rows
    ]
    summary = {"topic": consultation.title, "url": url, "conversation-description": consultation.description}
    return polis_io.PolisExport(votes, polis_statements, summary=summary, source=consultation.slug)


def settings_document(session: Session, consultation: Consultation) -> dict:
    """The consultation's settings, per-statement details Pol.is files cannot hold, and the latest analysis."""
    snapshot = store.latest_snapshot(session, consultation)
    statement_rows = session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    banned = session.scalars(
        select(Participant.id).where(Participant.consultation_id == consultation.id, Participant.is_banned.is_(True))
    ).all()
    return {
        "format": SETTINGS_FORMAT,
        "slug": consultation.slug,
        "title": consultation.title,
        "question": consultation.question,
        "description": consultation.description,
        "status": consultation.status.value,
        "moderation": consultation.moderation.value,
        "allow_statements": consultation.allow_statements,
        "report_visibility": consultation.report_visibility.value,
        "eligibility": consultation.eligibility.value,
        "language": consultation.language,
        # null: the site's DELETED_STATEMENTS (see Consultation.deleted_statements)
        "deleted_statements": consultation.deleted_statements.value if consultation.deleted_statements else None,
        "created_at": _iso(consultation.created_at),
        "opened_at": _iso(consultation.opened_at),
        "closed_at": _iso(consultation.closed_at),
        "statements": [
            {
                "id": s.id,
                "origin": s.origin.value,
                "is_meta": s.is_meta,
                "source": s.source,
                "themes": s.theme_names,
            }
            for s in statement_rows
        ],
        "banned_participant_ids": list(banned),
        # The questions about participants with their population shares (the answers are in participant-votes.csv).
        "participant_questions": population.questions_document(session, consultation),
        "analysis": None
        if snapshot is None
        else {
            "computed_at": _iso(snapshot.computed_at),
            "vote_count": snapshot.vote_count,
            "result": store.stored_result(snapshot),
        },
    }


def _snapshot_groups(session: Session, consultation: Consultation) -> dict[int, int] | None:
    snapshot = store.latest_snapshot(session, consultation)
    if snapshot is None:
        return None
    return {p: g.id for g in view_of(snapshot).groups for p in g.members}


def export_folder(session: Session, consultation: Consultation, folder: str | Path, *, url: str = "") -> list[Path]:
    """Write the five Pol.is CSV files and ``consultation.json`` into ``folder``; returns their paths."""
    folder = Path(folder)
    export = build_export(session, consultation, url=url)
    reported = set(session.scalars(select(Statement.id).where(statements.reportable(consultation))))
    paths = polis_io.write_polis_export(
        folder,
        export,
        _snapshot_groups(session, consultation),
        reported=reported,
        metadata=population.export_metadata(session, consultation),
    )
    settings = folder / SETTINGS_FILE
    settings.write_text(
        json.dumps(settings_document(session, consultation), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return [*paths, settings]


def export_zip(session: Session, account: Account | None, consultation: Consultation, *, url: str = "") -> bytes:
    """The export as a zip (files in a folder named after the slug), recorded in the audit log."""
    with tempfile.TemporaryDirectory() as folder:
        zip_path = Path(folder) / "export.zip"
        export_zip_file(session, account, consultation, zip_path, url=url)
        return zip_path.read_bytes()


def export_zip_file(
    session: Session, account: Account | None, consultation: Consultation, target: Path, *, url: str = ""
) -> Path:
    """Write the export as a zip file at ``target`` (a job does this for large consultations; the download is then
    streamed from the file), recorded in the audit log."""
    with tempfile.TemporaryDirectory() as folder:
        paths = export_folder(session, consultation, folder, url=url)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, f"{consultation.slug}/{path.name}")
    audit.record(session, account, consultation, "exported", format="polis-zip")
    session.commit()
    return target


# ----------------------------------------------------------------------------------------------------------------
# Import
# ----------------------------------------------------------------------------------------------------------------

_BIDI_AND_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u2060\ufeff\u00ad")
)
_WHITESPACE = re.compile(r"\s+")


def _import_text(raw: str) -> tuple[str, bool]:
    """A Pol.is statement as Participate stores it: NFC, one line, no invisible controls; (text, was shortened)."""
    text = unicodedata.normalize("NFC", raw or "").translate(_BIDI_AND_ZERO_WIDTH)
    text = _WHITESPACE.sub(" ", text).strip()
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cs", "Co"}) or "(no text)"
    if len(text) > STATEMENT_MAX_LENGTH:
        return text[: STATEMENT_MAX_LENGTH - 1].rstrip() + "…", True
    return text, False


def _read_settings(path: Path) -> dict:
    """``consultation.json`` from a Participate export folder, or {} for a plain Pol.is export."""
    file = path / SETTINGS_FILE
    try:
        text = file.read_text(encoding="utf-8") if file.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)  # an OSError's str() names the server path
        raise InvalidInput(N_("%(file)s: cannot read (%(error)s)"), file=SETTINGS_FILE, error=reason) from None
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            N_("%(file)s line %(line)d: invalid JSON (%(error)s)"), file=SETTINGS_FILE, line=exc.lineno, error=exc.msg
        ) from None
    except RecursionError:
        raise InvalidInput(N_("%(file)s: the JSON is nested too deeply"), file=SETTINGS_FILE) from None
    if not isinstance(data, dict) or data.get("format") != SETTINGS_FORMAT:
        raise InvalidInput(
            N_("%(file)s: not a Participate consultation file (format %(format)s)"),
            file=SETTINGS_FILE,
            format=SETTINGS_FORMAT,
        )
    _check_settings(data)
    return data


# The type of each field of consultation.json that an import reads; null is always allowed (absent).
_SETTING_TYPES = {
    "slug": str,
    "title": str,
    "question": str,
    "description": str,
    "moderation": str,
    "allow_statements": bool,
    "report_visibility": str,
    "statements": list,
    "banned_participant_ids": list,
    "language": str,
}
_STATEMENT_DETAIL_TYPES = {"origin": str, "is_meta": bool, "source": str, "themes": list}
_TYPE_NAMES = {str: N_("text"), bool: N_("true or false"), list: N_("a list"), int: N_("a whole number")}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= polis_io.MAX_ID


def _wrong_type(field: str, kind: type) -> InvalidInput:
    return InvalidInput(
        N_("%(file)s: “%(field)s” must be %(type)s."), file=SETTINGS_FILE, field=field, type=Term(_TYPE_NAMES[kind])
    )


def _check_settings(data: dict) -> None:
    """Refuse a consultation.json whose fields have the wrong types, naming the field (not a 500 later)."""
    for field, kind in _SETTING_TYPES.items():
        if data.get(field) is not None and not isinstance(data[field], kind):
            raise _wrong_type(field, kind)
    if data.get("report_visibility") is not None and data["report_visibility"] not in {
        v.value for v in ReportVisibility
    }:
        allowed = ", ".join(v.value for v in ReportVisibility)
        raise InvalidInput(
            N_("%(file)s: “%(field)s” must be one of: %(allowed)s."),
            file=SETTINGS_FILE,
            field="report_visibility",
            allowed=allowed,
        )
    if data.get("language") is not None:
        consultations.check_language(data["language"])
    for number, pid in enumerate(data.get("banned_participant_ids") or [], start=1):
        if not _is_id(pid):
            raise _wrong_type(f"banned_participant_ids[{number}]", int)
    for number, detail in enumerate(data.get("statements") or [], start=1):
        if not isinstance(detail, dict) or not _is_id(detail.get("id")):
            raise _wrong_type(f"statements[{number}].id", int)
        for field, kind in _STATEMENT_DETAIL_TYPES.items():
            if detail.get(field) is not None and not isinstance(detail[field], kind):
                raise _wrong_type(f"statements[{number}].{field}", kind)
        if any(not isinstance(theme, str) for theme in detail.get("themes") or []):
            raise _wrong_type(f"statements[{number}].themes", str)


#: The most a zip may unpack into on the web (zip bombs): checked on every member's actual bytes while they are
#: unpacked to disk in small pieces, not only on the sizes the zip declares. ``participate import-polis`` has none.
MAX_UNCOMPRESSED_BYTES = 64 << 20
#: The files an import reads from a zip: a Pol.is export's and a math fixture's.
_READ_FILES = FOLDER_FILES | {"votes.json", "comments.json", "conversation.json", "math-pca2.json"}
_CHUNK = 1 << 16


def _too_big(path: Path, size: int, limit: int) -> InvalidInput:
    return InvalidInput(
        N_(
            "Import refused: %(file)s would unpack to more than %(size)d MB; the limit is %(limit)d MB. Import it "
            "from the command line instead."
        ),
        file=path.name,
        size=size >> 20,
        limit=limit >> 20,
    )


def _unpack(path: Path, folder: Path, limit: int | None) -> Path:
    """Unpack the files an import reads from the zip at ``path`` into ``folder``/<zip's name>, streaming, and stop
    as soon as they exceed ``limit`` bytes; returns the unpacked folder (a folder or a non-zip is returned as is)."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        return path
    target = folder / path.stem
    target.mkdir()
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if not i.is_dir() and "__MACOSX" not in i.filename]
            chosen: dict[str, zipfile.ZipInfo] = {}
            for depth in (0, 1):  # at the zip's root, or in its single top-level folder
                chosen = {
                    i.filename.rsplit("/", 1)[-1]: i
                    for i in members
                    if i.filename.count("/") == depth and i.filename.rsplit("/", 1)[-1] in _READ_FILES
                }
                if chosen:
                    break
            encrypted = sorted(name for name, info in chosen.items() if info.flag_bits & 0x1)
            if encrypted:
                raise InvalidInput(
                    N_("Import refused: %(member)s in %(file)s is encrypted; export it again without a password."),
                    member=encrypted[0],
                    file=path.name,
                )
            declared = sum(info.file_size for info in chosen.values())
            if limit is not None and declared > limit:
                raise _too_big(path, declared, limit)
            written = 0
            for name, info in chosen.items():
                with archive.open(info) as source, (target / name).open("wb") as out:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if limit is not None and written > limit:
                            raise _too_big(path, written, limit)
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, RuntimeError, zlib.error) as exc:
        raise InvalidInput(
            N_("Import refused: %(file)s is not a readable zip (%(error)s)"), file=path.name, error=str(exc)
        ) from None
    return target


def _moment(seconds: float | None, fallback: datetime) -> datetime:
    if seconds is None or math.isnan(seconds):
        return fallback
    return datetime.fromtimestamp(seconds, UTC)


#: Times an import may carry: none before the Unix epoch (Pol.is times count from it), none after the import's day.
EARLIEST_PLAUSIBLE = datetime(1970, 1, 1, tzinfo=UTC)


def _check_plausible_times(export, now: datetime) -> None:
    """Refuse an export whose votes or statements are dated before 1970 or after today: such a date is a broken
    export, and would be shown, binned and compared as if it were real."""
    latest = now + timedelta(days=1)
    stamps = [s.timestamp for s in export.statements if s.timestamp is not None and not math.isnan(s.timestamp)]
    known = export.votes.timestamps[~np.isnan(export.votes.timestamps)]
    if len(known):
        stamps += [float(known.min()), float(known.max())]
    for stamp in stamps:
        if not EARLIEST_PLAUSIBLE.timestamp() <= stamp <= latest.timestamp():
            try:
                when = datetime.fromtimestamp(stamp, UTC).date().isoformat()
            except (ValueError, OverflowError, OSError):
                when = f"{stamp:.0f} s after 1970"
            raise InvalidInput(
                N_(
                    "Import refused: a vote or statement is dated %(when)s, outside the plausible range "
                    "(%(earliest)s to %(latest)s). Check the timestamp column of votes.csv and comments.csv."
                ),
                when=when,
                earliest=EARLIEST_PLAUSIBLE.date().isoformat(),
                latest=latest.date().isoformat(),
            )


def _random_token_hash() -> str:
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def import_export(
    session: Session,
    path: str | Path,
    *,
    slug: str | None = None,
    owner: Account | None = None,
    name: str | None = None,
    now: datetime | None = None,
    unlimited: bool = False,
    language: str | None = None,
) -> Consultation:
    """Import a Pol.is export (folder or zip) as a new closed consultation, all or nothing.

    Votes keep their timestamps and full history; statements keep their moderation state and ``is_meta``;
    participants get random token hashes (nobody can sign in as them). The report is private unless
    ``consultation.json`` says otherwise. Malformed input raises :class:`InvalidInput` naming the file, row and
    reason (never a server path), and leaves the database unchanged. A zip may unpack to at most
    :data:`MAX_UNCOMPRESSED_BYTES` unless ``unlimited`` (the command line). The statements' ``language`` is the
    one given, else the one ``consultation.json`` names, else :data:`consultations.DEFAULT_LANGUAGE` (a Pol.is
    export does not say). Each statement and participant keeps its id in the source, and each participant the
    source's opinion group, so that the report can show both and letter the groups as the source did.
    """
    if language is not None:
        language = consultations.check_language(language)
    path = Path(path)
    now = now or utcnow()
    with tempfile.TemporaryDirectory() as folder:
        source = _unpack(path, Path(folder), None if unlimited else MAX_UNCOMPRESSED_BYTES)
        try:
            export = polis_io.read_conversation(source)
        except polis_io.PolisFormatError as error:
            # The reader names the folder by its path; an upload's is the server's temporary folder: name it only.
            reason = str(error).replace(str(source), source.name)
            raise InvalidInput(N_("Import refused: %(reason)s"), reason=reason) from None
        settings = _read_settings(source) if source.is_dir() else {}
    statement_ids = {s.id for s in export.statements}
    unknown = sorted(set(export.votes.statement_ids.tolist()) - statement_ids)
    if unknown:
        raise InvalidInput(
            N_("Import refused: votes refer to comment-id %(id)d, which is not in comments.csv"), id=unknown[0]
        )
    _check_plausible_times(export, now)
    if owner is not None:
        consultations.require_facilitator(owner)
    try:
        consultation = _import(
            session,
            export,
            settings,
            slug=slug,
            owner=owner,
            name=name or path.stem,
            now=now,
            language=language,
        )
    except Exception:
        session.rollback()
        raise
    votes_changed.send(consultation.id)  # so its report is ready to read
    return consultation


def _import(session, export, settings, *, slug, owner, name, now, language) -> Consultation:
    votes = export.votes
    stamps = [s.timestamp for s in export.statements if s.timestamp is not None]
    known = votes.timestamps[~np.isnan(votes.timestamps)]
    times = stamps + ([float(known.min()), float(known.max())] if len(known) else [])
    fallback = _moment(max(times), now) if times else now  # for votes Pol.is exported without a time
    first_time = _moment(min(times), now) if times else now

    title = (settings.get("title") or export.topic or name or "Imported conversation").strip()[:TITLE_MAX_LENGTH]
    if slug:
        slug = slug.strip().lower()
        if not consultations.SLUG.match(slug) or len(slug) > 80:
            raise InvalidInput(N_("The web address must be lowercase letters, digits and single hyphens."))
        if session.scalar(select(Consultation.id).where(Consultation.slug == slug)) is not None:
            raise Conflict(N_("The web address “%(slug)s” is already used by another consultation."), slug=slug)
    else:
        slug = consultations.unique_slug(session, consultations.slugify(settings.get("slug") or title))
    moderation = settings.get("moderation")
    consultation = Consultation(
        slug=slug,
        title=title or "Imported conversation",
        question=(settings.get("question") or export.topic or title or "Imported conversation").strip()[
            :QUESTION_MAX_LENGTH
        ],
        description=(settings.get("description") or export.description or "").strip()[:DESCRIPTION_MAX_LENGTH],
        status=ConsultationStatus.CLOSED,
        moderation=ModerationMode(moderation) if moderation in ("pre", "post") else ModerationMode.POST,
        allow_statements=bool(settings.get("allow_statements", True)),
        # An import is private until its facilitators choose otherwise, unless the file itself says so.
        report_visibility=ReportVisibility(settings.get("report_visibility") or ReportVisibility.PRIVATE),
        created_at=now,
        opened_at=first_time,
        closed_at=fallback if times else now,
        imported_from_polis=True,
        language=language or settings.get("language") or consultations.DEFAULT_LANGUAGE,
        # Without vote times (no votes.csv) the votes are stored with one time, the import's latest known moment:
        # nothing may read it as when anyone voted (timing checks, daily charts).
        vote_times=len(known) == len(votes),
    )
    consultations.make_secrets(consultation)
    session.add(consultation)
    session.flush()
    if owner is not None:
        session.add(ConsultationOwner(consultation_id=consultation.id, account_id=owner.id))

    # Participants: everyone who voted or wrote a statement, arriving at their first vote or statement.
    first_seen: dict[int, float] = {}
    for pid, stamp in zip(votes.participant_ids.tolist(), votes.timestamps.tolist(), strict=True):
        if pid not in first_seen:
            first_seen[pid] = stamp
    for s in export.statements:
        if s.author_id is not None and not s.is_seed:
            seen = first_seen.get(s.author_id)
            if s.timestamp is not None and (seen is None or math.isnan(seen) or s.timestamp < seen):
                first_seen[s.author_id] = s.timestamp
            elif seen is None:
                first_seen[s.author_id] = math.nan
    polis_pids = sorted(first_seen)
    banned = set(settings.get("banned_participant_ids") or [])
    participant_ids = (
        session.scalars(
            insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
            [
                {
                    "consultation_id": consultation.id,
                    "token_hash": _random_token_hash(),
                    "is_banned": pid in banned,
                    "created_at": _moment(first_seen[pid], fallback),
                    "source_id": pid,
                    "source_group": export.polis_groups.get(pid),
                }
                for pid in polis_pids
            ],
        ).all()
        if polis_pids
        else []
    )
    participant_of = dict(zip(polis_pids, participant_ids, strict=True))
    # Participant metadata columns (answers about participants) are kept as questions about participants.
    left_out = population.add_imported(
        session, consultation, export.participant_metadata, participant_of, settings.get("participant_questions")
    )

    # Statements, with per-statement details from consultation.json when this is a Participate export.
    details = {int(d["id"]): d for d in settings.get("statements", []) if isinstance(d, dict) and "id" in d}
    used_keys: set[str] = set()
    shortened = 0
    statement_rows = []
    for s in export.statements:
        text, cut = _import_text(s.text)
        shortened += cut
        key = base = statements.text_key(text)
        repeat = 1
        while key in used_keys:  # Pol.is allows repeated texts; keep both, as the votes on each differ
            # " #<id>", then " #<id>-2"…: another statement may itself read "… #<id>" or share the cut key.
            suffix = f" #{s.id}" + (f"-{repeat}" if repeat > 1 else "")
            key = base[: STATEMENT_MAX_LENGTH - len(suffix)] + suffix
            repeat += 1
        used_keys.add(key)
        detail = details.get(s.id, {})
        is_seed = detail.get("origin") == "seed" if "origin" in detail else (s.is_seed or s.author_id is None)
        # Whether the organisers or a participant wrote it, when the source says (its is-seed column or our own
        # export's details); an author id alone does not say whether that author ran the conversation.
        origin_stated = "origin" in detail or s.is_seed is not None or s.author_id is None
        about = about_participants.is_about_participants(text)
        statement_rows.append(
            {
                "consultation_id": consultation.id,
                "text": text,
                "text_key": key,
                "origin": StatementOrigin.SEED if is_seed else StatementOrigin.PARTICIPANT,
                "author_id": None if is_seed else participant_of.get(s.author_id),
                "moderation": _STATE[s.moderated],
                "is_meta": bool(detail.get("is_meta", s.is_meta)) or about,
                "about_participants": about,
                "origin_stated": origin_stated,
                "source": (detail.get("source") or "")[:SOURCE_MAX_LENGTH] or None,
                "source_id": s.id,
                "created_at": _moment(s.timestamp, fallback),
            }
        )
    new_ids = (
        session.scalars(insert(Statement).returning(Statement.id, sort_by_parameter_order=True), statement_rows).all()
        if statement_rows
        else []
    )
    statement_of = {s.id: new_id for s, new_id in zip(export.statements, new_ids, strict=True)}
    # Names cleaned and cut as the themes page does, then deduplicated: two names that become one are one theme.
    themes = [
        {"statement_id": statement_of[sid], "name": name}
        for sid, detail in details.items()
        if sid in statement_of and isinstance(detail.get("themes"), list)
        for name in dict.fromkeys(" ".join(str(theme).split())[:THEME_MAX_LENGTH].strip() for theme in detail["themes"])
        if name
    ]
    if themes:
        session.execute(insert(StatementTheme), themes)
    # The source's moderation, as it happened: each statement its moderators removed, in the moderation log.
    removed = [
        {
            "consultation_id": consultation.id,
            "account_id": None,
            "statement_id": statement_of[s.id],
            "action": ModerationAction.REJECT,
            "reason": REMOVED_IN_SOURCE,
            "created_at": _moment(s.timestamp, fallback),
        }
        for s in export.statements
        if s.moderated == -1
    ]
    if removed:
        session.execute(insert(ModerationLogEntry), removed)

    # Votes: the full history in time order, then the latest per (participant, statement) as the current vote.
    n = len(votes)
    if n:
        pids = votes.participant_ids.tolist()
        sids = votes.statement_ids.tolist()
        values = votes.values.tolist()
        created = [_moment(t, fallback) for t in votes.timestamps.tolist()]
        record_many(
            session,
            consultation.id,
            [
                {"participant_id": participant_of[p], "statement_id": statement_of[s], "value": v, "created_at": c}
                for p, s, v, c in zip(pids, sids, values, created, strict=True)
            ],
        )
    audit.record(
        session,
        owner,
        consultation,
        "imported",
        source=name,
        votes=n,
        statements=len(statement_rows),
        participants=len(polis_pids),
        shortened_statements=shortened,
        metadata_columns_left_out=left_out,
        removed_in_source=len(removed),
        vote_times=consultation.vote_times,
        # The source's own counts (summary.csv), which the report reconciles with what was imported.
        source_summary={k: export.summary[k] for k in SOURCE_COUNTS if export.summary.get(k, "").strip().isdigit()},
    )
    session.commit()
    return consultation
