"""Every operator-facing text has its Russian translation, and the catalog compiles.

The texts are extracted from the source the way `pybabel extract` does
(keywords `_` and `ngettext`), so a new message without a translation fails
here, naming it, instead of showing up in English on a Russian screen.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from models.i18n import LOCALE_DIR, _, setup_language

ROOT = Path(__file__).resolve().parents[1]
PO = LOCALE_DIR / "ru" / "LC_MESSAGES" / "iis.po"
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def source_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in ("models", "exchange", "console"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{package}/{filename}:{lineno}")
    return found


def test_every_message_has_a_russian_translation():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    missing = {m: where for m, where in source_messages().items() if m not in translated}
    listing = "\n".join(f"{where}: {m!r}" for m, where in sorted(missing.items(), key=str))
    assert not missing, f"{len(missing)} messages lack a Russian translation:\n{listing}"


def test_russian_is_chosen_by_option_and_english_by_default():
    assert setup_language("ru") == "ru"
    assert _("error: {message}") != "error: {message}"
    assert setup_language("en") == "en"
    assert _("error: {message}") == "error: {message}"


def test_placeholders_survive_translation():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    import re

    field = re.compile(r"\{(\w*)\}")
    wrong = [
        m.id
        for m in catalog
        if m.id
        and m.string
        and isinstance(m.id, str)
        and set(field.findall(m.id)) != set(field.findall(m.string))
    ]
    assert not wrong, f"placeholders differ in: {wrong}"
