"""The report's brief: what a minister reads in five minutes, every sentence generated from the report's numbers.

:func:`build` turns a built report (:func:`participate.services.report.build`, or a published one) into sentences
in the interface language, through the translation catalogue: no sentence is written by anything but a template
filled with figures. Statements come only from the report's own list, which is already filtered by moderation.
:func:`group_summaries` gives each opinion group's sentence on its own (the participant's "My votes" page uses it).
"""

from __future__ import annotations

from flask_babel import format_decimal, gettext, ngettext

from analysis import evidence

from ..i18n import long_date
from . import brief_answer, population_brief

HEADLINE = 5  # statements in the headline
COMMON = 5  # statements listed as common ground, and as rejected by all
DIVISIONS = 3  # statements listed where the groups divide
SMALL_SAMPLE = 100  # fewer participants than this gets a plain warning
ROBUST_IN = 95  # a robust claim holds in at least this many of every 100 resamples (the 90% interval's lower end)
THIN = 5  # statements listed as "seen by too few to say"


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


def floors(report: dict) -> evidence.Floors:
    """The report's evidence floors (the defaults for a report published before floors existed)."""
    return evidence.Floors.from_dict(report.get("floor"))


def _figures(row: dict, groups: list[dict], floor: evidence.Floors) -> dict:
    """A statement's figures: everyone's tally and each group's, with the group's label and name.

    ``robust`` is never true below a floor: a resample of one vote always agrees with itself.
    """
    tallies = [
        {
            "label": t["label"],
            "name": g.get("name"),
            "agree": t["agree"],
            "disagree": t["disagree"],
            "pass": t["votes"] - t["agree"] - t["disagree"],
            "votes": t["votes"],
            "at_floor": floor.group(t["votes"]),
        }
        for t, g in zip(row["groups"], groups, strict=True)
    ]
    at_floor = floor.everyone(row["overall"]["votes"]) and all(t["at_floor"] for t in tallies)
    return {
        "statement_id": row["id"],
        "text": row["text"],
        "everyone": dict(row["overall"]),
        "groups": tallies,
        "robust": row["robust"] and at_floor if row["robust"] is not None else None,
        "weighted": row.get("weighted"),
    }


def _of(n: int, d: int) -> str:
    """ "34 of 35": the people a share is of."""
    return gettext("%(n)s of %(d)s", n=_n(n), d=_n(d))


def _everyone(item: dict, participants: int, side: str = "agree") -> str:
    """ "97% of everyone agreed: 34 of the 35 who voted (8% of participants)"."""
    e = item["everyone"]
    args = {
        "all": _pct(e[side], e["votes"]),
        "n": _n(e[side]),
        "votes": _n(e["votes"]),
        "seen": _pct(e["votes"], participants),
    }
    if side == "agree":
        return gettext(
            "%(all)d%% of everyone agreed: %(n)s of the %(votes)s who voted (%(seen)d%% of participants).", **args
        )
    return gettext(
        "%(all)d%% of everyone disagreed: %(n)s of the %(votes)s who voted (%(seen)d%% of participants).", **args
    )


def _range(tallies: list[dict], side: str = "agree") -> str:
    """Each group's share with its people: "in each group between 80% (12 of 15) and 95% (19 of 20)"."""
    shares = sorted(tallies, key=lambda t: (t[side] / t["votes"], t["votes"]))
    lo, hi = shares[0], shares[-1]
    if _pct(lo[side], lo["votes"]) == _pct(hi[side], hi["votes"]):
        return gettext(
            "%(p)d%% in every group (%(each)s).",
            p=_pct(lo[side], lo["votes"]),
            each=", ".join(_group_share(t, side) for t in tallies),
        )
    return gettext(
        "In each group between %(lo)d%% (%(lo_of)s) and %(hi)d%% (%(hi_of)s).",
        lo=_pct(lo[side], lo["votes"]),
        lo_of=_of(lo[side], lo["votes"]),
        hi=_pct(hi[side], hi["votes"]),
        hi_of=_of(hi[side], hi["votes"]),
    )


def _group_share(t: dict, side: str) -> str:
    return gettext("%(group)s: %(of)s", group=_group_name(t), of=_of(t[side], t["votes"]))


def _too_few(tallies: list[dict]) -> str:
    """Which groups had too few voters to say anything about."""
    return gettext(
        "Too few voted in %(groups)s to say.",
        groups=", ".join(gettext("%(group)s (%(n)s)", group=_group_name(t), n=_n(t["votes"])) for t in tallies),
    )


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


