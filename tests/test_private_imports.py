"""Tests use the package's public names, and their helpers come from the shared modules (``conftest.py``,
``factories.py``, ``views/routes.py``…), never from another test module: a private name may change without notice,
and a test module is free to change its helpers. The checks walk each file's syntax tree, so no spelling escapes."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OURS = {"participate", "analysis", "bench", "tests"}
ATTRIBUTE_CALLS = {"getattr", "setattr", "delattr", "hasattr"}  # also monkeypatch.setattr / .delattr


def _private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def _ours(module: str, level: int = 0) -> bool:
    return bool(level) or module.split(".")[0] in OURS


def _bound_names(tree: ast.AST) -> set[str]:
    """The names an import of one of our modules binds: ``import ours.x`` binds ``ours``, ``import ours.x as y``
    binds ``y``, ``from ours import x`` (a module or anything else of ours) binds ``x``."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names if _ours(a.name)}
        elif isinstance(node, ast.ImportFrom) and _ours(node.module or "", node.level):
            bound |= {a.asname or a.name for a in node.names if a.name != "*"}
    return bound


def _rooted_in(node: ast.AST, bound: set[str]) -> bool:
    """Whether ``node`` is ``name`` or ``name.a.b`` for a name in ``bound``."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in bound


def _attribute_call(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Name) and func.id in ATTRIBUTE_CALLS) or (
        isinstance(func, ast.Attribute) and func.attr in ("setattr", "delattr")
    )


def private_uses(source: str) -> list[str]:
    """Every use of a private name of ours in ``source``: ``from ours import _name``, ``from ours._module import``,
    ``import ours._module``, ``module._name`` (``module`` bound by an import of ours, however spelled),
    ``setattr(module, "_name", …)`` and ``monkeypatch.setattr("ours.module._name", …)``."""
    tree = ast.parse(source)
    bound = _bound_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if _ours(module, node.level) and (_private(module) or any(_private(a.name) for a in node.names)):
                found.append(f"{node.lineno}: from {'.' * node.level}{module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if _ours(a.name) and _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and _rooted_in(node.value, bound):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and _attribute_call(node) and node.args:
            first, *rest = node.args
            name = rest[0] if rest else None
            if (
                _rooted_in(first, bound)
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and _private(name.value)
            ) or (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and "." in first.value
                and _ours(first.value)
                and _private(first.value)
            ):
                found.append(f"{node.lineno}: {ast.unparse(node.func)}({ast.unparse(first)}, …)")
    return found


def imports_of_test_modules(source: str) -> list[str]:
    """Every import of another test module in ``source``: ``from tests.x.test_y import …``, ``from .test_y import
    …``, ``from tests.x import test_y``, ``import tests.x.test_y``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and _ours(node.module or "", node.level):
            parts = (node.module or "").split(".")
            if any(p.startswith("test_") for p in parts) or any(a.name.startswith("test_") for a in node.names):
                found.append(f"{node.lineno}: from {'.' * node.level}{node.module or ''} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}"
                for a in node.names
                if _ours(a.name) and any(p.startswith("test_") for p in a.name.split("."))
            ]
    return found


def test_the_check_finds_every_spelling_of_a_private_name():
    spellings = [
        "from participate.jobs import _LEASE",
        "from .conftest import x, _y",
        "import analysis._hidden",
        "from participate.services import _votes",
        "import participate.jobs as jobs\njobs._due(1)",  # an aliased module
        "from participate.services import report\nreport._built.clear()",  # a from-imported module
        "from participate.services.snapshots import view as snapshot_view\nsnapshot_view._views.clear()",
        "import participate.services.report\nparticipate.services.report._built.clear()",  # a dotted path
        "from participate import jobs\nx = jobs._LEASE.format(1)",  # in an expression
        "from participate.services import accounts\nmonkeypatch.setattr(accounts, '_hasher', None)",
        "from analysis import clustering\nsetattr(clustering, '_BRUTE_FORCE_MAX', 1)",
        "monkeypatch.setattr('participate.services.report._build', None)",
    ]
    for source in spellings:
        assert len(private_uses(source)) == 1, source
    public = [
        "from analysis.__main__ import run\nfrom os import _exit\nfrom .servers import free_port",
        "import os\nos._exit",  # not ours
        "from participate import jobs\njobs.runner(app)._dirty",  # an object's attribute, not the module's
        "from participate.services import report\nreport.__name__\nreport.build(s, c)",
        "from participate.services import accounts\nmonkeypatch.setattr(accounts, 'hasher', None)",
        "page._page_box\nrule._converters",  # names no import of ours binds
    ]
    for source in public:
        assert private_uses(source) == [], source


def test_the_check_finds_every_spelling_of_an_import_of_a_test_module():
    spellings = [
        "from tests.views.test_facilitate import FORM",
        "from tests.views import test_authorisation_matrix as matrix",
        "from .test_offload import queued",
        "from . import test_offload",
        "import tests.test_offload",
        "import tests.views.test_facilitate as facilitate",
    ]
    for source in spellings:
        assert len(imports_of_test_modules(source)) == 1, source
    shared = "from tests import factories\nfrom tests.conftest import Client\nfrom .servers import free_port\n"
    assert imports_of_test_modules(shared + "from tests.views.routes import ROLES\nimport pytest_timeout\n") == []


def _each_test_file(check) -> dict[str, list[str]]:
    return {
        str(path.relative_to(TESTS)): hits
        for path in sorted(TESTS.rglob("*.py"))
        if (hits := check(path.read_text(encoding="utf-8")))
    }


def test_no_test_uses_a_private_name():
    assert _each_test_file(private_uses) == {}


def test_no_imports_of_test_modules_another():
    assert _each_test_file(imports_of_test_modules) == {}
