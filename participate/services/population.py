"""Who took part, against the population: optional questions about participants, their answers, and weighting.

Facilitators choose questions (from :mod:`.population_templates` or their own) with the population's share of each
answer; participants answer any, none, or "prefer not to say". The report then shows each question's answers
against the population's shares, and each statement's agree share weighted to the population's margins
(:mod:`analysis.weighting`: raking, trimmed), with a 95% interval, or why it is not shown.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Mapping

import numpy as np
from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session, selectinload

from analysis import csv_safe, weighting

from ..models import (
    CATEGORY_LABEL_MAX_LENGTH,
    CATEGORY_VALUE_MAX_LENGTH,
    LAWFUL_BASIS_MAX_LENGTH,
    POPULATION_SOURCE_MAX_LENGTH,
    QUESTION_TEXT_MAX_LENGTH,
    Account,
    Consultation,
    ConsultationStatus,
    ParticipantAnswer,
    ParticipantQuestion,
    QuestionCategory,
    utcnow,
)
from . import N_, Conflict, InvalidInput, NotFound, audit, statements
from .participation import gate, identity
from .population_templates import AREAS, SOURCE, TEMPLATES, YEAR

PREFER_NOT_TO_SAY = "prefer-not-to-say"
MAX_QUESTIONS = 10
MAX_CATEGORIES = 30
#: Population shares entered as percentages must add up to 100 within this (rounded figures rarely add up exactly).
SUM_TOLERANCE = 2.0
#: A file of population shares is a small table (one row per answer); anything larger is not one.
SHARES_FILE_MAX_BYTES = 64 * 1024
#: Special categories of personal data (UK GDPR art. 9): a question that looks like one needs a lawful basis.
SPECIAL_WORDS = re.compile(
    r"health|disab|ethnic|\brace\b|religio|\bfaith|belief|politic|trade union|sexual orientation|sex life|genetic|"
    r"biometric|iechyd|anabl|ethnig|crefydd|gwleidyddol",
    re.IGNORECASE,
)
# Why a weighted figure is not shown (``weighted = {"suppressed": reason}``); the pages say it in words.
NO_QUESTIONS = "no_questions"
NO_SHARES = "no_population_shares"
EMPTY_CELL = "empty_population_cell"
SMALL_SAMPLE = "effective_n_below_30"
REASONS = {
    NO_QUESTIONS: N_("No questions about participants were asked."),
    NO_SHARES: N_("No question about participants with the population's shares has been answered."),
    EMPTY_CELL: N_("Nobody who took part is in one of the population's groups, so no weights can stand for it."),
    SMALL_SAMPLE: N_("Fewer than 30 people's worth of votes once weighted (the effective sample size)."),
}


# ---- Facilitators -------------------------------------------------------------------------------------------
def questions(session: Session, consultation: Consultation) -> list[ParticipantQuestion]:
    """The consultation's questions about participants, in order, with their categories."""
    return list(
        session.scalars(
            select(ParticipantQuestion)
            .where(ParticipantQuestion.consultation_id == consultation.id)
            .options(selectinload(ParticipantQuestion.categories))
            .order_by(ParticipantQuestion.position)
        )
    )


def asks_questions(session: Session, consultation: Consultation) -> bool:
    """Whether the consultation asks any question about participants: one indexed EXISTS, for the pages' link."""
    return bool(session.scalar(select(exists().where(ParticipantQuestion.consultation_id == consultation.id))))


def _next_position(session: Session, consultation: Consultation) -> int:
    count, last = session.execute(
        select(func.count(), func.max(ParticipantQuestion.position)).where(
            ParticipantQuestion.consultation_id == consultation.id
        )
    ).one()
    if count >= MAX_QUESTIONS:
        raise InvalidInput(
            N_("A consultation can ask at most %(limit)d questions about participants."), limit=MAX_QUESTIONS
        )
    return (last or 0) + 1


