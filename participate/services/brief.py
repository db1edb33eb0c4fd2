"""The report's brief: what a minister reads in five minutes, every sentence generated from the report's numbers.

:func:`build` turns a built report (:func:`participate.services.report.build`, or a published one) into sentences
in the interface language, through the translation catalogue: no sentence is written by anything but a template
filled with figures. Statements come only from the report's own list, which is already filtered by moderation.
:func:`group_summaries` gives each opinion group's sentence on its own (the participant's "My votes" page uses it).
"""

from __future__ import annotations

from flask_babel import format_decimal, gettext, ngettext

from ..i18n import long_date
from . import brief_answer

HEADLINE = 5  # statements in the headline
COMMON = 5  # statements listed as common ground, and as rejected by all
DIVISIONS = 3  # statements listed where the groups divide
SMALL_SAMPLE = 100  # fewer participants than this gets a plain warning
ROBUST_IN = 95  # a robust claim holds in at least this many of every 100 resamples (the 90% interval's lower end)


def _n(value: int) -> str:
    """A count with the language's thousands separator."""
    return format_decimal(value)


def _pct(n: int, d: int) -> int:
    """A share as a whole percentage, rounded half up (as the report's tables round it)."""
    return int(100 * n / d + 0.5) if d else 0


def _quote(text: str) -> str:
    return "“" + text.strip().rstrip(".") + "”"


def _number_word(k: int) -> str:
    words = {2: gettext("two"), 3: gettext("three"), 4: gettext("four"), 5: gettext("five")}
    return words.get(k, _n(k))


def _group_name(group: dict) -> str:
    """ "Group A", or "Group A (“Cautious adopters”)" when the facilitators named it."""
    if group.get("name"):
        return gettext("Group %(label)s (“%(name)s”)", label=group["label"], name=group["name"])
    return gettext("Group %(label)s", label=group["label"])


def _figures(row: dict, groups: list[dict]) -> dict:
    """A statement's figures: everyone's tally and each group's, with the group's label and name."""
    return {
        "statement_id": row["id"],
        "text": row["text"],
        "everyone": dict(row["overall"]),
        "groups": [
            {
                "label": t["label"],
                "name": g.get("name"),
                "agree": t["agree"],
                "disagree": t["disagree"],
                "votes": t["votes"],
            }
            for t, g in zip(row["groups"], groups, strict=True)
        ],
        "robust": row["robust"],
    }


def _agree_range(item: dict, side: str = "agree") -> tuple[int, int]:
    shares = [_pct(t[side], t["votes"]) for t in item["groups"] if t["votes"]]
    return (min(shares), max(shares)) if shares else (0, 0)


def _headline_ids(report: dict) -> list[int]:
    """The analysis's headline list when it has one; else the common ground, topped up with the most agreed."""
    if report.get("headline") is not None:
        return list(report["headline"][:HEADLINE])
    ids = list(report["common_ground"][:3])
    for m in report["majority"]["agree"]:
        if len(ids) >= 3:
            break
        if m["statement_id"] not in ids:
            ids.append(m["statement_id"])
    return ids


def _common_ids(report: dict) -> list[int]:
    """Common ground (a majority of every group agrees), most bridging first when the analysis scores bridging."""
    ids = list(report["common_ground"])
    if report.get("bridging") is not None:
        index = {r["id"]: r for r in report["statements"]}
        ids.sort(key=lambda sid: (-(index[sid].get("bridging") or 0.0), sid))
    return ids[:COMMON]


