"""The import structure of ``src/stimwise`` (issue 13, untie the knots): no import cycle between
modules, none hidden by an import inside a function either, and the shells (``web/``, ``cli/``)
are imported by nothing else.

The graph is built from the source with :mod:`ast` (nothing is imported): an edge ``a -> b``
for every ``import b`` / ``from b import x`` in module ``a`` (``from pkg import mod`` is an edge
to the submodule). Imports under ``if TYPE_CHECKING:`` are left out (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "stimwise"


def _modules(src: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``)."""
    found = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(body: list[ast.stmt], module_level: bool):
    """The import statements that run: at module level only (into ``if``/``try`` blocks), or
    anywhere (also inside functions and classes); never those under ``TYPE_CHECKING``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _imports(node.orelse, module_level)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not module_level:
                yield from _imports(node.body, module_level)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _imports([child], module_level)
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []) or []:
                    if isinstance(child, ast.ExceptHandler):
                        yield from _imports(child.body, module_level)


def import_graph(src: Path = SRC, module_level: bool = True) -> dict[str, set[str]]:
    """Module -> the stimwise modules it imports."""
    modules = _modules(src)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree.body, module_level):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = alias.name
                    while target and target not in modules:
                        target = target.rpartition(".")[0]
                    if target:
                        targets.add(target)
                continue
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if node.module else anchor
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    targets.add(submodule)
                elif base in modules:
                    targets.add(base)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_module_level_import_cycle_in_src():
    graph = import_graph(module_level=True)
    assert len(graph) > 200  # the whole package was read
    assert cycles(graph) == []


def test_no_import_cycle_hidden_inside_a_function_either():
    """An import moved into a function hides a cycle from the interpreter, not from readers
    (issue 13: ``physiology/fibers.py`` <-> ``solver.py``, the CLI modules)."""
    assert cycles(import_graph(module_level=False)) == []


def test_nothing_outside_web_and_cli_imports_them():
    """``web`` and ``cli`` are shells over the other packages (ARCHITECTURE §2): no package
    below them may depend on them, not even lazily."""
    def in_shell(module: str) -> bool:
        return any(module == s or module.startswith(s + ".")
                   for s in (f"{PACKAGE}.web", f"{PACKAGE}.cli"))

    offenders = {
        module: sorted(t for t in targets if in_shell(t))
        for module, targets in import_graph(module_level=False).items()
        if not in_shell(module) and module != PACKAGE + ".__main__"
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_checks_would_catch_a_cycle_and_a_shell_import(tmp_path):
    """The checks are not vacuous: a planted cycle (one half lazy) and a planted import of the
    web package are both found."""
    package = tmp_path / PACKAGE
    (package / "web").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "web" / "__init__.py").write_text("")
    (package / "web" / "app.py").write_text("")
    (package / "a.py").write_text("from stimwise import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from stimwise.c import X\n"
        "def f():\n    from stimwise.a import g\n    import stimwise.web.app\n"
    )
    (package / "c.py").write_text("from .b import f\n")
    assert cycles(import_graph(tmp_path, module_level=True)) == []
    graph = import_graph(tmp_path, module_level=False)
    assert cycles(graph) == [["stimwise.a", "stimwise.b"]]
    assert "stimwise.web.app" in graph["stimwise.b"] and "stimwise.b" in graph["stimwise.c"]