def add_template(session: Session, consultation: Consultation, account: Account | None, key: str, area: str):
    """Add a ready-made question with the population's shares for ``area`` ("uk" or "wales")."""
    template = TEMPLATES.get(key)
    if template is None or area not in AREAS or area not in template["shares"]:
        raise InvalidInput(N_("Choose one of the ready-made questions and an area it has figures for."))
    if session.scalar(
        select(func.count()).where(
            ParticipantQuestion.consultation_id == consultation.id, ParticipantQuestion.template == key
        )
    ):
        raise InvalidInput(N_("This consultation already asks that question."))
    question = ParticipantQuestion(
        consultation_id=consultation.id,
        position=_next_position(session, consultation),
        text=template["text"],
        template=key,
        population_source=SOURCE[area],
        population_year=YEAR,
    )
    question.categories = [
        QuestionCategory(position=i, value=value, label=label, population_share=share)
        for i, ((value, label), share) in enumerate(zip(template["categories"], template["shares"][area], strict=True))
    ]
    session.add(question)
    audit.record(session, account, consultation, "participant_question_added", template=key, area=area)
    session.commit()
    return question


def _percent(text: str) -> float | None:
    """A percentage as typed ("12.5", "12.5%", "") → a share (0.125), or None when empty."""
    text = (text or "").strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(N_("“%(value)s” is not a percentage."), value=text[:20]) from None
    if not (math.isfinite(value) and 0 <= value <= 100):
        raise InvalidInput(N_("A population share must be a percentage from 0 to 100."))
    return round(value / 100, 6)


def _check_shares(shares: list[float | None]) -> None:
    given = [s for s in shares if s is not None]
    if given and abs(100 * sum(given) - 100) > SUM_TOLERANCE:
        raise InvalidInput(
            N_(
                "The population's shares add up to %(total)s%%; they should add up to 100%% "
                "(give none to leave them out)."
            ),
            total=f"{100 * sum(given):g}",
        )


def _source(source: str, year: object) -> tuple[str, int | None]:
    source = (source or "").strip()
    if len(source) > POPULATION_SOURCE_MAX_LENGTH:
        raise InvalidInput(
            N_("The source is too long (at most %(limit)d characters)."), limit=POPULATION_SOURCE_MAX_LENGTH
        )
    year_text = str(year or "").strip()
    if not year_text:
        return source, None
    if not year_text.isdigit() or not 1900 <= int(year_text) <= 2100:
        raise InvalidInput(N_("The year of the population's figures must be a year such as 2022."))
    return source, int(year_text)