def _group_summary(group: dict, index: dict[int, dict]) -> str:
    """One or two sentences from the group's representative statements (its repness, most representative first)."""
    name = _group_name(group)
    share = _pct(group["size"], group["grouped"])
    who = ngettext(
        "%(group)s, %(share)d%% of the people in groups (%(count)s person),",
        "%(group)s, %(share)d%% of the people in groups (%(count)s people),",
        group["size"],
        group=name,
        share=share,
        count=_n(group["size"]),
    )
    agreed = [
        r for r in group.get("repness", []) if r["side"] == "agree" and 2 * r["inside"]["agree"] > r["inside"]["votes"]
    ]
    rejected = [
        r
        for r in group.get("repness", [])
        if r["side"] == "disagree" and 2 * r["inside"]["disagree"] > r["inside"]["votes"]
    ]
    a = agreed[0] if agreed else None
    d = rejected[0] if rejected else None

    def figures(rep, side):
        return {
            "inside": _pct(rep["inside"][side], rep["inside"]["votes"]),
            "outside": _pct(rep["outside"][side], rep["outside"]["votes"]),
            "text": _quote(index[rep["statement_id"]]["text"]),
        }

    if a and d:
        fa, fd = figures(a, "agree"), figures(d, "disagree")
        first = gettext(
            "%(who)s mostly agreed that %(a)s (%(a_in)d%%, against %(a_out)d%% in the other groups) and, unlike "
            "the others, disagreed that %(d)s (%(d_in)d%% disagreed, against %(d_out)d%%).",
            who=who,
            a=fa["text"],
            a_in=fa["inside"],
            a_out=fa["outside"],
            d=fd["text"],
            d_in=fd["inside"],
            d_out=fd["outside"],
        )
    elif a:
        fa = figures(a, "agree")
        first = gettext(
            "%(who)s agreed, more than the others, that %(a)s (%(a_in)d%%, against %(a_out)d%% in the other groups).",
            who=who,
            a=fa["text"],
            a_in=fa["inside"],
            a_out=fa["outside"],
        )
    elif d:
        fd = figures(d, "disagree")
        first = gettext(
            "%(who)s, unlike the others, disagreed that %(d)s (%(d_in)d%% disagreed, against %(d_out)d%% in the "
            "other groups).",
            who=who,
            d=fd["text"],
            d_in=fd["inside"],
            d_out=fd["outside"],
        )
    else:
        return gettext("%(who)s has no statement on which it clearly differs from the others.", who=who)
    if len(agreed) > 1:
        fm = figures(agreed[1], "agree")
        first += " " + gettext("They also agreed that %(a)s (%(a_in)d%%).", a=fm["text"], a_in=fm["inside"])
    return first


def group_summaries(report: dict) -> list[dict]:
    """Each opinion group as ``{"label", "name", "size", "summary"}``, in the report's order; empty when not ready."""
    if not report.get("ready"):
        return []
    index = {r["id"]: r for r in report["statements"]}
    grouped = report["counts"]["grouped"]
    return [
        {
            "label": g["label"],
            "name": g.get("name"),
            "size": g["size"],
            "summary": _group_summary({**g, "grouped": grouped}, index),
        }
        for g in report["groups"]
    ]


def _date(iso: str | None) -> str | None:
    return long_date(iso) or None


def _asked(report: dict) -> str:
    """Who took part, when, and how much they voted."""
    c, n = report["consultation"], report["counts"]
    figures = {
        "people": ngettext("%(count)s person", "%(count)s people", n["participants"], count=_n(n["participants"])),
        "votes": ngettext("%(count)s vote", "%(count)s votes", n["votes"], count=_n(n["votes"])),
        "statements": ngettext(
            "%(count)s statement", "%(count)s statements", n["statements"], count=_n(n["statements"])
        ),
    }
    opened, closed = _date(c.get("opened_at")), _date(c.get("closed_at"))
    if opened and closed:
        return gettext(
            "%(people)s took part between %(opened)s and %(closed)s, casting %(votes)s on %(statements)s.",
            opened=opened,
            closed=closed,
            **figures,
        )
    if opened:
        return gettext(
            "%(people)s have taken part since %(opened)s, casting %(votes)s on %(statements)s.",
            opened=opened,
            **figures,
        )
    return gettext("%(people)s took part, casting %(votes)s on %(statements)s.", **figures)


