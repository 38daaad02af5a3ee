"""Dependencies run one way (STYLE §16): ``shops`` is who, ``compliance`` is
what happens to them; compliance imports shops, never the reverse, and models
import no services."""

import ast
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str):
    return [p for p in (BASE / folder).rglob("*.py") if "migrations" not in p.parts]


def test_shops_never_imports_compliance():
    offenders = {str(p.relative_to(BASE)): sorted(m for m in imported_modules(p) if m.split(".")[0] == "compliance")
                 for p in python_files("shops")}
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_models_import_no_services_or_views():
    forbidden = ("compliance.services", "compliance.admin", "compliance.portal", "compliance.selectors")
    offenders = {}
    for path in python_files("compliance/models") + python_files("shops"):
        if path.name != "models.py" and "models" not in path.parts:
            continue
        bad = sorted(m for m in imported_modules(path) if m.startswith(forbidden))
        if bad:
            offenders[str(path.relative_to(BASE))] = bad
    assert offenders == {}
