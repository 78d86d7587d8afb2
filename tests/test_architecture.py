"""The package's shape, kept true: no import circles, layers that point one way, small classes.

Every import counts, function-local and ``TYPE_CHECKING`` ones included: a circle
hidden inside a function is still a circle in the design.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import gifdist

PACKAGE = Path(gifdist.__file__).parent
MAX_PUBLIC_METHODS = 20


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield _module_name(path), path, ast.parse(path.read_text(), str(path))


MODULES = {name: (path, tree) for name, path, tree in _sources()}


def _resolve(name: str) -> str | None:
    """The gifdist module an imported name lives in (a module, or the package of a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, tree: ast.Module) -> set[str]:
    found: set[str] = set()
    is_package = MODULES[module][0].name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _resolve(name) if name.startswith("gifdist") else None
            if target and target != module:
                found.add(target)
    return found


GRAPH = {name: _imports(name, tree) for name, (_, tree) in MODULES.items()}


def _without_reexports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exporting its own submodules is not a circle."""
    return {
        name: {
            t
            for t in targets
            if not (t.startswith(name + ".") and MODULES[name][0].name == "__init__.py")
        }
        for name, targets in graph.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_of(module: str, graph: dict[str, set[str]]) -> set[str]:
    """A module imports its package's ``__init__`` too when it imports a sibling."""
    return graph[module]


def test_no_import_circles_among_gifdist_modules() -> None:
    graph = _without_reexports(GRAPH)
    # importing gifdist.x.y runs gifdist/x/__init__ first: count that edge too
    for name in list(graph):
        for target in list(graph[name]):
            parent = target.rpartition(".")[0]
            while parent and parent != "gifdist":
                if parent in MODULES and not name.startswith(parent + ".") and name != parent:
                    graph[name].add(parent)
                parent = parent.rpartition(".")[0]
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_outside_the_web_layer_imports_it() -> None:
    offenders = {
        name: sorted(t for t in targets if t == "gifdist.web" or t.startswith("gifdist.web."))
        for name, targets in GRAPH.items()
        if not name.startswith("gifdist.web")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_module_loads_a_sibling_through_importlib() -> None:
    pattern = re.compile(r"import_module\(\s*[\"']gifdist")
    offenders = [name for name, (path, _) in MODULES.items() if pattern.search(path.read_text())]
    assert offenders == []


def test_no_class_has_more_than_twenty_public_methods() -> None:
    big = {}
    for name, (_, tree) in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                public = [
                    item.name
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not item.name.startswith("_")
                ]
                if len(public) > MAX_PUBLIC_METHODS:
                    big[f"{name}.{node.name}"] = len(public)
    assert big == {}


def test_every_package_the_architecture_page_names_exists() -> None:
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"^\s*[├└]─ ([a-z_]+)/", page, re.M))
    assert {"assets", "analytics", "moderation", "api", "middleware", "pages"} <= named
    for name in named:
        candidates = [PACKAGE / name, PACKAGE / "web" / name, PACKAGE / "stores"]
        assert any((c / "__init__.py").exists() for c in candidates[:2]), name


def test_seed_packages_export_a_tested_public_api() -> None:
    import importlib

    for name in ("sharelinks", "analytics", "cdn", "ratelimit", "observability", "moderation"):
        module = importlib.import_module(f"gifdist.{name}")
        exported = module.__all__
        assert exported and len(set(exported)) == len(exported), name
        for attr in exported:
            assert hasattr(module, attr), f"gifdist.{name}.{attr}"
