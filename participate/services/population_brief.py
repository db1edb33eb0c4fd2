"""The brief's sentence on weighting: does matching the population change any headline finding?"""

from __future__ import annotations

from flask_babel import gettext, ngettext

from .population import REASONS


def changed_findings(items: list[dict]) -> list[dict] | None:
    """The brief items whose finding weighting changes: the weighted share on the other side of one half from the
    unweighted one, or the unweighted share outside the weighted 95% interval. None when none could be weighted."""
    weighted = [i for i in items if i.get("weighted") and "agree_share" in i["weighted"]]
    if not weighted:
        return None
    changed = []
    for item in weighted:
        w, everyone = item["weighted"], item["everyone"]
        plain = everyone["agree"] / everyone["votes"] if everyone["votes"] else 0.0
        if (w["agree_share"] > 0.5) != (plain > 0.5) or not w["low"] <= plain <= w["high"]:
            changed.append(item)
    return changed


def weighting_sentence(report: dict, headline: list[dict]) -> str | None:
    """One sentence: whether weighting changes a headline finding, or why the results could not be weighted.

    None when the consultation asked no questions about participants (nothing to weight by).
    """
    section = report.get("population")
    if not section or not any(q.get("kind", "question") == "question" for q in section["questions"]):
        return None
    if section["suppressed"]:
        return gettext(
            "The results could not be weighted to match the population: %(reason)s",
            reason=gettext(REASONS[section["suppressed"]]),
        )
    changed = changed_findings(headline)
    if changed is None:
        return gettext(
            "Weighted figures are not shown for the headline statements: too few people's votes once weighted."
        )
    if not changed:
        return gettext(
            "Weighting the participants to match the population (effective sample size %(n)s) changes none of the "
            "headline findings.",
            n=f"{section['effective_n']:.0f}",
        )
    first = changed[0]
    everyone = first["everyone"]
    return ngettext(
        "Weighting the participants to match the population changes %(num)d headline finding: %(text)s, "
        "%(plain)d%% agreed, %(weighted)d%% once weighted.",
        "Weighting the participants to match the population changes %(num)d headline findings, among them %(text)s: "
        "%(plain)d%% agreed, %(weighted)d%% once weighted.",
        len(changed),
        text="“" + first["text"].strip().rstrip(".") + "”",
        plain=int(100 * everyone["agree"] / everyone["votes"] + 0.5) if everyone["votes"] else 0,
        weighted=int(100 * first["weighted"]["agree_share"] + 0.5),
    )
