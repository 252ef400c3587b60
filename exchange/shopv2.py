"""The ShopV2 file format: names, reading with every check, writing exactly.

A till's file is either wholly right or refused whole, with the line and the
reason, so that an operator can quarantine it and the files after it still
import. What is fatal: a file cut short, a checksum that does not match, a line
that is not JSON, a bad header, a wrong record count, a record whose fields or
arithmetic are wrong, or a known record in the wrong kind of file. What is not:
an unknown record type (a newer till) is reported as a warning and skipped, and
unknown fields are ignored. IIS is strict in what it writes: one compact JSON
object per line, LF, UTF-8, and a trailer whose count and checksum are right.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from exchange.records import (
    INCOMING_KINDS,
    KNOWN_RECORD_TYPES,
    OUTGOING_KINDS,
    RECORD_TYPES_BY_KIND,
    Fields,
    Record,
    ShopV2Error,
    record_from_json,
    show_value,
)
from models.i18n import _

__all__ = [
    "FORMAT",
    "MODES",
    "VERSION",
    "FileName",
    "Header",
    "ParseWarning",
    "ParsedFile",
    "ShopV2Error",
    "file_name",
    "has_valid_trailer",
    "parse_file",
    "parse_name",
    "write_file",
]

FORMAT = "shopv2"
VERSION = 1
MODES = ("full", "delta")
PART_SUFFIX = ".part"

_TILL_NAME = re.compile(r"^(?P<kind>[a-z]+)_(?P<till>[A-Za-z0-9-]+)_(?P<seq>\d{8})\.jsonl$")
_IIS_NAME = re.compile(r"^(?P<kind>[a-z]+)_(?P<seq>\d{8})\.jsonl$")


@dataclass(frozen=True, slots=True)
class FileName:
    """What a complete file's name says. `till` is None for a file IIS writes."""

    kind: str
    till: str | None
    seq: int

    @property
    def incoming(self) -> bool:
        """True for till -> IIS (`<kind>_<till>_<seq>.jsonl`)."""
        return self.till is not None

    def __str__(self) -> str:
        return file_name(self.kind, self.seq, self.till)


def parse_name(name: str) -> FileName | None:
    """The kind, till and sequence in a file name, or None for anything else.

    A `.part` name is an upload still in progress and never complete. A kind
    must travel in its own direction: `sales_T01_...` from a till, `catalog_...`
    to one; a name the other way round is not a ShopV2 file.
    """
    if name.endswith(PART_SUFFIX):
        return None
    match = _TILL_NAME.match(name)
    if match and match["kind"] in INCOMING_KINDS:
        till: str | None = match["till"]
    else:
        match = _IIS_NAME.match(name)
        if not match or match["kind"] not in OUTGOING_KINDS:
            return None
        till = None
    seq = int(match["seq"])
    if seq < 1:
        return None
    return FileName(kind=match["kind"], till=till, seq=seq)


def file_name(kind: str, seq: int, till: str | None = None) -> str:
    """The contract's name for a file: with the till when it comes from one."""
    if till is None:
        return f"{kind}_{seq:08d}.jsonl"
    return f"{kind}_{till}_{seq:08d}.jsonl"


@dataclass(frozen=True, slots=True)
class Header:
    kind: str
    till: str
    store: str
    seq: int
    created: datetime
    mode: str | None = None
    version: int = VERSION


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something skipped but not fatal, such as a record type this IIS does not know."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class ParsedFile:
    header: Header
    records: tuple[Record, ...]
    warnings: tuple[ParseWarning, ...]
    #: The record count the trailer states (skipped records included).
    count: int
    sha256: str


def _split(data: bytes) -> list[bytes]:
    """The file's lines, each with its LF; the last one lacks it when the file is cut short."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _load(raw: bytes, number: int) -> dict[str, Any]:
    """One line as a JSON object with a string `type`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ShopV2Error(
            _("line {line}: the text is not UTF-8").format(line=number), number
        ) from None
    if not text.strip():
        raise ShopV2Error(_("line {line} is empty").format(line=number), number)
    try:
        obj = json.loads(text)
    except ValueError:
        raise ShopV2Error(
            _("line {line}: not JSON: {text}").format(line=number, text=show_value(text.strip())),
            number,
        ) from None
    if not isinstance(obj, dict):
        raise ShopV2Error(_("line {line}: not a JSON object").format(line=number), number)
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind:
        raise ShopV2Error(_("line {line}: the record has no type").format(line=number), number)
    return obj


