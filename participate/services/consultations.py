"""Consultations: public listing and look-up, and the sample consultations shipped with the package."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    Consultation,
    ConsultationStatus,
    CurrentVote,
    ModerationMode,
    ModerationState,
    Statement,
    StatementOrigin,
    StatementTheme,
    utcnow,
)
from . import NotFound, statements, voting

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
    return consultation


def get_public(session: Session, slug: str) -> Consultation:
    """An open or closed consultation by slug; drafts are invisible to the public."""
    consultation = session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None or consultation.status == ConsultationStatus.DRAFT:
        raise NotFound("There is no consultation at this address.")
    return consultation


def public_listing(session: Session, *, statuses=(ConsultationStatus.OPEN,)) -> list[Listing]:
    """Consultations with how many people have taken part and how many statements are open for voting."""
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