def add_question(
    session: Session,
    consultation: Consultation,
    account: Account | None,
    *,
    text: str,
    categories: str,
    source: str = "",
    year: object = None,
    special_category: bool = False,
    lawful_basis: str = "",
) -> ParticipantQuestion:
    """Add the facilitator's own question: ``categories`` one per line, each ``label`` or ``label = percent``.

    A question in a special category of personal data (health, ethnicity, religion, politics; also when its text
    looks like one) needs ``lawful_basis``, which participants are shown beside it.
    """
    text = " ".join((text or "").split())
    if not 1 <= len(text) <= QUESTION_TEXT_MAX_LENGTH:
        raise InvalidInput(N_("Write the question (1 to %(limit)d characters)."), limit=QUESTION_TEXT_MAX_LENGTH)
    lawful_basis = (lawful_basis or "").strip()
    if not special_category and SPECIAL_WORDS.search(text):
        raise InvalidInput(
            N_(
                "This question looks like one about a special category of personal data (health, ethnicity, "
                "religion or belief, politics, sex life or orientation): mark it as one and record its lawful basis."
            )
        )
    if special_category and not lawful_basis:
        raise InvalidInput(N_("A question about a special category of personal data needs its lawful basis."))
    if len(lawful_basis) > LAWFUL_BASIS_MAX_LENGTH:
        raise InvalidInput(
            N_("The lawful basis is too long (at most %(limit)d characters)."), limit=LAWFUL_BASIS_MAX_LENGTH
        )
    source, year = _source(source, year)
    rows = []
    for line in (categories or "").splitlines():
        if not line.strip():
            continue
        label, _, share = line.partition("=")
        label = " ".join(label.split())
        if not 1 <= len(label) <= CATEGORY_LABEL_MAX_LENGTH:
            raise InvalidInput(
                N_("Each answer needs a label of at most %(limit)d characters."), limit=CATEGORY_LABEL_MAX_LENGTH
            )
        rows.append((label, _percent(share)))
    if not 2 <= len(rows) <= MAX_CATEGORIES:
        raise InvalidInput(N_("Give from 2 to %(limit)d answers, one per line."), limit=MAX_CATEGORIES)
    if len({label.casefold() for label, _ in rows}) < len(rows):
        raise InvalidInput(N_("Each answer must be different."))
    _check_shares([s for _, s in rows])
    question = ParticipantQuestion(
        consultation_id=consultation.id,
        position=_next_position(session, consultation),
        text=text,
        special_category=bool(special_category),
        lawful_basis=lawful_basis if special_category else "",
        population_source=source,
        population_year=year,
    )
    question.categories = [
        QuestionCategory(position=i, value=str(i + 1), label=label, population_share=share)
        for i, (label, share) in enumerate(rows)
    ]
    session.add(question)
    audit.record(
        session, account, consultation, "participant_question_added", text=text, special=bool(special_category)
    )
    session.commit()
    return question


def find_question(session: Session, consultation: Consultation, question_id: object) -> ParticipantQuestion:
    """The consultation's question ``question_id``; NotFound for anything else (another consultation's too)."""
    question = session.get(ParticipantQuestion, question_id) if isinstance(question_id, int) else None
    if question is None or question.consultation_id != consultation.id:
        raise NotFound(N_("There is no such question about participants."))
    return question


def save_shares(
    session: Session,
    consultation: Consultation,
    account: Account | None,
    question_id: int,
    shares: Mapping[str, str],
    *,
    source: str,
    year: object,
) -> None:
    """Replace a question's population shares (percentages keyed by category value; empty: no figure) and source."""
    question = find_question(session, consultation, question_id)
    values = [_percent(shares.get(c.value, "")) for c in question.categories]
    _check_shares(values)
    question.population_source, question.population_year = _source(source, year)
    for category, share in zip(question.categories, values, strict=True):
        category.population_share = share
    audit.record(session, account, consultation, "participant_question_shares", question=question.id)
    session.commit()


