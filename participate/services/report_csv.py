"""The report as a spreadsheet: one row per statement with every figure of :func:`.report.build`."""

import io

from analysis import csv_safe


def share(n: int, d: int) -> float | None:
    return n / d if d else None


BOM = "\ufeff"  # a UTF-8 byte-order mark: without it Excel reads the file as the local code page ("Ã¼" for "ü")


def to_csv(report: dict) -> str:
    """One row per statement with every figure of the report; group columns follow the group letters.

    Starts with a UTF-8 byte-order mark, so that spreadsheets open statements in any language as written;
    ``source_statement_id`` is the statement's id in the source it was imported from (blank otherwise).
    """
    out = io.StringIO()
    out.write(BOM)
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
        "source_statement_id",
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
            "" if r.get("source_id") is None else r["source_id"],
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


def participants_csv(rows, labels: dict[int, str], source_labels: dict[int, str]) -> str:
    """One row per participant: our id and the source's, our opinion group and the source's (for imports).

    ``rows`` are ``(participant_id, source_participant_id, group_id, source_group)`` tuples; ``labels`` maps our
    group ids to their letters, ``source_labels`` the source's group ids to theirs (Pol.is's group-id 0 is A).
    """
    out = io.StringIO()
    out.write(BOM)
    writer = csv_safe.writer(out)
    writer.writerow(["participant_id", "source_participant_id", "group", "source_group"])
    for pid, source_id, gid, source_group in rows:
        writer.writerow(
            [
                pid,
                "" if source_id is None else source_id,
                labels.get(gid, "") if gid is not None else "",
                source_labels.get(source_group, "") if source_group is not None else "",
            ]
        )
    return out.getvalue()
