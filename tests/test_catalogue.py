"""The zh_Hans catalogue is complete: every string the project marks for
translation is in it, translated, not fuzzy, and compiled into the .mo."""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries(po_text):
    """msgid → (msgstr list, is_fuzzy) for every entry but the header; an
    entry with a context is keyed as gettext keys it, context\x04msgid."""
    found = {}
    for block in po_text.split("\n\n"):
        msgid = re.search(r'^msgid "(.*)"$', block, re.M)
        if not msgid or msgid.group(1) == "":
            continue
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        key = f"{context.group(1)}\x04{msgid.group(1)}" if context else msgid.group(1)
        strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', block, re.M)
        found[key] = (strs, "#, fuzzy" in block or ", fuzzy" in block)
    return found


def test_every_entry_is_translated():
    for msgid, (strs, fuzzy) in entries(PO.read_text(encoding="utf-8")).items():
        assert not fuzzy, f"fuzzy: {msgid}"
        assert strs and all(strs), f"untranslated: {msgid}"


def test_compiled_catalogue_matches_the_po():
    mo = gettext.GNUTranslations(open(PO.with_suffix(".mo"), "rb"))
    for msgid, (strs, _fuzzy) in entries(PO.read_text(encoding="utf-8")).items():
        text = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        expected = strs[0].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        assert mo.gettext(text) == expected or mo.ngettext(text, text, 1) == expected, msgid


def test_catalogue_holds_every_string_of_the_source(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(
        settings.BASE_DIR, copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "db.sqlite3", "staticfiles", "__pycache__", "tests"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--no-wrap"],
        cwd=copy, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh = entries((copy / PO.relative_to(settings.BASE_DIR)).read_text(encoding="utf-8"))
    committed = entries(PO.read_text(encoding="utf-8"))
    missing = sorted(set(fresh) - set(committed))
    assert not missing, f"run `make messages` and translate: {missing}"
    untranslated = sorted(m for m, (strs, fuzzy) in fresh.items() if fuzzy or not all(strs))
    assert not untranslated, f"run `make messages` and translate: {untranslated}"
