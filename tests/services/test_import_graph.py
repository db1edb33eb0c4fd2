"""The services import each other without a cycle, so each can be read (and tested) from the bottom up."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "participate" / "services"
PACKAGE = "participate.services"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name below ``participate.services`` of every module ("" for the package itself)."""
    names = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports(name: str, path: Path, names: set[str]) -> set[str]:
    """The service modules that ``name`` imports anywhere in its file (functions included)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [p for p in package if p]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and (node.module + ".").startswith(PACKAGE + "."):
                module = node.module[len(PACKAGE) + 1 :] if node.module != PACKAGE else ""
            else:
                continue
            submodules = [f"{module}.{a.name}".strip(".") for a in node.names]
            # `from .pkg import mod` imports the submodule; `from .mod import name` imports the module itself
            targets = [t for t in submodules if t in names] or [module]
        else:
            continue
        for target in targets:
            target = target[len(PACKAGE) + 1 :] if target.startswith(PACKAGE + ".") else target
            if target in names and target not in (name, ""):  # "": the package's __init__, which imports nothing
                found.add(target)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that starts and ends on the same module, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_relative_absolute_and_late_imports(tmp_path):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "low.py").write_text("X = 1\n")
    (tmp_path / "mid.py").write_text("from . import N_, low\nimport os\n")
    (tmp_path / "top.py").write_text("def f():\n    from participate.services.mid import thing\n")
    names = module_names(tmp_path)
    assert imports("mid", names["mid"], set(names)) == {"low"}
    assert imports("top", names["top"], set(names)) == {"mid"}


def test_no_import_cycle_among_the_services():
    names = module_names(SERVICES)
    graph = {name: imports(name, path, set(names)) for name, path in names.items()}
    assert graph["participation.acts"], "the reader found no imports at all: it is broken, not the code clean"
    cycle = find_cycle(graph)
    assert cycle is None, "services import each other in a cycle: " + " -> ".join(cycle)
