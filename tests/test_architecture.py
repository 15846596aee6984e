"""The house rules, read off the source (docs/architecture.md): one direction of imports, no circles.

Every import counts, wherever it is written: at the top, inside a function, under ``TYPE_CHECKING``,
or by name through ``importlib.import_module("...")``. A lazy import still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "desktop", "sbf")

# The engine's layers, lowest first: a layer imports only from layers below it (and itself).
ENGINE_LAYERS = (
    ("engine.config", "engine.errors"),
    ("engine.audio",),
    ("engine.models",),
    ("engine.analysis",),
    ("engine.search",),
    ("engine.library",),
    ("engine.training",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every module name ``path`` imports, statically or by a literal name given to import_module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Dict):  # lazy-export tables: {"Library": "engine.library", ...}
            names.update(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
                         and v.value.startswith(tuple(f"{p}." for p in PACKAGES)))
    return names


def project_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name that is a package's attribute maps to the package)."""
    paths = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        targets = set()
        for imported in imported_names(path):
            while imported and imported not in paths:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def external_imports(package: str) -> dict[str, set[str]]:
    return {module_name(p): imported_names(p) for p in (ROOT / package).rglob("*.py")}


def test_no_import_circles():
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("forbidden", ["desktop", "sbf", "PySide6", "shiboken6"])
def test_the_engine_never_imports_the_gui_or_the_cli(forbidden):
    offenders = {m: sorted(n for n in names if n.split(".")[0] == forbidden)
                 for m, names in external_imports("engine").items()}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_desktop_never_imports_the_cli():
    offenders = {m: sorted(n for n in names if n.split(".")[0] == "sbf") for m, names in external_imports("desktop").items()}
    assert {m: n for m, n in offenders.items() if n} == {}


def layer_of(module: str) -> int | None:
    for level, prefixes in enumerate(ENGINE_LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    return None


def test_engine_layers_import_only_downwards():
    upward = []
    for module, targets in project_graph().items():
        mine = layer_of(module)
        if mine is None:
            continue
        upward += [f"{module} -> {t}" for t in sorted(targets) if (layer_of(t) or 0) > mine]
    assert upward == []


def test_only_training_imports_torch():
    torch_users = sorted(m for pkg in PACKAGES for m, names in external_imports(pkg).items()
                         if any(n.split(".")[0] == "torch" for n in names))
    allowed = ("engine.training.", "engine.models.torch_")
    assert [m for m in torch_users if not m.startswith(allowed)] == []
