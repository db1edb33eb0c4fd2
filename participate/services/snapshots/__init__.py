"""The analysis lifecycle: stored snapshots and the typed view every reader uses instead of their JSON."""

from . import store
from .view import GroupView, MajorityView, RepView, SnapshotView, group_label, view_of

__all__ = ["GroupView", "MajorityView", "RepView", "SnapshotView", "group_label", "store", "view_of"]