def _caveats(report: dict) -> list[str]:
    c, n = report["consultation"], report["counts"]
    out = []
    if c.get("is_simulated"):
        out.append(gettext("Simulated data: every vote was generated by a program; it says nothing about anyone."))
    if c.get("recruitment"):
        out.append(
            gettext(
                "How people were recruited, in the facilitators' words: %(how)s. The figures describe these people "
                "only.",
                how=c["recruitment"].strip().rstrip("."),
            )
        )
    else:
        out.append(
            gettext(
                "People chose to take part: they are not a representative sample of the population, and the figures "
                "describe them only."
            )
        )
    if n["participants"] < SMALL_SAMPLE:
        smallest = min((g["size"] for g in report["groups"]), default=0)
        if report.get("ready") and smallest:
            out.append(
                gettext(
                    "This is a small sample (%(n)s people): one person more or less moves the smallest group's "
                    "figures by up to %(step)d percentage points. Read the percentages as indications.",
                    n=_n(n["participants"]),
                    step=_pct(1, smallest),
                )
            )
        else:
            out.append(
                gettext(
                    "This is a small sample (%(n)s people): read the percentages as indications, not measurements.",
                    n=_n(n["participants"]),
                )
            )
    if not report.get("ready"):
        t = report["thresholds"]
        out.append(
            gettext(
                "Opinion groups are not shown yet: they need %(people)d people who each voted on %(votes)d "
                "statements (%(now)s so far).",
                people=t["min_people"],
                votes=t["min_votes"],
                now=_n(n["qualified"]),
            )
        )
    a = report.get("analysis") or {}
    if a.get("newer_votes"):
        out.append(
            ngettext(
                "%(count)s vote cast after this analysis is not included yet.",
                "%(count)s votes cast after this analysis are not included yet.",
                a["newer_votes"],
                count=_n(a["newer_votes"]),
            )
        )
    return out


def _certainty(report: dict, common: list[dict]) -> list[str]:
    a = report.get("analysis") or {}
    out = []
    if not report.get("ready"):
        return out
    if a.get("k_tied") and a.get("k_scores"):
        ks = sorted(a["k_scores"].items(), key=lambda kv: (-kv[1], int(kv[0])))[:2]
        low, high = sorted(int(k) for k, _ in ks)
        out.append(
            gettext(
                "The votes fit %(a)s and %(b)s groups almost equally well: read the groups as one useful way "
                "to divide opinion, not the only one.",
                a=_number_word(low),
                b=_number_word(high),
            )
        )
    if a.get("robustness"):
        r = a["robustness"]
        checked = [item for item in common if item["robust"] is not None]
        held = sum(1 for item in checked if item["robust"])
        if checked:
            out.append(
                ngettext(
                    "%(held)d of these %(count)d common-ground statements holds in at least %(at_least)d of every 100 "
                    "re-draws of the participants (%(r)s re-draws) and however many groups people are split into.",
                    "%(held)d of these %(count)d common-ground statements hold in at least %(at_least)d of every 100 "
                    "re-draws of the participants (%(r)s re-draws) and however many groups people are split into.",
                    len(checked),
                    held=held,
                    count=len(checked),
                    r=_n(r.get("n_resamples", 0)),
                    at_least=ROBUST_IN,
                )
            )
        reps = [rep for g in report["groups"] for rep in g.get("repness", []) if rep["robust"] is not None]
        if reps:
            out.append(
                ngettext(
                    "%(held)d of the %(count)d differences that set a group apart holds up the same way.",
                    "%(held)d of the %(count)d differences that set the groups apart hold up the same way.",
                    len(reps),
                    held=sum(1 for rep in reps if rep["robust"]),
                    count=len(reps),
                )
            )
    else:
        out.append(gettext("The check of how far these findings hold up has not run yet for this analysis."))
    return out