def shares_csv(
    question: ParticipantQuestion, label_of: Callable[[ParticipantQuestion, str], str] = lambda question, label: label
) -> str:
    """The question's population shares as a CSV file (answer, percentage), the form :func:`save_shares_file` reads:
    a facilitator downloads it, edits it in a spreadsheet and uploads it. ``label_of``: how labels are shown."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(["answer", "share"])
    for category in question.categories:
        share = category.population_share
        writer.writerow([label_of(question, category.label), "" if share is None else f"{share * 100:g}"])
    return out.getvalue()


def save_shares_file(
    session: Session,
    consultation: Consultation,
    account: Account | None,
    question_id: int,
    data: bytes,
    *,
    source: str,
    year: object,
    label_of: Callable[[ParticipantQuestion, str], str] = lambda question, label: label,
) -> int:
    """Replace a question's population shares with those of an uploaded CSV file; returns how many figures it gave.

    One row per answer: the answer (its label as the facilitator sees it, ``label_of``, or as stored; case and
    spacing aside), then its percentage. Commas, semicolons or tabs separate the cells; a header row is skipped.
    Answers the file does not name get no figure, as an empty box in the form does.
    """
    question = find_question(session, consultation, question_id)
    by_name: dict[str, str] = {}
    for category in question.categories:
        for name in (category.value, category.label, label_of(question, category.label)):
            by_name.setdefault(statements.text_key(name), category.value)
    shares: dict[str, str] = {}
    for number, (answer, share) in _shares_rows(data):
        value = by_name.get(statements.text_key(answer))
        if value is None:
            raise InvalidInput(
                N_("Row %(row)d of the file: “%(answer)s” is not one of this question's answers."),
                row=number,
                answer=answer[:100],
            )
        if value in shares:
            raise InvalidInput(
                N_("Row %(row)d of the file gives “%(answer)s” a second time."), row=number, answer=answer
            )
        shares[value] = share
    save_shares(session, consultation, account, question.id, shares, source=source, year=year)
    return sum(1 for share in shares.values() if share)


def _shares_rows(data: bytes) -> list[tuple[int, tuple[str, str]]]:
    """(row number, (answer, share)) of a shares file; its first row is skipped when it is a header."""
    if not data:
        raise InvalidInput(
            N_("Choose a CSV file of the population's shares to upload (none was given, or it is empty).")
        )
    if len(data) > SHARES_FILE_MAX_BYTES:
        raise InvalidInput(
            N_("The file is too large for a table of shares (at most %(limit)d KB)."),
            limit=SHARES_FILE_MAX_BYTES // 1024,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # a spreadsheet's "CSV" on Windows
    if "\x00" in text:
        raise InvalidInput(N_("This file is not a CSV file. Save the table as CSV and upload that."))
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows', and old Macs' spreadsheets, line ends
    first = text.lstrip().partition("\n")[0]
    delimiter = next((d for d in (";", "\t") if d in first), ",")
    try:
        table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        raise InvalidInput(N_("This file is not a CSV file. Save the table as CSV and upload that.")) from None
    rows = []
    for number, cells in enumerate(table, start=1):
        cells = [csv_safe.restore(cell.strip()) for cell in cells]
        if not any(cells):
            continue
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > 2:  # "Female,50,5": a decimal comma in a comma-separated file is not 50%
            raise InvalidInput(
                N_(
                    "Row %(row)d of the file has more than two cells: give the answer, then its share. For a decimal "
                    "comma, separate the cells with semicolons (“Female;50,5”)."
                ),
                row=number,
            )
        if not cells[0]:
            raise InvalidInput(
                N_("Row %(row)d of the file: give the answer, then its share in per cent, e.g. “Female,51”."),
                row=number,
            )
        share = cells[1] if len(cells) == 2 else ""
        if number == 1 and share and not any(c.isdigit() for c in share):
            continue  # the header ("answer,share")
        rows.append((number, (cells[0], share)))
    if not rows:
        raise InvalidInput(N_("The file has no shares in it: one row per answer, e.g. “Female,51”."))
    return rows


def remove_question(session: Session, consultation: Consultation, account: Account | None, question_id: int) -> None:
    """Remove a question and every participant's answer to it."""
    question = find_question(session, consultation, question_id)
    session.delete(question)
    audit.record(session, account, consultation, "participant_question_removed", text=question.text)
    session.commit()


# ---- Participants -------------------------------------------------------------------------------------------
def current_answers(session: Session, participant) -> dict[int, str]:
    """The participant's answers: question id → category value, or :data:`PREFER_NOT_TO_SAY`."""
    if participant is None:
        return {}
    rows = session.execute(
        select(ParticipantAnswer.question_id, QuestionCategory.value)
        .outerjoin(QuestionCategory, QuestionCategory.id == ParticipantAnswer.category_id)
        .where(ParticipantAnswer.participant_id == participant.id)
    )
    return {qid: value or PREFER_NOT_TO_SAY for qid, value in rows}


