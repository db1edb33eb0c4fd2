"""What the facilitators call things in the report: themes (tags on statements) and the opinion groups' names."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account, Consultation, Statement, StatementTheme
from . import N_, InvalidInput, audit

THEME_MAX_LENGTH = 60
THEMES_PER_STATEMENT = 12


def parse_themes(text: str) -> list[str]:
    """Comma- or line-separated theme names, trimmed, without repeats; e.g. ``"use:policing, condition:never"``."""
    names = []
    for part in (text or "").replace("\n", ",").split(","):
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > THEME_MAX_LENGTH:
            raise InvalidInput(
                N_("The theme “%(start)s…” is longer than %(most)d characters."), start=name[:20], most=THEME_MAX_LENGTH
            )
        if name not in names:
            names.append(name)
    if len(names) > THEMES_PER_STATEMENT:
        raise InvalidInput(N_("A statement can have at most %(most)d themes."), most=THEMES_PER_STATEMENT)
    return names


def set_themes(session: Session, account: Account | None, consultation: Consultation, wanted: dict[int, str]) -> int:
    """Replace the themes of the given statements (id → comma-separated names); returns how many changed."""
    parsed = {sid: parse_themes(text) for sid, text in wanted.items()}  # all validated before anything changes
    rows = session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id, Statement.id.in_(list(parsed)))
    ).all()
    changed = 0
    for statement in rows:
        names = parsed[statement.id]
        if sorted(names) == sorted(statement.theme_names):
            continue
        kept = {t.name: t for t in statement.themes}
        statement.themes = [kept.get(name) or StatementTheme(name=name) for name in names]
        changed += 1
    if changed:
        audit.record(session, account, consultation, "themes_changed", statements=changed)
    session.commit()
    return changed


# ----------------------------------------------------------------------------------------------------
# Group names: what the facilitators call each opinion group in the brief
# ----------------------------------------------------------------------------------------------------
GROUP_NAME_MAX_LENGTH = 60


def set_group_names(
    session: Session, account: Account | None, consultation: Consultation, wanted: dict[str, str]
) -> int:
    """Name the opinion groups by letter (``{"A": "Cautious adopters"}``; empty clears); returns how many changed.

    Names follow the letters, so a facilitator checks them when new votes regroup people.
    """
    names = dict(consultation.group_names or {})
    cleaned = {}
    for label, text in wanted.items():
        if not (len(label) == 1 and "A" <= label <= "Z"):
            raise InvalidInput(N_("There is no opinion group “%(label)s”."), label=label[:5])
        name = " ".join((text or "").split())
        if len(name) > GROUP_NAME_MAX_LENGTH:
            raise InvalidInput(
                N_("The name of group %(label)s is longer than %(most)d characters."),
                label=label,
                most=GROUP_NAME_MAX_LENGTH,
            )
        cleaned[label] = name
    changed = 0
    for label, name in cleaned.items():
        if names.get(label, "") == name:
            continue
        if name:
            names[label] = name
        else:
            names.pop(label, None)
        changed += 1
    if changed:
        consultation.group_names = names
        audit.record(session, account, consultation, "group_names_changed", groups=changed)
    session.commit()
    return changed
