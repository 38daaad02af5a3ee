"""The picture of the code's layers, drawn from its real imports.

    .venv/bin/python tools/import_graph.py            # print the Mermaid graph
    .venv/bin/python tools/import_graph.py --write    # refresh it in docs/ARCHITECTURE.md

Every module-level ``import`` of the application (migrations aside) is read
with ``ast`` and folded into layers; an arrow ``A --> B`` says that some
module of A imports one of B, labelled with how many modules do. The graph
has to point one way — the entry points down to services, services to
selectors, selectors to models, everything to ``shops`` — and
tests/test_dependencies.py fails the build when it does not;
tests/test_architecture_doc.py fails when the picture in the document is
not the one these imports draw.
"""

import argparse
import ast
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
BEGIN, END = "<!-- import-graph:begin -->", "<!-- import-graph:end -->"

# (layer, module prefixes), most specific first: a module belongs to the first layer that names it.
LAYERS = [
    ("entry points: admin, portal, API, commands", ("compliance.admin", "compliance.admin_site", "compliance.portal",
                                                   "compliance.api", "compliance.management", "compliance.public",
                                                   "compliance.exports", "compliance.forms", "compliance.tasks", "compliance.worker", "config.urls",
                                                   "config.wsgi", "config.asgi", "config.views", "config.middleware",
                                                   "compliance.templatetags", "shops.admin", "shops.management")),
    ("services: every write", ("compliance.services",)),
    ("notifications", ("compliance.notifications",)),
    ("the task queue: wake-ups, a task's share", ("compliance.queueing",)),
    ("selectors: every read", ("compliance.selectors",)),
    ("models", ("compliance.models",)),
    ("rules and calendar: pure", ("compliance.rules", "compliance.calendar")),
    ("wording and exceptions", ("compliance.wording", "compliance.exceptions")),
    ("shops: who", ("shops",)),
    ("config: settings, database routing, middleware", ("config",)),
]
IGNORED = ("compliance.migrations", "shops.migrations", "compliance.apps", "shops.apps")


def layer_of(module: str) -> str | None:
    if module.startswith(IGNORED):
        return None
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (imports inside functions are the
    documented cycle-breakers: tests/test_dependencies.py keeps them few)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                found.add(".".join([*base, *([node.module] if node.module else [])]))
                # "from . import measures": the names may be modules of the package.
                found |= {".".join([*base, *([node.module] if node.module else []), alias.name])
                          for alias in node.names}
            elif node.module:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def edges() -> Counter:
    """(from layer, to layer) → how many modules of the first import the second."""
    counted: Counter = Counter()
    for folder in ("compliance", "shops", "config"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = layer_of(module_name(path))
            if source is None:
                continue
            targets = {layer_of(m) for m in top_level_imports(path)} - {None, source}
            for target in targets:
                counted[(source, target)] += 1
    return counted


def mermaid() -> str:
    ids = {name: f"L{i}" for i, (name, _prefixes) in enumerate(LAYERS)}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'    {ids[name]}["{name}"]' for name, _prefixes in LAYERS]
    for (source, target), count in sorted(edges().items(), key=lambda e: (ids[e[0][0]], ids[e[0][1]])):
        lines.append(f"    {ids[source]} -->|{count}| {ids[target]}")
    lines.append("```")
    return "\n".join(lines)


def upward() -> list[tuple[str, str]]:
    """Edges that point up the list of layers (none may)."""
    order = {name: i for i, (name, _prefixes) in enumerate(LAYERS)}
    return sorted((s, t) for (s, t) in edges() if order[t] < order[s])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"refresh the graph in {DOC.relative_to(ROOT)}")
    args = parser.parse_args()
    graph = mermaid()
    if args.write:
        text = DOC.read_text()
        block = f"{BEGIN}\n{graph}\n{END}"
        DOC.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S))
    print(graph)
    if upward():
        print("edges pointing up:", upward(), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