def build(report: dict) -> dict:
    """The brief of a built report, in the interface language.

    Returns ``{"lead", "context", "context_sentences", "method", "caution", "asked", "headline", "common_ground",
    "rejected", "divisions", "groups", "certainty", "caveats"}``: ``lead`` the main division in a sentence (or
    None), ``context`` the facts of :func:`.brief_answer.context` and ``context_sentences`` them in words,
    ``method`` a paragraph, ``caution`` sentences; ``asked`` a sentence; ``headline``, ``common_ground``,
    ``rejected`` and ``divisions`` lists of statements with their figures (everyone's and each group's tally) and
    a ``sentence``; ``groups`` as :func:`group_summaries`
    (with ``share``, and ``name``/``name_confirmed`` from :func:`.brief_answer.names`); ``certainty`` and
    ``caveats`` lists of sentences.
    """
    index = {r["id"]: r for r in report["statements"]}
    named = brief_answer.names(report)
    groups = report["groups"]
    context = brief_answer.context(report)
    brief: dict = {
        "lead": brief_answer.lead(report, named),
        "context": context,
        "context_sentences": brief_answer.context_sentences(report, context),
        "method": brief_answer.method(report),
        "caution": brief_answer.caution(report, context),
        "asked": _asked(report),
        "headline": [],
        "common_ground": [],
        "rejected": [],
        "divisions": [],
        "groups": [],
        "certainty": [],
        "caveats": _caveats(report),
    }
    if not report.get("ready"):
        return brief
    for sid in _headline_ids(report):
        if sid not in index:
            continue
        item = _figures(index[sid], groups)
        lo, hi = _agree_range(item)
        everyone = item["everyone"]
        everyone_pct = _pct(everyone["agree"], everyone["votes"])
        if lo == hi:
            item["sentence"] = gettext(
                "%(all)d%% of everyone agreed; %(lo)d%% in every group.", all=everyone_pct, lo=lo
            )
        else:
            item["sentence"] = gettext(
                "%(all)d%% of everyone agreed; in each group between %(lo)d%% and %(hi)d%%.",
                all=everyone_pct,
                lo=lo,
                hi=hi,
            )
        brief["headline"].append(item)
    for sid in _common_ids(report):
        item = _figures(index[sid], groups)
        lo, hi = _agree_range(item)
        if lo == hi:
            item["sentence"] = gettext("Every group agreed: %(lo)d%% in each.", lo=lo)
        else:
            item["sentence"] = gettext("Every group agreed: between %(lo)d%% and %(hi)d%%.", lo=lo, hi=hi)
        brief["common_ground"].append(item)
    for sid in report["common_rejection"][:COMMON]:
        item = _figures(index[sid], groups)
        lo, hi = _agree_range(item, "disagree")
        if lo == hi:
            item["sentence"] = gettext("Every group disagreed: %(lo)d%% in each.", lo=lo)
        else:
            item["sentence"] = gettext("Every group disagreed: between %(lo)d%% and %(hi)d%%.", lo=lo, hi=hi)
        brief["rejected"].append(item)
    for sid in report["divisive"][:DIVISIONS]:
        item = _figures(index[sid], groups)
        voted = [t for t in item["groups"] if t["votes"]]
        high = max(voted, key=lambda t: (t["agree"] / t["votes"], t["label"]))
        low = min(voted, key=lambda t: (t["agree"] / t["votes"], t["label"]))
        item["sentence"] = gettext(
            "%(high)s: %(hi)d%% agreed; %(low)s: %(lo)d%% agreed.",
            high=_group_name(high),
            hi=_pct(high["agree"], high["votes"]),
            low=_group_name(low),
            lo=_pct(low["agree"], low["votes"]),
        )
        brief["divisions"].append(item)
    grouped = report["counts"]["grouped"]
    brief["groups"] = [
        {**summary, "share": _pct(summary["size"], grouped), **named[summary["label"]]}
        for summary in group_summaries({**report, "groups": [{**g, "name": named[g["label"]]["name"]} for g in groups]})
    ]
    brief["certainty"] = _certainty(report, brief["common_ground"])
    return brief
