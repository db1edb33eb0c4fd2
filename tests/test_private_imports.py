"""Tests use the package's public names (and each other's): a private name may change without notice."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OURS = {"participate", "analysis", "bench", "tests"}


def _private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def private_imports(source: str) -> list[str]:
    """``from ours import _name``, ``from ours._module import ...`` and ``import ours._module`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if (node.level or module.split(".")[0] in OURS) and (
                _private(module) or any(_private(alias.name) for alias in node.names)
            ):
                found.append(f"{node.lineno}: from {'.' * node.level}{module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] in OURS and _private(a.name)
            ]
    return found


def test_the_check_finds_private_imports():
    source = "from participate.jobs import _LEASE\nfrom .conftest import x, _y\nimport analysis._hidden\n"
    assert len(private_imports(source)) == 3
    assert (
        private_imports("from analysis.__main__ import run\nfrom os import _exit\nfrom .servers import free_port\n")
        == []
    )


def test_no_test_imports_a_private_name():
    found = {
        str(path.relative_to(TESTS)): hits
        for path in sorted(TESTS.rglob("*.py"))
        if (hits := private_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}
