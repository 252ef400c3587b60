"""Where the exchange keeps files on disk, so every part of it agrees on one layout.

Under `data_dir/exchange/`:

- `tills/<TILL>/from_pos/` and `tills/<TILL>/to_pos/`: each till's FTP home;
- `processing/<TILL>/`: files the inbox has claimed (moved out of `from_pos` by one atomic
  rename, so only one taker wins) and not yet archived or quarantined; a file left here
  by a crash is taken again at the next start;
- `archive/<YYYY-MM-DD>/<TILL>/<name>`: files done with (imported, duplicate, discarded);
- `quarantine/<TILL>/<name>` with `<name>.reason` beside it: files that failed, or wait
  for the operator (a conflict).

Nothing a till sent is ever deleted: a name already taken in the archive or quarantine
gets a suffix instead of overwriting. The books store paths relative to `data_dir`, so a
data folder can be moved as a whole.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

__all__ = ["REASON_SUFFIX", "ExchangeFolders", "reason_file"]

REASON_SUFFIX = ".reason"
_TILLS = "tills"
_FROM_POS = "from_pos"
_TO_POS = "to_pos"


class ExchangeFolders:
    """The exchange's folders under one data folder, and the moves between them."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "exchange"
        self.tills = self.root / _TILLS
        self.processing_root = self.root / "processing"
        self.archive_root = self.root / "archive"
        self.quarantine_root = self.root / "quarantine"

    # -- the tills' homes ---------------------------------------------------------------

    def till_home(self, code: str) -> Path:
        """The till's FTP home, which holds `from_pos/` and `to_pos/`."""
        return self.tills / _safe(code)

    def from_pos(self, code: str) -> Path:
        return self.till_home(code) / _FROM_POS

    def to_pos(self, code: str) -> Path:
        return self.till_home(code) / _TO_POS

    def ensure(self, code: str) -> Path:
        """Create the till's home with its two folders; return the home."""
        home = self.till_home(code)
        self.from_pos(code).mkdir(parents=True, exist_ok=True)
        self.to_pos(code).mkdir(parents=True, exist_ok=True)
        return home

    def till_codes(self) -> list[str]:
        """The tills that have a home on disk, sorted."""
        if not self.tills.is_dir():
            return []
        return sorted(p.name for p in self.tills.iterdir() if p.is_dir())

    # -- the inbox's folders ------------------------------------------------------------

    def processing(self, code: str) -> Path:
        return self.processing_root / _safe(code)

    def quarantine(self, code: str) -> Path:
        return self.quarantine_root / _safe(code)

    def archive(self, code: str, day: dt.date | None = None) -> Path:
        day = day or dt.date.today()
        return self.archive_root / day.isoformat() / _safe(code)

    def processing_tills(self) -> list[str]:
        """Tills with a folder in `processing/` (where a crash may have left files)."""
        if not self.processing_root.is_dir():
            return []
        return sorted(p.name for p in self.processing_root.iterdir() if p.is_dir())

    def claim(self, path: Path, code: str) -> Path | None:
        """Move a file out of a till's upload folder into `processing/<TILL>/`.

        The move is a hard link under a free name (never over a file already there, such
        as one a hand import just put in place), then the upload's name goes; None when
        the file is gone. Takers hold the file's lock, so of several only one claims it.
        """
        try:
            return self._move(path, self.processing(code))
        except FileNotFoundError:
            return None

    def to_archive(self, path: Path, code: str, day: dt.date | None = None) -> Path:
        """Move a file into today's archive for the till; never overwrites."""
        return self._move(path, self.archive(code, day))

    def to_quarantine(self, path: Path, code: str, reason: str) -> Path:
        """Move a file into the till's quarantine with a `.reason` text beside it."""
        target = self._move(path, self.quarantine(code))
        self.write_reason(target, reason)
        return target

    @staticmethod
    def write_reason(path: Path, reason: str) -> Path:
        """Write (or replace) the `.reason` text beside a quarantined file."""
        reason_path = reason_file(path)
        reason_path.write_text(reason.rstrip("\n") + "\n", encoding="utf-8")
        return reason_path

    # -- paths as the books store them -------------------------------------------------

    def relative(self, path: Path) -> str:
        """`path` relative to the data folder, with forward slashes, as stored in the books."""
        try:
            return Path(path).resolve().relative_to(self.data_dir.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def absolute(self, relative: str) -> Path:
        """The real path of a path the books stored."""
        path = Path(relative)
        return path if path.is_absolute() else self.data_dir / path

    @staticmethod
    def free_name(folder: Path, name: str) -> Path:
        """`folder/name`, or `name~1`, `name~2`... (before the extension): the first free."""
        return _free_name(folder, name)

    def move(self, path: Path, target_dir: Path, name: str | None = None) -> Path:
        """Move a file into `target_dir` (as `name`), suffixing rather than overwriting."""
        return self._move(path, target_dir, name)

    @staticmethod
    def _move(path: Path, target_dir: Path, name: str | None = None) -> Path:
        """Move `path` into `target_dir` under `name` (its own by default), or a suffixed one.

        A hard link fails when the name exists, so two movers never overwrite each other;
        the source goes only once the link is made.
        """
        target_dir.mkdir(parents=True, exist_ok=True)
        name = name or path.name
        n = 0
        while True:
            target = target_dir / _suffixed(name, n)
            try:
                os.link(path, target)
            except FileExistsError:
                n += 1
                continue
            except OSError:
                if target.exists():
                    n += 1
                    continue
                os.rename(path, target)
                return target
            os.unlink(path)
            return target


def reason_file(path: Path) -> Path:
    """The `.reason` text beside a quarantined file."""
    return path.with_name(path.name + REASON_SUFFIX)


def _free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or the first of `name~1`, `name~2`... (before the extension) that is free."""
    n = 0
    while (folder / _suffixed(name, n)).exists():
        n += 1
    return folder / _suffixed(name, n)


def _suffixed(name: str, n: int) -> str:
    """`sales_T01_00000001.jsonl` as `sales_T01_00000001~2.jsonl` for n=2; unchanged for 0."""
    if n == 0:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name}~{n}"
    return f"{stem}~{n}.{ext}"


def _safe(code: str) -> str:
    """A till code as a single folder name: no separators, no `..`."""
    if not code or code in {".", ".."} or "/" in code or "\\" in code or "\0" in code:
        raise ValueError(f"not a till code: {code!r}")
    return code