def _group_summary(group: dict, index: dict[int, dict], floor: evidence.Floors | None = None) -> str:
    """One or two sentences from the group's representative statements (its repness, most representative first).

    Only statements at the floor inside the group and among the others: a contrast needs both sides' votes.
    """
    floor = floor or evidence.Floors()
    one_other = group.get("groups") == 2  # "the other group", not "the other groups"
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
    reps = [
        r for r in group.get("repness", []) if floor.group(r["inside"]["votes"]) and floor.group(r["outside"]["votes"])
    ]
    agreed = [r for r in reps if r["side"] == "agree" and 2 * r["inside"]["agree"] > r["inside"]["votes"]]
    rejected = [r for r in reps if r["side"] == "disagree" and 2 * r["inside"]["disagree"] > r["inside"]["votes"]]
    a = agreed[0] if agreed else None
    d = rejected[0] if rejected else None

    def figures(rep, side):
        return {
            "inside": _pct(rep["inside"][side], rep["inside"]["votes"]),
            "inside_of": _of(rep["inside"][side], rep["inside"]["votes"]),
            "outside": _pct(rep["outside"][side], rep["outside"]["votes"]),
            "outside_of": _of(rep["outside"][side], rep["outside"]["votes"]),
            "text": _quote(index[rep["statement_id"]]["text"]),
        }

    if a and d:
        fa, fd = figures(a, "agree"), figures(d, "disagree")
        first = (
            gettext(
                "%(who)s mostly agreed that %(a)s (%(a_in)d%%, %(a_in_of)s, against %(a_out)d%%, %(a_out_of)s, in "
                "the other group) and, unlike the other group, disagreed that %(d)s (%(d_in)d%% disagreed, "
                "%(d_in_of)s, against %(d_out)d%%, %(d_out_of)s)."
            )
            if one_other
            else gettext(
                "%(who)s mostly agreed that %(a)s (%(a_in)d%%, %(a_in_of)s, against %(a_out)d%%, %(a_out_of)s, in "
                "the other groups) and, unlike the others, disagreed that %(d)s (%(d_in)d%% disagreed, %(d_in_of)s, "
                "against %(d_out)d%%, %(d_out_of)s)."
            )
        ) % {
            "who": who,
            "a": fa["text"],
            "a_in": fa["inside"],
            "a_in_of": fa["inside_of"],
            "a_out": fa["outside"],
            "a_out_of": fa["outside_of"],
            "d": fd["text"],
            "d_in": fd["inside"],
            "d_in_of": fd["inside_of"],
            "d_out": fd["outside"],
            "d_out_of": fd["outside_of"],
        }
    elif a:
        fa = figures(a, "agree")
        first = (
            gettext(
                "%(who)s agreed, more than the other group, that %(a)s (%(a_in)d%%, %(a_in_of)s, against "
                "%(a_out)d%%, %(a_out_of)s, in the other group)."
            )
            if one_other
            else gettext(
                "%(who)s agreed, more than the others, that %(a)s (%(a_in)d%%, %(a_in_of)s, against %(a_out)d%%, "
                "%(a_out_of)s, in the other groups)."
            )
        ) % {
            "who": who,
            "a": fa["text"],
            "a_in": fa["inside"],
            "a_in_of": fa["inside_of"],
            "a_out": fa["outside"],
            "a_out_of": fa["outside_of"],
        }
    elif d:
        fd = figures(d, "disagree")
        first = (
            gettext(
                "%(who)s, unlike the other group, disagreed that %(d)s (%(d_in)d%% disagreed, %(d_in_of)s, against "
                "%(d_out)d%%, %(d_out_of)s, in the other group)."
            )
            if one_other
            else gettext(
                "%(who)s, unlike the others, disagreed that %(d)s (%(d_in)d%% disagreed, %(d_in_of)s, against "
                "%(d_out)d%%, %(d_out_of)s, in the other groups)."
            )
        ) % {
            "who": who,
            "d": fd["text"],
            "d_in": fd["inside"],
            "d_in_of": fd["inside_of"],
            "d_out": fd["outside"],
            "d_out_of": fd["outside_of"],
        }
    elif one_other:
        return gettext("%(who)s has no statement on which it clearly differs from the other group.", who=who)
    else:
        return gettext("%(who)s has no statement on which it clearly differs from the others.", who=who)
    if len(agreed) > 1:
        fm = figures(agreed[1], "agree")
        first += " " + gettext(
            "They also agreed that %(a)s (%(a_in)d%%, %(a_in_of)s).",
            a=fm["text"],
            a_in=fm["inside"],
            a_in_of=fm["inside_of"],
        )
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
            "summary": _group_summary(
                {**g, "grouped": grouped, "groups": len(report["groups"])}, index, floors(report)
            ),
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

    Returns ``{"lead", "context", "context_sentences", "method", "caution", "asked", "floor", "headline",
    "common_ground", "rejected", "divisions", "thin", "groups", "certainty", "caveats"}``: ``lead`` the main
    division in a sentence (or None), ``context`` the facts of :func:`.brief_answer.context` and
    ``context_sentences`` them in words, ``method`` a paragraph, ``caution`` sentences; ``asked`` a sentence;
    ``floor`` the evidence floors ``{"voters", "group_voters"}``; ``headline``, ``common_ground``, ``rejected`` and
    ``divisions`` lists of statements with their figures (everyone's and each group's tally) and a ``sentence``,
    each at the floors its claim needs (:func:`claims`); ``thin`` the statements those lists would hold but for the
    floors, with everyone's tally; ``groups`` as :func:`group_summaries` (with ``share``, and
    ``name``/``name_confirmed`` from :func:`.brief_answer.names`); ``certainty`` and ``caveats`` lists of sentences.
    """
    index = {r["id"]: r for r in report["statements"]}
    named = brief_answer.names(report)
    groups = report["groups"]
    context = brief_answer.context(report)
    floor = floors(report)
    participants = report["counts"]["participants"]
    brief: dict = {
        "lead": brief_answer.lead(report, named),
        "lead_statement": (brief_answer.division(report) or ({"id": None},))[0]["id"],
        "context": context,
        "context_sentences": brief_answer.context_sentences(report, context),
        "method": brief_answer.method(report),
        "caution": brief_answer.caution(report, context),
        "asked": _asked(report),
        "floor": floor.to_dict(),
        "headline": [],
        "common_ground": [],
        "rejected": [],
        "divisions": [],
        "thin": [],
        "groups": [],
        "certainty": [],
        "caveats": _caveats(report),
        "weighting": None,
    }
    if not report.get("ready"):
        return brief
    thin = list(report.get("thin") or [])

    def keep(sid: int, ok) -> bool:
        """The statement meets the floors its claim needs; else it goes to "seen by too few to say"."""
        if ok(index[sid]):
            return True
        if sid not in thin:
            thin.append(sid)
        return False

    def everyone_at_floor(row: dict) -> bool:
        return floor.everyone(row["overall"]["votes"])

    def every_group_at_floor(row: dict) -> bool:
        return everyone_at_floor(row) and all(floor.group(t["votes"]) for t in row["groups"])

    for sid in _headline_ids(report):
        if sid not in index or not keep(sid, everyone_at_floor):
            continue
        item = _figures(index[sid], groups, floor)
        enough = [t for t in item["groups"] if t["at_floor"]]
        few = [t for t in item["groups"] if not t["at_floor"]]
        parts = [_everyone(item, participants)]
        if enough and not few:
            parts.append(_range(enough))
        elif enough:  # not "in every group": name the groups that can be spoken for
            parts.append(
                "; ".join(
                    gettext(
                        "%(group)s: %(p)d%% (%(of)s)",
                        group=_group_name(t),
                        p=_pct(t["agree"], t["votes"]),
                        of=_of(t["agree"], t["votes"]),
                    )
                    for t in enough
                )
                + "."
            )
        if few:
            parts.append(_too_few(few))
        item["sentence"] = " ".join(parts)
        brief["headline"].append(item)
    for sid in _common_ids(report):
        if not keep(sid, every_group_at_floor):
            continue
        item = _figures(index[sid], groups, floor)
        item["sentence"] = gettext("Every group agreed.") + " " + _range(item["groups"])
        brief["common_ground"].append(item)
    for sid in [sid for sid in report["common_rejection"] if keep(sid, every_group_at_floor)][:COMMON]:
        item = _figures(index[sid], groups, floor)
        item["sentence"] = gettext("Every group disagreed.") + " " + _range(item["groups"], "disagree")
        brief["rejected"].append(item)
    for sid in report["divisive"]:
        if len(brief["divisions"]) >= DIVISIONS:
            break
        if not keep(sid, lambda row: sum(floor.group(t["votes"]) for t in row["groups"]) >= 2):
            continue
        item = _figures(index[sid], groups, floor)
        voted = [t for t in item["groups"] if t["at_floor"]]
        high = max(voted, key=lambda t: (t["agree"] / t["votes"], t["label"]))
        low = min(voted, key=lambda t: (t["agree"] / t["votes"], t["label"]))
        if high["agree"] * low["votes"] == low["agree"] * high["votes"]:
            continue
        item["sentence"] = gettext(
            "%(high)s: %(hi)d%% agreed (%(hi_of)s); %(low)s: %(lo)d%% agreed (%(lo_of)s).",
            high=_group_name(high),
            hi=_pct(high["agree"], high["votes"]),
            hi_of=_of(high["agree"], high["votes"]),
            low=_group_name(low),
            lo=_pct(low["agree"], low["votes"]),
            lo_of=_of(low["agree"], low["votes"]),
        )
        brief["divisions"].append(item)
    # What a list holds is not "seen by too few" (a headline at everyone's floor with one thin group, say).
    listed = {
        item["statement_id"] for name in ("headline", "common_ground", "rejected", "divisions") for item in brief[name]
    }
    brief["thin"] = [
        {"statement_id": sid, "text": index[sid]["text"], "everyone": dict(index[sid]["overall"])}
        for sid in [sid for sid in thin if sid in index and sid not in listed][:THIN]
    ]
    grouped = report["counts"]["grouped"]
    brief["groups"] = [
        {**summary, "share": _pct(summary["size"], grouped), **named[summary["label"]]}
        for summary in group_summaries({**report, "groups": [{**g, "name": named[g["label"]]["name"]} for g in groups]})
    ]
    brief["certainty"] = _certainty(report, brief["common_ground"])
    brief["weighting"] = population_brief.weighting_sentence(report, brief["headline"])
    return brief
