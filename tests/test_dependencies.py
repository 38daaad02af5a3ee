"""Dependencies run one way (STYLE §16):

    shops  ←  compliance.calendar, compliance.rules  ←  compliance.models  ←  compliance.selectors
           ←  compliance.services  ←  admin, portal, api, commands

``shops`` is who, ``compliance`` is what happens to them; compliance imports
shops, never the reverse. Selectors read and never import a service; models
import neither. No import hides inside a function except to break a true
cycle, with a comment that says so (or in an AppConfig's ``ready``)."""

import ast
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.add(node.module)
            elif node.level:  # relative: resolve against the file's package
                package = path.relative_to(BASE).with_suffix("").parts[:-node.level]
                names.add(".".join([*package, *([node.module] if node.module else [])]))
    return names


def python_files(folder: str):
    return [p for p in (BASE / folder).rglob("*.py") if "migrations" not in p.parts]


def offenders(paths, forbidden) -> dict:
    found = {}
    for path in paths:
        bad = sorted(m for m in imported_modules(path) if m.startswith(forbidden))
        if bad:
            found[str(path.relative_to(BASE))] = bad
    return found


def test_shops_never_imports_compliance():
    assert offenders(python_files("shops"), ("compliance",)) == {}


def test_models_import_no_services_or_selectors():
    forbidden = ("compliance.services", "compliance.selectors", "compliance.admin", "compliance.portal",
                 "compliance.api")
    assert offenders(python_files("compliance/models") + [BASE / "shops" / "models.py"], forbidden) == {}


def test_selectors_import_no_service():
    forbidden = ("compliance.services", "compliance.admin", "compliance.portal", "compliance.api",
                 "compliance.notifications")
    assert offenders(python_files("compliance/selectors"), forbidden) == {}


def test_the_calendar_and_the_rules_are_below_everything():
    """Pure: they import neither models nor reads nor writes."""
    forbidden = ("compliance.models", "compliance.selectors", "compliance.services", "shops")
    assert offenders([BASE / "compliance" / "calendar.py", BASE / "compliance" / "rules.py"], forbidden) == {}


def test_services_are_not_imported_by_what_they_use():
    """Nothing below the services (models, selectors, rules, calendar,
    notifications, wording) imports one."""
    below = [*python_files("compliance/models"), *python_files("compliance/selectors"),
             *(BASE / "compliance" / name for name in ("rules.py", "calendar.py", "notifications.py", "wording.py"))]
    assert offenders(below, ("compliance.services",)) == {}


def test_no_import_inside_a_function_without_a_reason():
    """An import inside a function hides a dependency; it is allowed only to
    break a true cycle, said in a comment just above it, or in an
    AppConfig's ``ready`` (the app registry must be ready first)."""
    hidden = []
    for path in [*python_files("compliance"), *python_files("shops"), *python_files("config")]:
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and inner is not node:
                    above = lines[inner.lineno - 2] if inner.lineno > 1 else ""
                    if node.name == "ready" or "cycle" in above or "registry" in above:
                        continue
                    hidden.append(f"{path.relative_to(BASE)}:{inner.lineno}")
    assert hidden == []
