"""The answer first: the brief's lead sentence, its group names, its context and its one-paragraph method.

Every sentence is a translated template filled with the report's figures (no prose is generated elsewhere); every
statement a sentence or a name cites is at the evidence floors (:func:`at_floors`): enough people voted on it, in
every group it speaks of. :func:`names` gives each opinion group the name its facilitators confirmed, else a short
name taken from its most distinctive statement at the floors, marked as generated.
"""

from __future__ import annotations

import re

from flask_babel import format_decimal, gettext, ngettext

from analysis import evidence

from ..i18n import long_date

NAME_LENGTH = 40  # characters of a statement kept in a generated group name
SMALL_GROUP = 0.1  # a group with less than this share of the people in groups is named under "treat with caution"


def _n(value: int) -> str:
    return format_decimal(value)


def _pct(n: int, d: int) -> int:
    return int(100 * n / d + 0.5) if d else 0


def floor_of(report: dict) -> evidence.Floors:
    """The report's evidence floors (the defaults for a report made before floors existed)."""
    return evidence.Floors.from_dict(report.get("floor"))


def at_floors(row: dict, floor: evidence.Floors, groups: list[int] | None = None) -> bool:
    """Whether a statement of the report may carry a claim: enough people voted on it overall and in each group
    (``groups``: the indexes of the groups the claim speaks of; all of them by default)."""
    tallies = row.get("groups") or []
    chosen = range(len(tallies)) if groups is None else groups
    return floor.everyone(row["overall"]["votes"]) and all(floor.group(tallies[i]["votes"]) for i in chosen)


def _claimable(report: dict) -> list[dict]:
    """The statements a brief may cite: neither meta nor about the participants themselves."""
    about = set(report.get("about_participants") or ())
    return [r for r in report["statements"] if not r["is_meta"] and r["id"] not in about]


def _quote(text: str) -> str:
    return "“" + text.strip().rstrip(".") + "”"


def _short(text: str) -> str:
    """The statement's first clause, at most :data:`NAME_LENGTH` characters, cut at a word."""
    first = re.split(r"(?<=[.!?;:])\s", text.strip(), maxsplit=1)[0].rstrip(".!?;:, ")
    if len(first) <= NAME_LENGTH:
        return first
    cut = first[: NAME_LENGTH + 1].rsplit(" ", 1)[0] if " " in first[:NAME_LENGTH] else first[:NAME_LENGTH]
    return cut.rstrip(",;: ") + "…"


def _generated_name(group: dict, index: dict[int, dict], floor: evidence.Floors) -> str | None:
    """A group's name from its most distinctive statement at the floors on which most of its voters took its side:
    the statement's first words, or "against: …"; None when it has none."""
    for rep in group.get("repness", []):
        row = index.get(rep["statement_id"])
        inside = rep["inside"]
        if row is None or not at_floors(row, floor) or 2 * inside[rep["side"]] <= inside["votes"]:
            continue
        text = _short(row["text"])
        return text if rep["side"] == "agree" else gettext("against: %(statement)s", statement=text)
    return None


def names(report: dict) -> dict[str, dict]:
    """{label: {"name", "name_confirmed"}}: the facilitators' name when they gave or confirmed one, else a name
    generated from the group's most distinctive statement at the floors (None when it has none)."""
    confirmed = report.get("group_names") or {}
    index = {r["id"]: r for r in _claimable(report)}
    floor = floor_of(report)
    out = {}
    for g in report["groups"]:
        if confirmed.get(g["label"]):
            out[g["label"]] = {"name": confirmed[g["label"]], "name_confirmed": True}
        else:
            out[g["label"]] = {"name": _generated_name(g, index, floor), "name_confirmed": False}
    return out


def group_title(label: str, name: str | None) -> str:
    """ "group A (“…”)", or "group A" for a group without a name."""
    if name:
        return gettext("group %(label)s (“%(name)s”)", label=label, name=name)
    return gettext("group %(label)s", label=label)


def division(report: dict) -> tuple[dict, int, int] | None:
    """The conversation's main division: ``(statement row, index of the most agreeing group, of the least)``.

    The statement at the floors (in every group) whose agreement differs most between two groups, the earliest
    on a tie; None when the report has no groups yet or no statement at the floors divides them.
    """
    if not report.get("ready") or len(report["groups"]) < 2:
        return None
    floor = floor_of(report)
    best = None
    for row in _claimable(report):
        if row.get("divisiveness") is None or not at_floors(row, floor):
            continue
        shares = [t["agree"] / t["votes"] for t in row["groups"]]
        high = max(range(len(shares)), key=lambda i: (shares[i], -i))
        low = min(range(len(shares)), key=lambda i: (shares[i], i))
        key = (shares[high] - shares[low], -row["id"])
        if key[0] > 0 and (best is None or key > best[0]):
            best = (key, row, high, low)
    return best[1:] if best else None