def _trailer(lines: list[bytes]) -> tuple[dict[str, Any], int]:
    """The trailer object and its line number; a file without one was cut short."""
    number = len(lines)
    last = lines[-1]
    if not last.endswith(b"\n"):
        raise ShopV2Error(
            _(
                "line {line}: the file is cut short: the last line is incomplete "
                "and there is no trailer"
            ).format(line=number),
            number,
        )
    try:
        obj = _load(last, number)
    except ShopV2Error as error:
        raise ShopV2Error(
            _(
                "line {line}: the file is cut short: the last line is not a trailer ({reason})"
            ).format(line=number, reason=error.reason),
            number,
        ) from None
    if obj["type"] != "trailer":
        raise ShopV2Error(
            _(
                "line {line}: the file is cut short: the last line is a {type} record, "
                "not the trailer"
            ).format(line=number, type=obj["type"]),
            number,
        )
    if number < 2:
        raise ShopV2Error(_("line {line}: the file has no header").format(line=1), 1)
    return obj, number


def _header(obj: dict[str, Any]) -> Header:
    f = Fields(obj, 1)
    if obj["type"] != "header":
        f.fail(
            _("line {line}: the first line is a {type} record, not the header"), type=obj["type"]
        )
    if obj.get("format") != FORMAT:
        f.fail(
            _('line {line}: the format is {value}, not "shopv2"'),
            value=show_value(obj.get("format")),
        )
    version = f.integer("version")
    if version != VERSION:
        f.fail(_("line {line}: version {value} is not supported (only 1)"), value=version)
    kind = f.text("kind")
    if kind not in RECORD_TYPES_BY_KIND:
        f.fail(_("line {line}: unknown file kind {value}"), value=show_value(kind))
    mode = f.choice("mode", MODES, required=True) if kind in OUTGOING_KINDS else None
    seq = f.integer("seq")
    if seq < 1:
        f.fail(_("line {line}: {field} must be 1 or more, not {value}"), "seq", value=seq)
    return Header(
        kind=kind,
        till=f.text("till"),
        store=f.text("store"),
        seq=seq,
        created=f.time("created"),
        mode=mode,
        version=version,
    )


def _checksum(data: bytes, lines: list[bytes], trailer: dict[str, Any]) -> str:
    """The SHA-256 of every byte before the trailer line, checked against the trailer."""
    body_end = len(data) - len(lines[-1])
    actual = hashlib.sha256(memoryview(data)[:body_end]).hexdigest()
    stated = trailer.get("sha256")
    if not isinstance(stated, str) or stated.lower() != actual:
        number = len(lines)
        shown = stated[:80] if isinstance(stated, str) else show_value(stated)
        raise ShopV2Error(
            _(
                "line {line}: checksum mismatch: the trailer says {stated}, the content is {actual}"
            ).format(line=number, stated=shown, actual=actual),
            number,
        )
    return actual


def parse_file(data: bytes) -> ParsedFile:
    """Read a whole ShopV2 file, or raise `ShopV2Error` with the line and the reason.

    The trailer and checksum are checked before any record is read: a file
    changed or cut in transit is reported as such, not as whatever its damaged
    record happens to look like.
    """
    if not data:
        raise ShopV2Error(_("line {line}: the file is empty").format(line=1), 1)
    lines = _split(data)
    header_obj = _load(lines[0], 1)
    trailer, trailer_line = _trailer(lines)
    sha = _checksum(data, lines, trailer)
    header = _header(header_obj)
    count = Fields(trailer, trailer_line).count("records")
    if count != trailer_line - 2:
        raise ShopV2Error(
            _("line {line}: the trailer counts {count} records but the file has {actual}").format(
                line=trailer_line, count=count, actual=trailer_line - 2
            ),
            trailer_line,
        )
    allowed = RECORD_TYPES_BY_KIND[header.kind]
    records: list[Record] = []
    warnings: list[ParseWarning] = []
    for number in range(2, trailer_line):
        obj = _load(lines[number - 1], number)
        kind = obj["type"]
        if kind in allowed:
            records.append(record_from_json(obj, number))
        elif kind in ("header", "trailer"):
            raise ShopV2Error(
                _("line {line}: a {type} in the middle of the file").format(line=number, type=kind),
                number,
            )
        elif kind in KNOWN_RECORD_TYPES:
            raise ShopV2Error(
                _("line {line}: a {type} record does not belong in a {kind} file").format(
                    line=number, type=kind, kind=header.kind
                ),
                number,
            )
        else:
            message = _("line {line}: unknown record type {type}, skipped").format(
                line=number, type=show_value(kind)
            )
            warnings.append(ParseWarning(number, message))
    return ParsedFile(
        header=header, records=tuple(records), warnings=tuple(warnings), count=count, sha256=sha
    )


