"""Operator-facing text goes through gettext; English is the source, Russian ships.

The language is chosen once, before any screen class is defined (Textual
fixes binding descriptions at class definition): `setup_language()` from the
command line's `--lang`, else IIS_LANG, else the locale (LANGUAGE, LC_ALL,
LC_MESSAGES, LANG). Catalogs live in `models/locale/<lang>/LC_MESSAGES/iis.po`
with the compiled `.mo` beside them; when a `.mo` is missing (a source
checkout) the `.po` is read directly through Babel, so a plain install and a
checkout speak the same language.

It sits in `models/` because every layer speaks to operators, and `models/`
is the one layer every other may import.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "iis"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "ru")

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _(message: str) -> str:
    """Translate `message` into the chosen language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def current_language() -> str:
    return _language


def _from_environment() -> str:
    for var in ("IIS_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value and value not in ("C", "POSIX"):
            return value.split(":")[0]
    return "en"


def setup_language(language: str | None = None) -> str:
    """Choose the interface language; returns the two-letter code in force."""
    global _translations, _language
    code = (language or _from_environment()).split(".")[0].split("_")[0].lower() or "en"
    if code not in LANGUAGES:
        code = "en"
    _language = code
    _translations = _load(code)
    return code


def _load(code: str) -> gettext.NullTranslations:
    if code == "en":
        return gettext.NullTranslations()
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    mo = folder / f"{DOMAIN}.mo"
    po = folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po.exists():
        return _compile_po(po)
    return gettext.NullTranslations()


def _compile_po(po: Path) -> gettext.NullTranslations:
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