def answer(session: Session, slug: str, token: str, form: Mapping[str, str]) -> int:
    """Save a participant's answers from the form (``q<id>`` → category value, "prefer-not-to-say", or "" for none).

    Through the participation gate (public, eligible, not banned), and only while the consultation is open. An
    empty choice removes an earlier answer. Returns how many answers are kept. One commit.
    """
    seen = gate.enter(session, slug, token, acting=None)
    if seen.status != ConsultationStatus.OPEN:
        raise Conflict(N_("This consultation is closed: answers can no longer change."))
    consultation = session.get(Consultation, seen.consultation_id)
    asked = questions(session, consultation)
    if not asked:
        raise NotFound(N_("This consultation asks no questions about participants."))
    choices = {}
    for question in asked:
        value = (form.get(f"q{question.id}") or "").strip()
        if value and value != PREFER_NOT_TO_SAY and value not in {c.value for c in question.categories}:
            raise InvalidInput(N_("Please choose one of the answers offered."))
        choices[question] = value
    participant = identity.find_or_add(session, consultation, token)
    session.execute(delete(ParticipantAnswer).where(ParticipantAnswer.participant_id == participant.id))
    kept = 0
    for question, value in choices.items():
        if not value:
            continue
        category = next((c.id for c in question.categories if c.value == value), None)
        session.add(
            ParticipantAnswer(
                participant_id=participant.id, question_id=question.id, category_id=category, answered_at=utcnow()
            )
        )
        kept += 1
    session.commit()
    return kept


def my_answers(session: Session, participant) -> list[dict]:
    """The participant's answers for their data download: the question and the answer, as they were asked."""
    if participant is None:
        return []
    rows = session.execute(
        select(ParticipantQuestion.text, QuestionCategory.label, ParticipantAnswer.answered_at)
        .join(ParticipantQuestion, ParticipantQuestion.id == ParticipantAnswer.question_id)
        .outerjoin(QuestionCategory, QuestionCategory.id == ParticipantAnswer.category_id)
        .where(ParticipantAnswer.participant_id == participant.id)
        .order_by(ParticipantQuestion.position)
    )
    return [
        {"question": text, "answer": label if label is not None else "prefer not to say", "at": at.isoformat()}
        for text, label, at in rows
    ]


# ---- The report ---------------------------------------------------------------------------------------------
def fingerprint(session: Session, consultation: Consultation) -> tuple:
    """What the report's population section depends on besides the votes: answers and the questions' shares."""
    answers = session.execute(
        select(func.count(), func.max(ParticipantAnswer.answered_at))
        .join(ParticipantQuestion, ParticipantQuestion.id == ParticipantAnswer.question_id)
        .where(ParticipantQuestion.consultation_id == consultation.id)
    ).one()
    shares = session.execute(
        select(QuestionCategory.id, QuestionCategory.population_share, QuestionCategory.label)
        .join(ParticipantQuestion, ParticipantQuestion.id == QuestionCategory.question_id)
        .where(ParticipantQuestion.consultation_id == consultation.id)
        .order_by(QuestionCategory.id)
    ).all()
    return tuple(answers), tuple(tuple(r) for r in shares)


