"""The analysis lifecycle: votes read as arrays, snapshots computed and stored, their checks, and the runner.

Modules: :mod:`.votes`, :mod:`.store` (the only reader of a snapshot's stored JSON), :mod:`.checks` and
:mod:`.integrity`, :mod:`.runner` (the entry point of the background runner and the CLI), and :mod:`.view`, the
typed view every reader uses instead of the JSON.
"""

from . import store
from .view import GroupView, MajorityView, RepView, SnapshotView, group_label, source_labels, view_of

__all__ = ["GroupView", "MajorityView", "RepView", "SnapshotView", "group_label", "source_labels", "store", "view_of"]
