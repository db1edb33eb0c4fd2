"""Only the snapshot store reads a snapshot's stored JSON; everything else uses its typed accessors or the view."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "participate"
STORE = PACKAGE / "services" / "snapshots"
READS = re.compile(r"\.result\[|\.result\.get\(|snapshot\.result")


def test_no_stored_json_is_read_outside_the_snapshot_store():
    hits = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if STORE not in path.parents and path.name != "models.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if READS.search(line)
    ]
    assert hits == []
