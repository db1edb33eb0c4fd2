"""Who may do what, read from the code's syntax trees (any spelling of an import or a write counts).

- No view imports the analysis runner (``participate.jobs``): views call services, and services announce changes
  with ``signals.votes_changed``, which ``create_app`` connects to the runner once.
- One module of ``participate/services`` writes votes: ``participation/votes.py``.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "participate"
WRITER = ROOT / "services" / "participation" / "votes.py"
VOTE_TABLES = {"Vote", "CurrentVote"}
_SQL_WRITE = re.compile(r"\b(insert\s+into|delete\s+from|update|copy)\s+\"?(current_)?vote\b", re.I)


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The dotted module an ``ImportFrom`` reads from, relative levels resolved against ``path``."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts)[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(path: Path, source: str) -> set[str]:
    """Every module ``source`` imports, spelled out in full (``from .. import jobs`` is ``participate.jobs``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found |= {arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return found


def _is_table(node: ast.AST, aliases: set[str]) -> bool:
    """``Vote``, ``Vote.__table__``, or a name bound to one of them."""
    if isinstance(node, ast.Name):
        return node.id in aliases
    return isinstance(node, ast.Attribute) and node.attr == "__table__" and _is_table(node.value, VOTE_TABLES)


def vote_writes(source: str) -> list[int]:
    """Lines that write the vote tables: insert/delete/update of ``Vote``/``CurrentVote`` (model, table, or a name
    bound to either), a new ``Vote(...)``, or SQL text that writes ``vote``/``current_vote``."""
    tree = ast.parse(source)
    aliases = set(VOTE_TABLES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = (
                    zip(target.elts, node.value.elts, strict=False)
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                    else [(target, node.value)]
                )
                aliases |= {t.id for t, v in pairs if isinstance(t, ast.Name) and _is_table(v, VOTE_TABLES)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "attr", getattr(func, "id", ""))
            if (
                name in ("insert", "delete", "update")
                and (
                    any(_is_table(arg, aliases) for arg in node.args)
                    or (isinstance(func, ast.Attribute) and _is_table(func.value, aliases))
                )
            ) or name in VOTE_TABLES:
                lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_WRITE.search(node.value):
            lines.append(node.lineno)
    return lines


def test_the_readers_see_every_spelling(tmp_path):
    view = ROOT / "views" / "example.py"
    for spelling in (
        "from .. import jobs",
        "from ..jobs import analysis_wanted",
        "import participate.jobs",
        "from participate import jobs as j",
        "importlib.import_module('participate.jobs')",
    ):
        assert imported_modules(view, spelling) & {"participate.jobs"}, spelling
    assert not imported_modules(view, "from ..services import jobs_page") & {"participate.jobs"}
    for write in (
        "session.execute(insert(Vote), rows)",
        "session.execute(delete(CurrentVote).where(x))",
        "t = Vote.__table__\nconnection.execute(t.insert(), rows)",
        "a, b = Statement.__table__, CurrentVote.__table__\nb.delete()",
        "session.execute(insert(session, Vote).values(x=1))",
        "session.add(Vote(value=1))",
        "session.execute(text('DELETE FROM vote WHERE id = 1'))",
        "connection.execute(sa.text('insert into current_vote values (1)'))",
    ):
        assert vote_writes(write), write
    assert vote_writes("select(Vote.id).where(Vote.value == 1)\nc = CurrentVote.__table__\nselect(c.c.id)") == []


def test_no_view_imports_the_analysis_runner():
    found = {
        path.name: sorted(m for m in imported_modules(path, path.read_text()) if m.startswith("participate.jobs"))
        for path in sorted((ROOT / "views").glob("*.py"))
    }
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_one_module_of_the_services_writes_votes():
    writers = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "services").rglob("*.py"))
        if (lines := vote_writes(path.read_text()))
    }
    assert list(writers) == [str(WRITER.relative_to(ROOT))], writers
