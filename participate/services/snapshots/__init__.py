"""The analysis lifecycle: stored snapshots and the typed view every reader uses instead of their JSON."""

from .view import GroupView, MajorityView, RepView, SnapshotView, view_of

__all__ = ["GroupView", "MajorityView", "RepView", "SnapshotView", "view_of"]
