"""Who may see what a report derives from everyone's votes: one rule, asked by every surface.

The report page and its PDF, CSV and JSON, published snapshots, "My votes" and ``mine.json`` ("where I stand", the
votes on one's own statements), the participation page's pointer to one's opinion group, the integrity annex and the
list of published snapshots all ask :func:`may_see_results` (or :func:`check`). A participant always sees their own
votes and statements; anything computed from other people's votes only when the report is readable to them.
"""

import hmac
from dataclasses import dataclass

from ..models import Consultation, ConsultationStatus, ReportVisibility
from . import N_, Forbidden, NotFound


@dataclass(frozen=True)
class Viewer:
    """Who is asking: staff of this consultation, the holder of the link-only report's key, or the holder of a
    published report's secret token (which counts as the link)."""

    staff: bool = False
    key: str | None = None
    published_token: bool = False


def _holds_key(consultation: Consultation, key: object) -> bool:
    if not consultation.report_key or not isinstance(key, str) or not key:
        return False
    # Compared as bytes: compare_digest refuses non-ASCII str (a TypeError, a 500, for ?key=é).
    return hmac.compare_digest(key.encode(), consultation.report_key.encode())


def may_see_results(consultation: Consultation, viewer: Viewer) -> bool:
    """Whether ``viewer`` may see anything derived from other participants' votes in ``consultation``."""
    if viewer.staff:
        return True
    if consultation.status == ConsultationStatus.DRAFT and not viewer.published_token:
        return False
    visibility = consultation.report_visibility
    if visibility == ReportVisibility.PUBLIC:
        return True
    if visibility == ReportVisibility.LINK:
        return viewer.published_token or _holds_key(consultation, viewer.key)
    return False


def lists_everything(consultation: Consultation, viewer: Viewer) -> bool:
    """Whether the viewer also sees what only a public report lists: its published snapshots and integrity annex."""
    return viewer.staff or (
        consultation.report_visibility == ReportVisibility.PUBLIC and consultation.status != ConsultationStatus.DRAFT
    )


def check(consultation: Consultation, viewer: Viewer) -> None:
    """Raise unless the viewer may read the report: 404 for drafts and wrong keys (nothing to find), 403 if private."""
    if may_see_results(consultation, viewer):
        return
    if consultation.status == ConsultationStatus.DRAFT:
        raise NotFound(N_("There is no consultation at this address."))
    if consultation.report_visibility == ReportVisibility.PRIVATE:
        raise Forbidden(N_("This report is private: only the consultation's facilitators can read it."))
    raise NotFound(N_("There is no report at this address."))


HIDDEN_STAND = {
    "group": None,
    "name": None,
    "group_size": None,
    "summary": None,
    "differ_from_group": [],
    "agree_with_others": [],
}


def hidden_stand() -> dict:
    """ "Where I stand" for a viewer who may not see results: the same fields, nothing derived from others' votes."""
    from flask_babel import gettext

    return {
        **HIDDEN_STAND,
        "missing": gettext("This consultation's results are not public, so opinion groups are not shown here."),
    }


def own_statements_only(rows: list[dict]) -> list[dict]:
    """One's own statements without the tallies of other people's votes on them."""
    return [{**row, "agree": None, "disagree": None, "pass": None} for row in rows]
