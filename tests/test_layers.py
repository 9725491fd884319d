"""The package's layers (docs/DESIGN.md, "Layers and who imports whom") hold in the code: no import
circle, no import up a layer, and an import inside a function only where a comment says why."""

from __future__ import annotations

import ast
import re
import sys
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "lab_utils"
COMMAND_LINE = {"__main__", "cli"}  # import inside commands for a fast --help: their reason is said once, here


def design_layers() -> dict[str, int]:
    """Top-level module (or subpackage) -> its layer's number, from DESIGN.md's table."""
    text = (REPO / "docs" / "DESIGN.md").read_text()
    section = text.split("## Layers and who imports whom", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for line in section.splitlines():
        row = re.match(r"\|\s*(\d+)\.[^|]*\|([^|]*)\|", line)
        if row:
            for name in re.findall(r"`([\w.]+)`\s*(?:\([^)]*\))?", row.group(2)):
                layers[name] = int(row.group(1))
    return layers


def module_name(path: Path) -> str:
    """``lab_utils/styles/build.py`` -> ``styles.build``; ``__init__`` names its package."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def _type_checking_nodes(tree: ast.Module) -> set[ast.AST]:
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden |= {n for stmt in node.body for n in ast.walk(stmt)}
    return hidden


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The lab_utils modules an import statement names (a name that is a module counts as one)."""
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    if isinstance(node, ast.Import):
        bases = [a.name.removeprefix("lab_utils.") for a in node.names if a.name.startswith("lab_utils.")]
        return [b for b in bases if b in known]
    if node.level:
        here = module.split(".")
        package = here[: len(here) - node.level] if not (PACKAGE / f"{module.replace('.', '/')}/__init__.py").exists() \
            else here[: len(here) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    elif node.module and node.module.split(".")[0] == "lab_utils":
        base = node.module.removeprefix("lab_utils").lstrip(".")
    else:
        return []
    found = [f"{base}.{a.name}".lstrip(".") for a in node.names if f"{base}.{a.name}".lstrip(".") in known]
    return found or ([base] if base in known else [])


@lru_cache(maxsize=1)
def import_edges() -> list[tuple[str, str, bool, bool, str]]:
    """(importer, imported, inside a function, only for type hints, the lines around it) for every
    import of a lab_utils module by another."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, text = module_name(path), path.read_text()
        tree, lines = ast.parse(text), text.splitlines()
        hidden = _type_checking_nodes(tree)
        top = {id(n) for n in tree.body} | {id(n) for n in hidden}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                context = "\n".join(lines[max(0, node.lineno - 2) : node.end_lineno])
                for target in _resolve(module, node):
                    if target != module:
                        edges.append((module, target, id(node) not in top, node in hidden, context))
    return edges


def layer_of(module: str, layers: dict[str, int]) -> int:
    name = module if module in layers else module.split(".")[0]
    assert name in layers, f"lab_utils/{module.replace('.', '/')}.py is in no layer of docs/DESIGN.md's table"
    return layers[name]


def test_every_module_has_a_layer_and_imports_run_downwards():
    layers = design_layers()
    assert len(set(layers.values())) == 7 and "pieces" in layers and "evaluate" in layers
    upward = [f"{a} (layer {layer_of(a, layers)}) imports {b} (layer {layer_of(b, layers)})"
              for a, b, _, type_only, _ in import_edges()
              if not type_only and layer_of(b, layers) > layer_of(a, layers)]
    assert not upward, "imports up a layer:\n" + "\n".join(upward)


def find_circle(edges: set[tuple[str, str]]) -> list[str] | None:
    """A circle in the graph, as the modules along it, or None."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_circle():
    # a package's modules import each other through the package: styles.build -> styles.places is no circle
    edges = {(a, b) for a, b, _, type_only, _ in import_edges() if not type_only and not a.startswith(b + ".")}
    circle = find_circle(edges)
    assert circle is None, "import circle: " + " -> ".join(circle)


def test_the_circle_finder_finds_one():
    assert find_circle({("a", "b"), ("b", "c"), ("c", "a")}) == ["a", "b", "c", "a"]
    assert find_circle({("a", "b"), ("b", "c"), ("a", "c")}) is None


def test_imports_inside_functions_say_why():
    silent = [f"{a} -> {b}:\n{context}" for a, b, inside, type_only, context in import_edges()
              if inside and not type_only and a.split(".")[0] not in COMMAND_LINE and "#" not in context]
    assert not silent, "imports inside functions without a reason in a comment:\n" + "\n".join(silent)


@pytest.mark.parametrize("line, expected", [
    ("| 3. styles | `styles` (`places`, `build`), `chorales` | x |", {"styles": 3, "chorales": 3}),
    ("| styles | `styles` | no number: not a layer row |", {}),
])
def test_layer_rows_are_read(line, expected, monkeypatch, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "DESIGN.md").write_text(f"## Layers and who imports whom\n\n{line}\n\n## Next\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert design_layers() == expected