def lead(report: dict, named: dict[str, dict]) -> str | None:
    """The main division (:func:`division`) in one sentence, with both groups' counts; None without one."""
    found = division(report)
    if found is None:
        return None
    row, high, low = found
    h, lo_t = row["groups"][high], row["groups"][low]
    return gettext(
        "The groups divide most on %(statement)s: in %(high)s, %(h_agree)s of the %(h_votes)s who voted on it "
        "agreed (%(h_pct)d%%); in %(low)s, %(l_agree)s of %(l_votes)s (%(l_pct)d%%).",
        statement=_quote(row["text"]),
        high=group_title(h["label"], named.get(h["label"], {}).get("name")),
        h_agree=_n(h["agree"]),
        h_votes=_n(h["votes"]),
        h_pct=_pct(h["agree"], h["votes"]),
        low=group_title(lo_t["label"], named.get(lo_t["label"], {}).get("name")),
        l_agree=_n(lo_t["agree"]),
        l_votes=_n(lo_t["votes"]),
        l_pct=_pct(lo_t["agree"], lo_t["votes"]),
    )


def context(report: dict) -> dict:
    """What a minister needs to know of the consultation: who ran it, when, how people came, how many took part
    and were grouped, how many statements were submitted and removed."""
    c, n = report["consultation"], report["counts"]
    moderation = report.get("moderation") or {}
    grouped = n.get("grouped", 0) if report.get("ready") else 0
    return {
        "organiser": c.get("organiser") or None,
        "first_vote": c.get("first_vote"),
        "last_vote": c.get("last_vote"),
        "recruitment": c.get("recruitment") or None,
        "participants": n["participants"],
        "grouped": grouped,
        "ungrouped": max(n["participants"] - grouped, 0),
        "statements_submitted": moderation.get("submitted", n["statements"]),
        "statements_removed": moderation.get("removed", 0),
    }


def context_sentences(report: dict, ctx: dict) -> list[str]:
    """The context as sentences: who and when, how many, and the statements."""
    out = []
    first, last = long_date(ctx["first_vote"]), long_date(ctx["last_vote"])
    people = ngettext("%(count)s person", "%(count)s people", ctx["participants"], count=_n(ctx["participants"]))
    if ctx["organiser"] and first and last:
        out.append(
            gettext(
                "Run by %(organiser)s; %(people)s voted between %(first)s and %(last)s.",
                organiser=ctx["organiser"],
                people=people,
                first=first,
                last=last,
            )
        )
    elif first and last:
        out.append(gettext("%(people)s voted between %(first)s and %(last)s.", people=people, first=first, last=last))
    elif ctx["organiser"]:
        out.append(gettext("Run by %(organiser)s; %(people)s voted.", organiser=ctx["organiser"], people=people))
    else:
        out.append(gettext("%(people)s voted.", people=people))
    if report.get("ready"):
        out.append(
            ngettext(
                "%(grouped)s of them were placed in an opinion group and %(count)s in none.",
                "%(grouped)s of them were placed in opinion groups and %(count)s in none.",
                len(report["groups"]),
                grouped=_n(ctx["grouped"]),
                count=_n(ctx["ungrouped"]),
            )
        )
    submitted = ngettext(
        "%(count)s statement was submitted",
        "%(count)s statements were submitted",
        ctx["statements_submitted"],
        count=_n(ctx["statements_submitted"]),
    )
    out.append(
        ngettext(
            "%(submitted)s; moderators removed %(count)s.",
            "%(submitted)s; moderators removed %(count)s.",
            ctx["statements_removed"],
            submitted=submitted,
            count=_n(ctx["statements_removed"]),
        )
    )
    return out


def method(report: dict) -> str:
    """The method in one plain paragraph (its details are in the annex)."""
    floor = floor_of(report)
    return gettext(
        "People voted agree, disagree or pass on short statements, and could add their own. People who voted alike "
        "were put in opinion groups by a computer, following the method of Pol.is. A finding about everyone rests on "
        "at least %(voters)d people who voted on the statement, and a finding about a group on at least "
        "%(group_voters)d of its members; statements seen by fewer are listed apart. The annex, after the brief, "
        "gives the details and every figure.",
        voters=floor.voters,
        group_voters=floor.group_voters,
    )


def caution(report: dict, ctx: dict) -> list[str]:
    """What to treat with caution: statements seen by too few, small groups, people in no group."""
    out = []
    thin = report.get("thin") or []
    if thin:
        out.append(
            ngettext(
                "%(count)s statement was seen by too few people to say anything about it.",
                "%(count)s statements were seen by too few people to say anything about them.",
                len(thin),
                count=_n(len(thin)),
            )
        )
    if report.get("ready"):
        grouped = ctx["grouped"]
        for g in report["groups"]:
            if grouped and g["size"] < SMALL_GROUP * grouped:
                out.append(
                    ngettext(
                        "Group %(label)s is small (%(count)s person): its figures move a lot with one person.",
                        "Group %(label)s is small (%(count)s people): its figures move a lot with a few people.",
                        g["size"],
                        label=g["label"],
                        count=_n(g["size"]),
                    )
                )
        if ctx["ungrouped"]:
            out.append(
                ngettext(
                    "%(count)s person voted too little to be placed in a group: the groups do not speak for them.",
                    "%(count)s people voted too little to be placed in a group: the groups do not speak for them.",
                    ctx["ungrouped"],
                    count=_n(ctx["ungrouped"]),
                )
            )
    return out
