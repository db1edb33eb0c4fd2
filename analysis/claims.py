"""The claims check: every figure and claim of a report's brief, recomputed from the raw votes and the floors.

A brief is what gets quoted, so before a report is published its brief is checked against the votes it describes,
independently of the code that wrote it: each listed statement's tallies are recounted (:func:`analysis.evidence.tally`
over the vote triples and the groups' members), each claim is tested against its floor and its definition, and
every percentage in a sentence must be a share the recounted votes give. :func:`check` returns the problems found,
as plain sentences; an empty list means the brief holds up.

The brief is the plain structure of ``participate.services.brief.build`` (lists of dicts); this module reads it and
never imports the application.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from . import evidence

LISTS = ("headline", "common_ground", "rejected", "divisions")
_PERCENT = re.compile(r"(\d+)\s?%")
_QUOTED = re.compile(r"“([^”]*)”")


def _pct(n: int, d: int) -> int:
    return int(100 * n / d + 0.5) if d else 0


def _tally_dict(t) -> dict:
    a, d, p, v = (int(x) for x in t)
    return {"agree": a, "disagree": d, "pass": p, "votes": v}


def check(
    brief: Mapping,
    votes: tuple[Sequence[int], Sequence[int], Sequence[int]],
    groups: Mapping[str, Sequence[int]],
    floors: evidence.Floors,
    *,
    texts: Mapping[int, str],
    participants: int,
) -> list[str]:
    """Recompute the brief from the votes; the problems found (empty when every figure and claim holds).

    Parameters
    ----------
    brief : the brief (``headline``, ``common_ground``, ``rejected``, ``divisions``, ``thin``, ``groups``, ``floor``)
    votes : (participant_ids, statement_ids, values), each shape (n,)
        The current votes the report describes (one per participant and statement; banned participants left out).
    groups : {group label: member participant ids}
    floors : the floors the consultation requires
    texts : {statement id: text} of the statements the report may show
    participants : the report's count of participants (the base of "% of participants")

    Returns
    -------
    list of str
    """
    problems: list[str] = []
    labels = sorted(groups)
    sids = sorted(int(s) for s in texts)
    tallies = evidence.tally(*votes, statements=sids, groups=[groups[g] for g in labels])
    column = {s: i for i, s in enumerate(sids)}
    stated = brief.get("floor") or {}
    if stated.get("voters", 0) < floors.voters or stated.get("group_voters", 0) < floors.group_voters:
        problems.append(f"the brief states floors {stated} below the consultation's {floors.to_dict()}")

    def recount(sid: int):
        c = column.get(sid)
        if c is None:
            return None, None
        return _tally_dict(tallies.everyone[c]), {g: _tally_dict(tallies.groups[i, c]) for i, g in enumerate(labels)}

    listed: dict[int, str] = {}
    for name in LISTS:
        for item in brief.get(name) or ():
            sid = int(item["statement_id"])
            where = f"{name} statement {sid}"
            listed[sid] = name
            everyone, by_group = recount(sid)
            if everyone is None:
                problems.append(f"{where}: not a statement the report may show")
                continue
            if item.get("text") != texts[sid]:
                problems.append(f"{where}: its text is not the statement's")
            if {k: item["everyone"].get(k) for k in everyone} != everyone:
                problems.append(f"{where}: everyone's figures {item['everyone']} are not the votes' {everyone}")
            shown = {t["label"]: t for t in item.get("groups") or ()}
            if set(shown) != set(labels):
                problems.append(f"{where}: groups {sorted(shown)} are not the report's {labels}")
                continue
            for g in labels:
                t, real = shown[g], by_group[g]
                if any(t.get(k) != real[k] for k in ("agree", "disagree", "votes")):
                    problems.append(f"{where}: group {g}'s figures are not the votes' {real}")
            at_floor = [g for g in labels if floors.group(by_group[g]["votes"])]
            everyone_ok = floors.everyone(everyone["votes"])
            if name in ("headline", "common_ground", "rejected") and not everyone_ok:
                problems.append(f"{where}: {everyone['votes']} voted, below the floor of {floors.voters}")
            if name in ("common_ground", "rejected"):
                side = "agree" if name == "common_ground" else "disagree"
                if len(at_floor) < len(labels):
                    problems.append(
                        f"{where}: 'every group' with fewer than {floors.group_voters} voters in "
                        f"{sorted(set(labels) - set(at_floor))}"
                    )
                if not all(2 * by_group[g][side] > by_group[g]["votes"] for g in labels):
                    problems.append(f"{where}: not a majority to {side} in every group")
            if name == "divisions":
                shares = {by_group[g]["agree"] / by_group[g]["votes"] for g in at_floor}
                if len(at_floor) < 2 or len(shares) < 2:
                    problems.append(f"{where}: a division needs two groups at the floor that differ")
            if item.get("robust") and not (everyone_ok and len(at_floor) == len(labels)):
                problems.append(f"{where}: marked robust below a floor")
            allowed = {_pct(everyone["votes"], participants)}
            allowed |= {_pct(everyone[k], everyone["votes"]) for k in ("agree", "disagree", "pass")}
            for g in at_floor:
                allowed |= {_pct(by_group[g][k], by_group[g]["votes"]) for k in ("agree", "disagree", "pass")}
            for p in _PERCENT.findall(item.get("sentence", "")):
                if int(p) not in allowed:
                    problems.append(f"{where}: {p}% in its sentence is no share of the votes at the floors")
    for item in brief.get("thin") or ():
        sid = int(item["statement_id"])
        everyone, _ = recount(sid)
        if everyone is None or {k: item["everyone"].get(k) for k in everyone} != everyone:
            problems.append(f"thin statement {sid}: figures {item['everyone']} are not the votes' {everyone}")
        if sid in listed:
            problems.append(f"statement {sid} is both seen by too few to say and in the {listed[sid]}")
    by_text = {text.strip().rstrip("."): sid for sid, text in texts.items()}
    for summary in brief.get("groups") or ():
        g = summary.get("label")
        for quoted in _QUOTED.findall(summary.get("summary", "")):
            sid = by_text.get(quoted)
            if sid is None or g not in groups:
                continue
            _, by_group = recount(sid)
            if not floors.group(by_group[g]["votes"]):
                problems.append(
                    f"group {g}'s sentence quotes statement {sid}, voted on by {by_group[g]['votes']} of its members"
                )
    return problems
