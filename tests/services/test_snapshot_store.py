"""Only the snapshot store reads a snapshot's stored JSON; everything else uses its typed accessors or the view.

Read from the syntax tree, so no spelling escapes: ``x.result``, ``x.result["k"]``, ``getattr(x, "result")``,
``operator.attrgetter("result")`` all count, whatever the variable is called.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "participate"
STORE = PACKAGE / "services" / "snapshots"
FIELD = "result"  # AnalysisSnapshot.result, the stored JSON


def stored_json_reads(source: str) -> list[int]:
    """Lines of ``source`` that read an attribute named ``result``, directly or by its name as a string."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr == FIELD) or (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("getattr", "attrgetter")
            and any(isinstance(arg, ast.Constant) and arg.value == FIELD for arg in node.args)
        ):
            lines.append(node.lineno)
    return lines


def test_the_reader_sees_every_spelling():
    for source in (
        "snapshot.result['groups']",
        "latest.result.get('k')",
        "x = s.result",
        "getattr(s, 'result')",
        "operator.attrgetter('result')(s)",
    ):
        assert stored_json_reads(source), source
    assert stored_json_reads("results = run()\nresult = 1\nreport['result']") == []


def test_no_stored_json_is_read_outside_the_snapshot_store():
    hits = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if STORE not in path.parents and path.name != "models.py"
        for line in stored_json_reads(path.read_text(encoding="utf-8"))
    ]
    assert hits == []