def section(
    session: Session,
    consultation: Consultation,
    report: dict,
    votes: tuple[np.ndarray, np.ndarray, np.ndarray],
    view=None,
) -> dict:
    """The report's ``population`` section, and ``weighted`` on each of its statements (changed in place).

    ``votes``: (participant ids, statement ids, values), shape (V,) each: the votes the report counts (those of the
    snapshot it shows, on counted statements, banned participants' left out), so that this section describes the
    same votes as the rest of the report.

    ``{"questions": [{"id", "text", "template", "source", "year", "special_category", "lawful_basis",
    "answers": [{"value", "label", "count", "population_share"}], "not_answered", "prefer_not_to_say"}],
    "participants", "effective_n", "design_effect", "trimmed", "suppressed", "composition"}``, counted over the
    participants who voted on a statement the report counts (those the report's figures describe).
    """
    asked = questions(session, consultation)
    voters = np.unique(np.asarray(votes[0], dtype=np.int64))
    votes = list(zip(*(np.asarray(column).tolist() for column in votes), strict=True))
    row_of = {int(p): i for i, p in enumerate(voters)}
    codes = np.full((len(voters), len(asked)), weighting.MISSING, dtype=np.int64)
    prefer_not = [0] * len(asked)
    if asked and len(voters):
        index = {q.id: j for j, q in enumerate(asked)}
        position = {c.id: c.position for q in asked for c in q.categories}
        answers = session.execute(
            select(
                ParticipantAnswer.participant_id, ParticipantAnswer.question_id, ParticipantAnswer.category_id
            ).where(ParticipantAnswer.question_id.in_(list(index)))
        )
        for pid, qid, cid in answers:
            if pid not in row_of:
                continue
            if cid is None:
                prefer_not[index[qid]] += 1
            else:
                codes[row_of[pid], index[qid]] = position[cid]
    out: dict = {
        "questions": [],
        "participants": len(voters),
        "effective_n": None,
        "design_effect": None,
        "trimmed": 0,
        "suppressed": None,
        "composition": [],
    }
    for j, question in enumerate(asked):
        counts = np.bincount(codes[:, j][codes[:, j] >= 0], minlength=len(question.categories))
        out["questions"].append(
            {
                "id": question.id,
                "kind": "question",
                "text": question.text,
                "template": question.template,
                "source": question.population_source,
                "year": question.population_year,
                "special_category": question.special_category,
                "lawful_basis": question.lawful_basis,
                "answers": [
                    {
                        "value": c.value,
                        "label": c.label,
                        "count": int(counts[c.position]),
                        "population_share": c.population_share,
                    }
                    for c in question.categories
                ],
                "not_answered": int(len(voters) - counts.sum()),
                "prefer_not_to_say": prefer_not[j],
            }
        )
    if not asked:
        _from_statements(out, report)
    _composition(out, codes, row_of, report, view)
    _weigh(out, asked, codes, votes, row_of, report)
    return out


#: How a statement about participants' votes read as answers (labels in the interface's words, translated).
VOTE_ANSWERS = (("agree", "Agree"), ("disagree", "Disagree"), ("pass", "Pass / Unsure"))


def _from_statements(out: dict, report: dict) -> None:
    """Without questions, participants' statements about themselves ("I am under 30") describe who took part.

    The report lists them in ``about_participants`` (statement ids; found by ``services.about_participants``):
    each becomes a row of the table with its votes as answers and no population share, ``kind`` "statement".
    """
    index = {row["id"]: row for row in report["statements"]}
    for sid in report.get("about_participants") or ():
        row = index.get(sid)
        if row is None:
            continue
        overall = row["overall"]
        out["questions"].append(
            {
                "id": sid,
                "kind": "statement",
                "text": row["text"],
                "template": None,
                "source": "",
                "year": None,
                "special_category": False,
                "lawful_basis": "",
                "answers": [
                    {"value": value, "label": label, "count": int(overall[value]), "population_share": None}
                    for value, label in VOTE_ANSWERS
                ],
                "not_answered": max(out["participants"] - int(overall["votes"]), 0),
                "prefer_not_to_say": 0,
            }
        )


def _composition(out: dict, codes: np.ndarray, row_of: dict[int, int], report: dict, view) -> None:
    """Each opinion group's answers to each question (counts), for the report's "who is in each group"."""
    if view is None or not report.get("ready") or not out["questions"] or out["questions"][0]["kind"] != "question":
        return
    groups = [(g.label, [row_of[p] for p in g.members if p in row_of]) for g in view.groups_by_label]
    for j, question in enumerate(out["questions"]):
        entry = {"question_id": question["id"], "groups": []}
        for label, rows in groups:
            col = codes[rows, j] if rows else np.zeros(0, dtype=np.int64)
            counts = np.bincount(col[col >= 0], minlength=len(question["answers"]))
            entry["groups"].append(
                {
                    "label": label,
                    "size": len(rows),
                    "answers": [
                        {"value": a["value"], "count": int(counts[i])} for i, a in enumerate(question["answers"])
                    ],
                    "not_answered": int(np.count_nonzero(col < 0)),
                }
            )
        out["composition"].append(entry)


