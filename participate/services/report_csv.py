"""The report as a spreadsheet: one row per statement with every figure of :func:`.report.build`."""

import io

from analysis import csv_safe


def share(n: int, d: int) -> float | None:
    return n / d if d else None


def to_csv(report: dict) -> str:
    """One row per statement with every figure of the report; group columns follow the group letters."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    labels = [g["label"] for g in report["groups"]]
    header = [
        "statement_id",
        "text",
        "themes",
        "is_meta",
        "votes",
        "agree",
        "disagree",
        "pass",
        "agree_share",
        "disagree_share",
        "pass_share",
        "group_aware_consensus",
        "group_consensus_jeffreys",
        "divisiveness",
        "common_ground",
        "robust",
        "at_floor",
        "about_participants",
        "origin_stated",
        "bridging",
        "bridging_low90",
        "bridging_high90",
        "headline_rank",
        "headline_jr",
        "weighted_agree_share",
        "weighted_agree_low95",
        "weighted_agree_high95",
        "weighted_suppressed",
    ]
    for label in labels:
        header += [
            f"group_{label}_votes",
            f"group_{label}_agree",
            f"group_{label}_disagree",
            f"group_{label}_pass",
            f"group_{label}_agree_share",
            f"group_{label}_agree_low90",
            f"group_{label}_agree_high90",
        ]
    writer.writerow(header)

    def num(x):
        return "" if x is None else f"{x:.4f}"

    rank = {sid: i + 1 for i, sid in enumerate(report.get("headline") or [])}
    for r in report["statements"]:
        o = r["overall"]
        row = [
            r["id"],
            r["text"],
            ";".join(r["themes"]),
            int(r["is_meta"]),
            o["votes"],
            o["agree"],
            o["disagree"],
            o["pass"],
            num(share(o["agree"], o["votes"])),
            num(share(o["disagree"], o["votes"])),
            num(share(o["pass"], o["votes"])),
            num(r["consensus"]),
            num(r["consensus_jeffreys"]),
            num(r["divisiveness"]),
            r["common"] or "",
            "" if r["robust"] is None else int(r["robust"]),
            int(r.get("at_floor", True)),
            int(r.get("about_participants", False)),
            int(r.get("origin_stated", True)),
            num(r.get("bridging")),
            num((r.get("bridging_interval") or [None, None])[0]),
            num((r.get("bridging_interval") or [None, None])[1]),
            rank.get(r["id"], ""),
            "" if r["id"] not in rank or report.get("headline_jr") is None else int(report["headline_jr"]),
        ]
        weighted = r.get("weighted") or {}  # absent from reports published before weighting existed
        row += [
            num(weighted.get("agree_share")),
            num(weighted.get("low")),
            num(weighted.get("high")),
            weighted.get("suppressed", ""),
        ]
        for t in r["groups"]:
            iv = t["agree_interval"] or [None, None]
            row += [
                t["votes"],
                t["agree"],
                t["disagree"],
                t["pass"],
                num(share(t["agree"], t["votes"])),
                num(iv[0]),
                num(iv[1]),
            ]
        writer.writerow(row)
    return out.getvalue()
