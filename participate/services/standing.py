"""Where a participant stands, in words: their opinion group as the report shows it, and their own statements.

Everything about groups comes from the report (:func:`report.build`): the same snapshot (the newest checked one),
the same threshold for showing groups at all, the same labels. A group the report does not show is never shown
here. Nothing is built for it: the report is read from the shared cache (the analysis runner builds it after each
snapshot) and the participant's group from the snapshot's members table, so an anonymous request does no heavy
work; while the report is being rebuilt, it says so. The texts are in the request's language: the My votes page
and ``mine.json`` carry them as they are.
"""

from flask_babel import gettext, ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    Consultation,
    CurrentVote,
    ModerationAction,
    ModerationLogEntry,
    ModerationMode,
    ModerationState,
    Participant,
    Statement,
    aware,
)
from . import brief, brief_answer, moderation, report
from .participation.votes import WORD_OF_VOTE
from .participation.votes import my_votes as votes_of
from .snapshots import store

TOP = 3  # statements listed under "where you differ from your group" and "where you agree with another group"
STATUS = {
    ModerationState.PENDING: "waiting",
    ModerationState.ACCEPTED: "accepted",
    ModerationState.REJECTED: "rejected",
}


def _missing(built: dict, my_votes: int, is_open: bool) -> str:
    """What stands between the participant and a group, in the analysis's own thresholds."""
    min_votes, min_people = built["thresholds"]["min_votes"], built["thresholds"]["min_people"]
    if not is_open:  # nothing more can be done: say why there is no group, not what to do
        if built["ready"] and my_votes < min_votes:
            return ngettext(
                "You voted on fewer than %(num)d statement, so you were not placed in an opinion group.",
                "You voted on fewer than %(num)d statements, so you were not placed in an opinion group.",
                min_votes,
            )
        if not built["ready"]:
            return gettext("Too few people voted for opinion groups to be shown.")
    parts = []
    if my_votes < min_votes:
        more = min_votes - my_votes
        parts.append(
            ngettext(
                "Vote on %(num)d more statement to be placed in an opinion group.",
                "Vote on %(num)d more statements to be placed in an opinion group.",
                more,
            )
        )
    if built["counts"]["qualified"] < min_people:
        parts.append(
            ngettext(
                "Opinion groups appear once %(num)d person has voted on %(votes)d statements (so far: %(now)d).",
                "Opinion groups appear once %(num)d people have voted on %(votes)d statements each (so far: %(now)d).",
                min_people,
                votes=min_votes,
                now=built["counts"]["qualified"],
            )
        )
    if not parts:
        parts.append(gettext("Your latest votes are not in the analysis yet: look again in a few minutes."))
    return " ".join(parts)