def _weigh(out: dict, asked, codes: np.ndarray, votes, row_of: dict[int, int], report: dict) -> None:
    """Weights from the questions with population shares; ``weighted`` on every statement of the report."""
    # A question counts when it has the population's shares and someone answered it (one nobody answered says
    # nothing about who took part).
    usable = [
        j
        for j, q in enumerate(asked)
        if any(c.population_share for c in q.categories)
        and any(q.categories[c].population_share for c in np.unique(codes[:, j][codes[:, j] >= 0]))
    ]
    reason = NO_QUESTIONS if not asked else NO_SHARES if not usable else None
    shares = [np.array([c.population_share or 0.0 for c in asked[j].categories]) for j in usable]
    answers = codes[:, usable]
    if reason is None and len(row_of) and weighting.empty_cells(answers, shares):
        reason = EMPTY_CELL
    if reason is None and not row_of:
        reason = SMALL_SAMPLE
    for row in report["statements"]:
        row["weighted"] = {"suppressed": reason or SMALL_SAMPLE}
    out["suppressed"] = reason
    if reason is not None:
        return
    weights = weighting.rake(answers, shares)
    out["effective_n"] = round(weights.effective_n, 1)
    out["design_effect"] = round(weights.design_effect, 3)
    out["trimmed"] = weights.trimmed
    column = {row["id"]: i for i, row in enumerate(report["statements"]) if not row["is_meta"]}
    kept = [(row_of[p], column[s], v) for p, s, v in votes if s in column]
    if not kept:
        return
    rows, cols, values = (np.array(a, dtype=np.int64) for a in zip(*kept, strict=True))
    shares_out = weighting.weighted_agree(weights, rows, cols, values, len(report["statements"]))
    for row in report["statements"]:
        i = column.get(row["id"])
        if i is None or not shares_out.effective_n[i] >= weighting.MIN_EFFECTIVE_N:
            continue
        row["weighted"] = {
            "agree_share": round(float(shares_out.share[i]), 4),
            "low": round(float(shares_out.low[i]), 4),
            "high": round(float(shares_out.high[i]), 4),
        }


# ---- Pol.is exchange ----------------------------------------------------------------------------------------
PREFER_NOT_LABEL = "Prefer not to say"  # how "prefer not to say" is written in exported metadata columns
METADATA_FIXED = {"participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree", "xid"}


def _column_name(question: ParticipantQuestion, used: set[str]) -> str:
    """A question's metadata column: its text, unless that would read back as another column."""
    name = question.text
    if name in METADATA_FIXED or name.lstrip("+-").isdigit():
        name = f"Q: {name}"
    while name in used:
        name += " "  # two questions with the same text stay two columns
    used.add(name)
    return name


def export_metadata(session: Session, consultation: Consultation) -> dict[str, dict[int, str]]:
    """Answers as Pol.is-style participant metadata columns: question text → participant id → answer label."""
    asked = questions(session, consultation)
    used: set[str] = set()
    columns = {q.id: _column_name(q, used) for q in asked}
    label = {c.id: c.label for q in asked for c in q.categories}
    out: dict[str, dict[int, str]] = {name: {} for name in columns.values()}
    for pid, qid, cid in session.execute(
        select(ParticipantAnswer.participant_id, ParticipantAnswer.question_id, ParticipantAnswer.category_id).where(
            ParticipantAnswer.question_id.in_(list(columns))
        )
    ):
        out[columns[qid]][pid] = label[cid] if cid is not None else PREFER_NOT_LABEL
    return out