def has_valid_trailer(data: bytes) -> bool:
    """Whether a file uploaded under its final name is complete.

    Tills that cannot rename upload straight to the final name, so a file seen
    mid-upload looks finished by its name. It is complete only once its last
    line is a trailer whose checksum matches everything before it.
    """
    if not data.endswith(b"\n"):
        return False
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    if start == 0:
        return False
    try:
        trailer = json.loads(data[start:])
    except ValueError:
        return False
    if not isinstance(trailer, dict) or trailer.get("type") != "trailer":
        return False
    stated = trailer.get("sha256")
    actual = hashlib.sha256(memoryview(data)[:start]).hexdigest()
    return isinstance(stated, str) and stated.lower() == actual


def _plain(value: Any) -> Any:
    """Decimals, dates and times as the contract writes them; anything else is a bug."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a time without a UTC offset cannot be written: {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to a ShopV2 file: {value!r}")


def _refuse_floats(value: Any) -> None:
    """Money and quantities are decimal strings; a float here is a caller's bug."""
    kind = type(value)
    if kind is dict:
        for item in value.values():
            if type(item) in _CONTAINERS:
                _refuse_floats(item)
    elif kind is list or kind is tuple:
        for item in value:
            if type(item) in _CONTAINERS:
                _refuse_floats(item)
    elif kind is float:
        raise TypeError(f"a float cannot be written to a ShopV2 file: {value!r}")


_CONTAINERS = frozenset({dict, list, tuple, float})

_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain
).encode


def write_file(
    kind: str,
    till: str,
    store: str,
    seq: int,
    records: Iterable[dict[str, Any]],
    mode: str | None = None,
    created: datetime | None = None,
) -> bytes:
    """A complete ShopV2 file: header, one compact JSON line per record, trailer.

    Files IIS publishes (`catalog`, `customers`, ...) must say whether they are
    the `full` set or a `delta`; files of a till's kinds carry no mode (IIS
    writes those only to test itself). Each record must be a dict whose `type`
    belongs in this kind of file. `Decimal`, `date` and aware `datetime` values
    are written as the contract's strings; floats are refused.
    """
    if kind not in RECORD_TYPES_BY_KIND:
        raise ValueError(f"unknown file kind {kind!r}")
    if kind in OUTGOING_KINDS and mode not in MODES:
        raise ValueError(f"a {kind} file needs mode 'full' or 'delta', not {mode!r}")
    if kind in INCOMING_KINDS and mode is not None:
        raise ValueError(f"a {kind} file carries no mode")
    if not isinstance(till, str) or not till or not isinstance(store, str) or not store:
        raise ValueError(f"till and store must be codes, not {till!r} and {store!r}")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"seq must be a whole number from 1, not {seq!r}")
    moment = datetime.now().astimezone().replace(microsecond=0) if created is None else created
    header: dict[str, Any] = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "till": till,
        "store": store,
        "seq": seq,
        "created": _plain(moment),
    }
    if mode is not None:
        header["mode"] = mode
    allowed = RECORD_TYPES_BY_KIND[kind]
    lines = [_encode(header)]
    append = lines.append
    for record in records:
        if type(record) is not dict or record.get("type") not in allowed:
            raise ValueError(f"not a record of a {kind} file: {record!r}")
        _refuse_floats(record)
        append(_encode(record))
    body = ("\n".join(lines) + "\n").encode("utf-8")
    trailer = {
        "type": "trailer",
        "records": len(lines) - 1,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return body + (_encode(trailer) + "\n").encode("utf-8")
