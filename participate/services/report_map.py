"""The report's map of opinions: the analysis's base clusters scaled into an SVG box, coloured by opinion group."""

import math

import numpy as np

from .snapshots import SnapshotView

MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 640, 400, 36


def geometry(view: SnapshotView) -> dict:
    """Base clusters scaled into an SVG box, with their opinion group; group centres for the labels."""
    centers = view.base_cluster_centers
    members = view.base_cluster_members
    group_of = view.group_of()
    labels = view.labels
    if len(centers) == 0:
        return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "clusters": [], "groups": []}
    lo, hi = centers.min(axis=0), centers.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)

    def place(xy):
        x = MAP_MARGIN + (xy[0] - lo[0]) / span[0] * (MAP_WIDTH - 2 * MAP_MARGIN)
        y = MAP_HEIGHT - MAP_MARGIN - (xy[1] - lo[1]) / span[1] * (MAP_HEIGHT - 2 * MAP_MARGIN)
        return round(float(x), 1), round(float(y), 1)

    biggest = max((len(m) for m in members), default=1) or 1
    clusters = []
    for xy, m in zip(centers, members, strict=True):
        if not m:
            continue
        gid = group_of.get(m[0])
        x, y = place(xy)
        clusters.append(
            {
                "x": x,
                "y": y,
                "size": len(m),
                "r": round(4 + 12 * math.sqrt(len(m) / biggest), 1),
                "group": labels.get(gid, "?") if gid is not None else None,
            }
        )
    groups = []
    for g in view.groups:
        x, y = place(g.center)
        groups.append({"label": g.label, "x": x, "y": y, "size": g.size})
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "clusters": clusters, "groups": groups}