def questions_document(session: Session, consultation: Consultation) -> list[dict]:
    """The questions with their categories and population shares, for an export's ``consultation.json``."""
    return [
        {
            "text": q.text,
            "template": q.template,
            "special_category": q.special_category,
            "lawful_basis": q.lawful_basis,
            "population_source": q.population_source,
            "population_year": q.population_year,
            "categories": [
                {"value": c.value, "label": c.label, "population_share": c.population_share} for c in q.categories
            ],
        }
        for q in questions(session, consultation)
    ]


def add_imported(
    session: Session,
    consultation: Consultation,
    metadata: Mapping[str, Mapping[int, str]],
    participant_of: Mapping[int, int],
    described: object = None,
) -> list[str]:
    """Keep an import's participant metadata columns as questions and answers (the caller commits).

    A column becomes a question when it has from 1 to :data:`MAX_CATEGORIES` distinct answers shared by people (a
    column with more, or with a different value for each person, such as an identifier or an email address, is left
    out: it is not an answer about a group of people, and keeping it could identify them); at most
    :data:`MAX_QUESTIONS`. ``described`` is ``consultation.json``'s ``participant_questions`` when the export came
    from Participate: the categories' order, values and population shares are taken from it. Returns the columns
    left out.
    """
    known = {d.get("text"): d for d in described if isinstance(d, dict)} if isinstance(described, list) else {}
    left_out = []
    position = 0
    for column, answers in metadata.items():
        text = " ".join(column.split())[:QUESTION_TEXT_MAX_LENGTH]
        text = text[3:] if text.startswith("Q: ") and text[3:] in known else text
        values = list(dict.fromkeys(v for v in answers.values() if v != PREFER_NOT_LABEL))
        detail = known.get(text) or {}
        cats = detail.get("categories")
        given = [c for c in cats if isinstance(c, dict) and c.get("label")] if isinstance(cats, list) else []
        labels = list(dict.fromkeys([str(c["label"]) for c in given] + values))
        too_long = any(len(v) > CATEGORY_LABEL_MAX_LENGTH for v in labels)
        identifies = len(values) >= 3 and len(values) == len(answers)  # a different value for each person
        if not text or not 1 <= len(labels) <= MAX_CATEGORIES or too_long or identifies or position >= MAX_QUESTIONS:
            left_out.append(column)
            continue
        special = bool(detail.get("special_category")) and bool(str(detail.get("lawful_basis") or "").strip())
        share_of = {str(c["label"]): c.get("population_share") for c in given}
        value_of = {str(c["label"]): str(c.get("value") or "")[:CATEGORY_VALUE_MAX_LENGTH] for c in given}
        position += 1
        year = detail.get("population_year")
        question = ParticipantQuestion(
            consultation_id=consultation.id,
            position=position,
            text=text,
            template=detail.get("template") if detail.get("template") in TEMPLATES else None,
            special_category=special,
            lawful_basis=str(detail.get("lawful_basis") or "")[:LAWFUL_BASIS_MAX_LENGTH] if special else "",
            population_source=str(detail.get("population_source") or "")[:POPULATION_SOURCE_MAX_LENGTH],
            population_year=year if isinstance(year, int) and 1900 <= year <= 2100 else None,
        )
        used_values: set[str] = set()
        categories = []
        for i, label in enumerate(labels):
            value = value_of.get(label) or str(i + 1)
            value = value if value not in used_values else str(i + 1)
            used_values.add(value)
            share = share_of.get(label)
            ok = isinstance(share, int | float) and not isinstance(share, bool) and 0 <= share <= 1
            categories.append(
                QuestionCategory(position=i, value=value, label=label, population_share=share if ok else None)
            )
        question.categories = categories
        session.add(question)
        session.flush()
        category_of = {c.label: c.id for c in categories}
        rows = [
            {
                "participant_id": participant_of[pid],
                "question_id": question.id,
                "category_id": None if value == PREFER_NOT_LABEL else category_of[value],
                "answered_at": utcnow(),
            }
            for pid, value in answers.items()
            if pid in participant_of
        ]
        if rows:
            session.execute(insert(ParticipantAnswer), rows)
    return left_out