def where_i_stand(
    session: Session, consultation: Consultation, participant: Participant | None, built: dict | None
) -> dict:
    """The participant's group as the report shows it, or what is missing before they have one (the JSON contract).

    ``built``: :func:`report.cached` of the consultation, which the caller has read (None while it is rebuilt)."""
    mine = {statement.id: value for statement, value in votes_of(session, participant)}
    stand = {
        "group": None,
        "name": None,
        "group_size": None,
        "summary": None,
        "differ_from_group": [],
        "agree_with_others": [],
        "missing": None,
    }
    if built is None:  # being rebuilt (the caller asks for it): nothing about groups meanwhile
        return {**stand, "missing": gettext("Your opinion group is being worked out: look again in a minute.")}
    gid = None
    if built["ready"] and participant is not None:
        gid = store.group_id_of(session, built["analysis"]["snapshot_id"], participant.id)
    position = next((i for i, g in enumerate(built["groups"]) if g["id"] == gid), None)
    if position is None:
        return {**stand, "missing": _missing(built, len(mine), consultation.is_open)}
    group = built["groups"][position]
    # The brief's words, with the brief's names (the facilitators', else generated), so both pages say the same.
    named = brief_answer.names(built)
    groups = [{**g, "name": named[g["label"]]["name"]} for g in built["groups"]]
    summary = next(g for g in brief.group_summaries({**built, "groups": groups}) if g["label"] == group["label"])
    stand.update(group=summary["label"], name=summary["name"], group_size=summary["size"], summary=summary["summary"])
    differ, others = [], []
    rows = report.statement_index(built)
    for row in (rows[sid] for sid in sorted(mine) if sid in rows):  # only the statements this participant voted on
        value = mine.get(row["id"])
        if not value or row["is_meta"]:  # a pass takes no side; meta statements are not opinions
            continue
        side, opposite = ("agree", "disagree") if value > 0 else ("disagree", "agree")
        own = row["groups"][position]
        if own["votes"] and own[opposite] * 2 > own["votes"]:
            differ.append({"id": row["id"], "text": row["text"], "vote": side, "share": own[opposite] / own["votes"]})
        own_share = own[side] / own["votes"] if own["votes"] else 0.0
        best = max(
            ((t[side] / t["votes"], t["label"]) for i, t in enumerate(row["groups"]) if i != position and t["votes"]),
            default=None,
        )
        if best and best[0] > 0.5 and best[0] > own_share:
            others.append(
                {
                    "id": row["id"],
                    "text": row["text"],
                    "vote": side,
                    "group": best[1],
                    "share": best[0],
                    "own_share": own_share,
                }
            )
    differ.sort(key=lambda d: (-d["share"], d["id"]))
    others.sort(key=lambda d: (-(d["share"] - d["own_share"]), d["id"]))
    stand["differ_from_group"] = differ[:TOP]
    stand["agree_with_others"] = others[:TOP]
    return stand


def my_statements(session: Session, consultation: Consultation, participant: Participant | None) -> list[dict]:
    """The statements the participant wrote: status, the moderator's reason for a rejection, when it was decided,
    and the votes on it once others can see it (the JSON contract). For its author only: reasons are private.
    """
    if participant is None:
        return []
    written = session.scalars(
        select(Statement).where(Statement.author_id == participant.id).order_by(Statement.id)
    ).all()
    if not written:
        return []
    ids = [s.id for s in written]
    decisions: dict[int, ModerationLogEntry] = {}
    for entry in session.scalars(
        select(ModerationLogEntry)
        .where(
            ModerationLogEntry.statement_id.in_(ids),
            ModerationLogEntry.action.in_((ModerationAction.ACCEPT, ModerationAction.REJECT)),
        )
        .order_by(ModerationLogEntry.id)
    ):
        decisions[entry.statement_id] = entry  # the latest decision wins
    tallies: dict[int, dict[str, int]] = {}
    for sid, value, n in session.execute(
        select(CurrentVote.statement_id, CurrentVote.value, func.count())
        .where(CurrentVote.statement_id.in_(ids))
        .group_by(CurrentVote.statement_id, CurrentVote.value)
    ):
        tallies.setdefault(sid, {"agree": 0, "disagree": 0, "pass": 0})[WORD_OF_VOTE[value]] = n
    # Others see (and vote on) accepted statements, and under post-moderation those not yet reviewed.
    shown = {ModerationState.ACCEPTED}
    if consultation.moderation == ModerationMode.POST:
        shown.add(ModerationState.PENDING)
    rows = []
    for statement in written:
        decision = decisions.get(statement.id)
        rejected = statement.moderation == ModerationState.REJECTED
        counts = {}
        if statement.moderation in shown:
            counts = tallies.get(statement.id, {"agree": 0, "disagree": 0, "pass": 0})
        rows.append(
            {
                "id": statement.id,
                "text": statement.text,
                "status": STATUS[statement.moderation],
                "reason": moderation.translated_reason(decision.reason) if rejected and decision else None,
                "decided_at": aware(decision.created_at).isoformat() if decision else None,
                "agree": counts.get("agree"),
                "disagree": counts.get("disagree"),
                "pass": counts.get("pass"),
            }
        )
    return rows
