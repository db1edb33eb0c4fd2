"""Read and write Pol.is conversation exports and Pol.is math fixtures.

Vote sign, as everywhere in Participate: agree = +1, disagree = -1, pass = 0 (Pol.is's CSV exports and
red-dwarf's fixtures use the same sign; see ``polis-math.md`` §0 and §12).

Readers
    :func:`read_polis_export` reads a Pol.is export folder (or a zip of one): ``votes.csv`` (full history),
    or ``participants-votes.csv`` / ``participant-votes.csv`` when there is no ``votes.csv``;
    ``comments.csv`` in both the 8-column and the newer (``is-meta``, ``is-seed``...) header; ``summary.csv``.
    :func:`read_math_fixture` reads a red-dwarf / Pol.is math fixture folder (``votes.json``,
    ``comments.json``, ``conversation.json``, ``math-pca2.json``).
    :func:`read_conversation` picks the right one.

Writer
    :func:`write_polis_export` writes the five current Pol.is export files of ``polis-math.md`` §12 from a
    :class:`PolisExport` (plain arrays and :class:`Statement` records) and, optionally, an analysis result.

Text cells that a spreadsheet would run as formulas (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) are
written with a leading ``'`` (:mod:`analysis.csv_safe`, as OWASP recommends); the reader removes that quote
again, so our round trip is exact. Other Pol.is tools show such texts with the quote in front.

Malformed input raises :class:`PolisFormatError`, whose message names the file and row. Rows are counted as
a spreadsheet shows them: the CSV header is row 1 (a quoted multi-line cell stays in one row); in JSON files,
row n is the n-th element of the top-level list.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis import csv_safe

if TYPE_CHECKING:
    from analysis import AnalysisResult

__all__ = [
    "COMMENTS_HEADER",
    "COMMENT_GROUPS_HEADER",
    "PARTICIPANT_VOTES_HEADER",
    "SUMMARY_KEYS",
    "VOTES_HEADER",
    "PolisExport",
    "PolisFormatError",
    "Statement",
    "Votes",
    "read_conversation",
    "read_math_fixture",
    "read_polis_export",
    "write_polis_export",
]

#: Timestamps above this are epoch milliseconds, below it epoch seconds (1e12 s is in the year 33658).
MS_THRESHOLD = 1e12
#: Ids are stored in signed 64-bit columns; a larger id in a file is malformed, not an overflow.
MAX_ID = 2**63 - 1
#: The last second of year 9999 (UTC): later timestamps cannot be dates anywhere (Python, SQL).
MAX_TIMESTAMP = 253402300799.0

#: Exact headers of the files written by :func:`write_polis_export` (``polis-math.md`` §12).
SUMMARY_KEYS = (
    "topic",
    "url",
    "voters",
    "voters-in-conv",
    "commenters",
    "comments",
    "groups",
    "conversation-description",
)
COMMENTS_HEADER = (
    "timestamp",
    "datetime",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "comment-body",
)
VOTES_HEADER = ("timestamp", "datetime", "comment-id", "voter-id", "vote")
PARTICIPANT_VOTES_HEADER = ("participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
COMMENT_GROUPS_HEADER = (
    "comment-id",
    "comment",
    "total-votes",
    "total-agrees",
    "total-disagrees",
    "total-passes",
)

_PARTICIPANT_VOTES_FIXED = {*PARTICIPANT_VOTES_HEADER, "xid"}
_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no", ""}


class PolisFormatError(ValueError):
    """Malformed Pol.is data; the message names the file, the row (when there is one) and the reason."""

    def __init__(self, file: str, row: int | None, reason: str) -> None:
        self.file = file
        self.row = row
        self.reason = reason
        where = f"{file} row {row}" if row is not None else file
        super().__init__(f"{where}: {reason}")


# ----------------------------------------------------------------------------------------------------
# Data model
# ----------------------------------------------------------------------------------------------------


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Votes:
    """Vote records as four parallel 1-D arrays of length n, always in time order.

    ``participant_ids`` and ``statement_ids`` are int64, ``values`` int8 (+1 agree, -1 disagree, 0 pass),
    ``timestamps`` float64 epoch seconds (NaN = unknown, sorted first). Construction sorts the records by
    timestamp with a *stable* sort, so records with equal (or unknown) timestamps keep their given order and
    "last occurrence of a (participant, statement) pair wins" is the same as "latest vote wins".
    """

    participant_ids: np.ndarray
    statement_ids: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray

    def __post_init__(self) -> None:
        pids = np.asarray(self.participant_ids, dtype=np.int64).reshape(-1)
        sids = np.asarray(self.statement_ids, dtype=np.int64).reshape(-1)
        values = np.asarray(self.values).reshape(-1)
        ts = np.asarray(self.timestamps, dtype=np.float64).reshape(-1)
        n = pids.shape[0]
        if not (sids.shape[0] == values.shape[0] == ts.shape[0] == n):
            raise ValueError(
                f"Votes arrays must have the same length, got {n}, {sids.shape[0]}, {values.shape[0]}, {ts.shape[0]}"
            )
        if n and not np.isin(values, (-1, 0, 1)).all():
            bad = values[~np.isin(values, (-1, 0, 1))][0].item()
            raise ValueError(f"vote values must be -1, 0 or 1, got {bad!r}")
        values = values.astype(np.int8)
        # Unknown timestamps count as the oldest; a stable sort keeps the given order among equals.
        order = np.argsort(np.where(np.isnan(ts), -np.inf, ts), kind="stable")
        if n and not (order == np.arange(n)).all():
            pids, sids, values, ts = pids[order], sids[order], values[order], ts[order]
        else:
            pids, sids, values, ts = pids.copy(), sids.copy(), values.copy(), ts.copy()
        for name, array in (
            ("participant_ids", pids),
            ("statement_ids", sids),
            ("values", values),
            ("timestamps", ts),
        ):
            object.__setattr__(self, name, _readonly(array))

    @classmethod
    def from_records(cls, records: Iterable[Sequence[Any]]) -> Votes:
        """Build from ``(participant_id, statement_id, vote, timestamp_seconds_or_None)`` tuples."""
        rows = list(records)
        if not rows:
            return cls.empty()
        pids, sids, values, ts = zip(*rows, strict=True)
        return cls(
            np.array(pids, dtype=np.int64),
            np.array(sids, dtype=np.int64),
            np.array(values, dtype=np.int64),
            np.array([np.nan if t is None else float(t) for t in ts], dtype=np.float64),
        )

    @classmethod
    def empty(cls) -> Votes:
        """No votes."""
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0))

    def __len__(self) -> int:
        return int(self.participant_ids.shape[0])

    @property
    def has_timestamps(self) -> bool:
        """True when every vote has a known timestamp."""
        return not bool(np.isnan(self.timestamps).any())

    def take(self, index: np.ndarray) -> Votes:
        """The records selected by a boolean mask or an increasing index array (time order is kept)."""
        return Votes(self.participant_ids[index], self.statement_ids[index], self.values[index], self.timestamps[index])

    def latest(self) -> Votes:
        """One vote per (participant, statement): the last one; returned in time order of those last votes."""
        n = len(self)
        if n == 0:
            return self
        pids, sids = self.participant_ids, self.statement_ids
        s_min, s_max = int(sids.min()), int(sids.max())
        p_min, p_max = int(pids.min()), int(pids.max())
        span = s_max - s_min + 1
        if (p_max - p_min + 1) * span < 2**62:
            key = (pids - p_min) * span + (sids - s_min)
            _, first_in_reversed = np.unique(key[::-1], return_index=True)
        else:  # ids too far apart to pack into one int64
            _, first_in_reversed = np.unique(np.stack([pids, sids], 1)[::-1], axis=0, return_index=True)
        keep = np.sort(n - 1 - first_in_reversed)
        if keep.shape[0] == n:
            return self
        return self.take(keep)

    def until(self, timestamp: float) -> Votes:
        """The votes cast at or before ``timestamp`` (seconds)."""
        return self.take(self.timestamps <= timestamp)

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(participant_ids, statement_ids, values)``, the input ``run_analysis`` accepts."""
        return self.participant_ids, self.statement_ids, self.values


@dataclass(frozen=True)
class Statement:
    """One statement ("comment" in Pol.is): ``moderated`` is 1 accepted, 0 unmoderated, -1 rejected."""

    id: int
    text: str = ""
    author_id: int | None = None
    moderated: int = 0
    is_meta: bool = False
    is_seed: bool | None = None  # None: the source does not say (no ``is-seed`` column, which our export omits)
    timestamp: float | None = None  # epoch seconds

    def __post_init__(self) -> None:
        if self.moderated not in (-1, 0, 1):
            raise ValueError(f"moderated must be -1, 0 or 1, got {self.moderated!r}")


@dataclass(frozen=True, eq=False)
class PolisExport:
    """A conversation as Pol.is exports it: the input of :func:`write_polis_export`, the readers' output.

    ``votes`` is the full vote history (use :meth:`latest` for the current votes); ``statements`` are sorted
    by id; ``polis_groups`` maps participant id → Pol.is's own opinion-group id (0-based; only clustered
    participants), empty when the source has none; ``summary`` holds the ``summary.csv`` keys (``topic``,
    ``url``, ``conversation-description``...) as strings; ``source`` says where it was read from;
    ``participant_metadata`` the participant-votes file's metadata columns, as :func:`read_participant_metadata`
    reads them (read in the same pass as its votes).
    """

    votes: Votes
    statements: tuple[Statement, ...] = ()
    polis_groups: Mapping[int, int] = field(default_factory=dict)
    summary: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    participant_metadata: Mapping[str, Mapping[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "statements", tuple(sorted(self.statements, key=lambda s: s.id)))
        object.__setattr__(self, "polis_groups", MappingProxyType(dict(self.polis_groups)))
        object.__setattr__(self, "summary", MappingProxyType(dict(self.summary)))
        metadata = {column: MappingProxyType(dict(answers)) for column, answers in self.participant_metadata.items()}
        object.__setattr__(self, "participant_metadata", MappingProxyType(metadata))

    def latest(self) -> Votes:
        """The current votes: the last vote per (participant, statement)."""
        return self.votes.latest()

    @property
    def mod_out(self) -> tuple[int, ...]:
        """Ids of rejected statements (``moderated == -1``)."""
        return tuple(s.id for s in self.statements if s.moderated == -1)

    @property
    def meta(self) -> tuple[int, ...]:
        """Ids of meta statements."""
        return tuple(s.id for s in self.statements if s.is_meta)

    @property
    def topic(self) -> str:
        """The conversation's topic (``summary.csv`` ``topic``)."""
        return self.summary.get("topic", "")

    @property
    def description(self) -> str:
        """The conversation's description (``summary.csv`` ``conversation-description``)."""
        return self.summary.get("conversation-description", "")


# ----------------------------------------------------------------------------------------------------
# Sources: a folder or a zip of one
# ----------------------------------------------------------------------------------------------------


class _Folder:
    """Named text files in a folder, or in a zip (at its root or in its single top-level folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise PolisFormatError(path.name, None, f"not a folder or a zip file ({exc})") from exc
            names = [n for n in self._zip.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            for depth in (1, 2):
                found = {n.rsplit("/", 1)[-1]: n for n in names if n.count("/") == depth - 1}
                if found:
                    self._members = found
                    break
        elif not path.is_dir():
            raise PolisFormatError(str(path), None, "no such file or folder")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def has(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._members
        return (self.path / name).is_file()

    def where(self) -> str:
        return str(self.path)

    def read_text(self, name: str) -> str:
        try:
            data = self._zip.read(self._members[name]) if self._zip else (self.path / name).read_bytes()
        except (KeyError, FileNotFoundError) as exc:
            raise PolisFormatError(name, None, f"file not found in {self.where()}") from exc
        except (OSError, zipfile.BadZipFile) as exc:
            raise PolisFormatError(name, None, f"cannot read ({exc})") from exc
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PolisFormatError(name, None, f"not UTF-8 text (byte {exc.start}: {exc.reason})") from exc


@contextmanager
def _open_source(path: str | Path) -> Iterator[_Folder]:
    source = _Folder(Path(path))
    try:
        yield source
    finally:
        source.close()


# ----------------------------------------------------------------------------------------------------
# Field parsers
# ----------------------------------------------------------------------------------------------------


def _parse_int(text: str, file: str, row: int, column: str, *, allow_blank: bool = False) -> int | None:
    value = text.strip()
    if value == "" and allow_blank:
        return None
    try:
        number = int(value)
    except ValueError:
        raise PolisFormatError(file, row, f"invalid {column} {text!r} (expected an integer)") from None
    if number < 0:
        raise PolisFormatError(file, row, f"invalid {column} {text!r} (expected a non-negative integer)")
    if number > MAX_ID:
        raise PolisFormatError(file, row, f"invalid {column} {text!r} (expected at most {MAX_ID})")
    return number


def _parse_vote(text: str, file: str, row: int) -> int:
    value = text.strip()
    if value in ("1", "-1", "0", "+1"):
        return int(value)
    raise PolisFormatError(file, row, f"unknown vote value {text!r} (expected -1, 0 or 1)")


def _parse_moderated(text: str, file: str, row: int) -> int:
    value = text.strip()
    if value == "":
        return 0
    if value in ("1", "-1", "0"):
        return int(value)
    raise PolisFormatError(file, row, f"unknown moderated value {text!r} (expected -1, 0 or 1)")


def _parse_bool(text: Any, file: str, row: int, column: str) -> bool:
    if isinstance(text, bool):
        return text
    if text is None:
        return False
    value = str(text).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise PolisFormatError(file, row, f"invalid {column} {text!r} (expected true or false)")


def _to_seconds(number: float) -> float:
    return number / 1000.0 if number > MS_THRESHOLD else number


def _parse_timestamp(text: str, file: str, row: int, *, allow_blank: bool = True) -> float:
    """Epoch seconds from seconds or milliseconds (> 1e12 ⇒ ms); NaN when blank."""
    value = text.strip()
    if value == "" and allow_blank:
        return math.nan
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or _to_seconds(number) > MAX_TIMESTAMP:
        raise PolisFormatError(
            file, row, f"invalid timestamp {text!r} (expected epoch seconds or milliseconds before the year 10000)"
        )
    return _to_seconds(number)


# ----------------------------------------------------------------------------------------------------
# CSV reading
# ----------------------------------------------------------------------------------------------------


def _csv_rows(text: str, file: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) for each non-empty CSV record; the first record is row 1."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 0
    try:
        for fields in reader:
            row += 1
            if not fields or fields == [""]:
                continue
            yield row, fields
    except csv.Error as exc:
        raise PolisFormatError(file, row + 1, f"malformed CSV ({exc})") from None


def _header(rows: Iterator[tuple[int, list[str]]], file: str, required: Sequence[str]) -> dict[str, int]:
    try:
        row, fields = next(rows)
    except StopIteration:
        raise PolisFormatError(file, None, "empty file (expected a header row)") from None
    columns = {name.strip(): i for i, name in enumerate(fields)}
    missing = [name for name in required if name not in columns]
    if missing:
        raise PolisFormatError(file, row, f"missing column {missing[0]!r} (header is {','.join(fields)!r})")
    return columns


def _check_width(fields: list[str], width: int, file: str, row: int) -> None:
    if len(fields) != width:
        raise PolisFormatError(file, row, f"expected {width} fields, found {len(fields)}")


def _read_votes_csv(text: str, file: str = "votes.csv") -> Votes:
    rows = _csv_rows(text, file)
    cols = _header(rows, file, ("timestamp", "comment-id", "voter-id", "vote"))
    width = len(cols)
    i_ts, i_sid, i_pid, i_vote = cols["timestamp"], cols["comment-id"], cols["voter-id"], cols["vote"]
    pids: list[int] = []
    sids: list[int] = []
    values: list[int] = []
    stamps: list[float] = []
    for row, fields in rows:
        _check_width(fields, width, file, row)
        stamps.append(_parse_timestamp(fields[i_ts], file, row))
        sids.append(_parse_int(fields[i_sid], file, row, "comment-id"))  # type: ignore[arg-type]
        pids.append(_parse_int(fields[i_pid], file, row, "voter-id"))  # type: ignore[arg-type]
        values.append(_parse_vote(fields[i_vote], file, row))
    return Votes(np.array(pids, np.int64), np.array(sids, np.int64), np.array(values, np.int8), np.array(stamps))


def _metadata_columns(cols: Mapping[str, int]) -> dict[str, int]:
    """A participant-votes header's metadata columns: neither a fixed column nor a statement id."""
    return {c: i for c, i in cols.items() if c not in _PARTICIPANT_VOTES_FIXED and not _is_statement_column(c)}


def _note_metadata(
    metadata: dict[str, dict[int, str]], columns: Mapping[str, int], fields: list[str], pid: int
) -> None:
    """Add one participant's metadata cells (blank ones are left out)."""
    for column, index in columns.items():
        value = fields[index].strip()
        if value:
            metadata[column][pid] = value


def _read_participant_votes_csv(text: str, file: str) -> tuple[Votes, dict[int, int], dict[str, dict[int, str]]]:
    """Votes (no timestamps; row by row, in column order), Pol.is's group-id per participant, and the metadata
    columns (as :func:`read_participant_metadata`), in one pass over the file."""
    rows = _csv_rows(text, file)
    cols = _header(rows, file, ("participant",))
    width = len(cols)
    extra = _metadata_columns(cols)
    metadata: dict[str, dict[int, str]] = {c: {} for c in extra}
    statement_columns: list[tuple[int, int]] = []
    for name, index in cols.items():
        if name in _PARTICIPANT_VOTES_FIXED:
            continue
        try:
            sid = int(name)
        except ValueError:
            continue  # an informational column from a newer export; not a statement
        if not 0 <= sid <= MAX_ID:
            raise PolisFormatError(file, 1, f"invalid statement column {name!r} (expected an id from 0 to {MAX_ID})")
        statement_columns.append((index, sid))
    i_pid, i_group = cols["participant"], cols.get("group-id")
    pids: list[int] = []
    sids: list[int] = []
    values: list[int] = []
    groups: dict[int, int] = {}
    seen: dict[int, int] = {}
    for row, fields in rows:
        _check_width(fields, width, file, row)
        pid = _parse_int(fields[i_pid], file, row, "participant")
        assert pid is not None
        if pid in seen:
            raise PolisFormatError(file, row, f"duplicate participant {pid} (first in row {seen[pid]})")
        seen[pid] = row
        if i_group is not None:
            gid = _parse_int(fields[i_group], file, row, "group-id", allow_blank=True)
            if gid is not None:
                groups[pid] = gid
        _note_metadata(metadata, extra, fields, pid)
        for index, sid in statement_columns:
            cell = fields[index]
            if cell.strip() == "":
                continue
            pids.append(pid)
            sids.append(sid)
            values.append(_parse_vote(cell, file, row))
    votes = Votes(
        np.array(pids, np.int64),
        np.array(sids, np.int64),
        np.array(values, np.int8),
        np.full(len(pids), np.nan),
    )
    return votes, groups, metadata


def _read_comments_csv(text: str, file: str = "comments.csv") -> tuple[Statement, ...]:
    rows = _csv_rows(text, file)
    cols = _header(rows, file, ("comment-id", "comment-body"))
    width = len(cols)
    statements: dict[int, Statement] = {}
    first_row: dict[int, int] = {}
    for row, fields in rows:
        _check_width(fields, width, file, row)

        def get(name: str, fields: list[str] = fields) -> str:
            return fields[cols[name]] if name in cols else ""

        sid = _parse_int(get("comment-id"), file, row, "comment-id")
        assert sid is not None
        if sid in statements:
            raise PolisFormatError(file, row, f"duplicate comment-id {sid} (first in row {first_row[sid]})")
        first_row[sid] = row
        stamp = _parse_timestamp(get("timestamp"), file, row)
        statements[sid] = Statement(
            id=sid,
            text=csv_safe.restore(get("comment-body")),  # our own export neutralised formulas
            author_id=_parse_int(get("author-id"), file, row, "author-id", allow_blank=True),
            moderated=_parse_moderated(get("moderated"), file, row),
            is_meta=_parse_bool(get("is-meta"), file, row, "is-meta"),
            is_seed=_parse_bool(get("is-seed"), file, row, "is-seed") if "is-seed" in cols else None,
            timestamp=None if math.isnan(stamp) else stamp,
        )
    return tuple(statements.values())


def _read_summary_csv(text: str, file: str = "summary.csv") -> dict[str, str]:
    summary: dict[str, str] = {}
    for row, fields in _csv_rows(text, file):
        if len(fields) > 2:
            raise PolisFormatError(file, row, f"expected 2 fields (key,value), found {len(fields)}")
        key = fields[0].strip()
        if not key:
            raise PolisFormatError(file, row, "empty key")
        summary[key] = csv_safe.restore(fields[1]) if len(fields) == 2 else ""
    return summary


def read_polis_export(path: str | Path) -> PolisExport:
    """Read a Pol.is export folder, or a zip of one, into a :class:`PolisExport`.

    Votes come from ``votes.csv`` (full history; the latest vote per pair wins) or, when it is absent, from
    ``participants-votes.csv`` / ``participant-votes.csv`` (current votes only, no timestamps). Pol.is's group
    per participant comes from the participant-votes file when present. ``comments.csv`` is required,
    ``summary.csv`` optional. Raises :class:`PolisFormatError` on missing files and malformed rows.
    """
    with _open_source(path) as source:
        pv_name = next((n for n in ("participants-votes.csv", "participant-votes.csv") if source.has(n)), None)
        if not source.has("votes.csv") and pv_name is None:
            raise PolisFormatError(
                "votes.csv", None, f"file not found in {source.where()} (nor participants-votes.csv)"
            )
        if not source.has("comments.csv"):
            raise PolisFormatError("comments.csv", None, f"file not found in {source.where()}")
        groups: dict[int, int] = {}
        metadata: dict[str, dict[int, str]] = {}
        pv_votes: Votes | None = None
        if pv_name is not None:
            pv_votes, groups, metadata = _read_participant_votes_csv(source.read_text(pv_name), pv_name)
        if source.has("votes.csv"):
            votes = _read_votes_csv(source.read_text("votes.csv"))
        else:
            assert pv_votes is not None
            votes = pv_votes
        statements = _read_comments_csv(source.read_text("comments.csv"))
        summary = _read_summary_csv(source.read_text("summary.csv")) if source.has("summary.csv") else {}
        return PolisExport(votes, statements, groups, summary, source=str(path), participant_metadata=metadata)


def _is_statement_column(name: str) -> bool:
    try:
        int(name)
    except ValueError:
        return False
    return True


def read_participant_metadata(path: str | Path) -> dict[str, dict[int, str]]:
    """Participant metadata columns of an export's participant-votes file: column → participant id → value.

    Every column that is neither one of the fixed ones nor a statement id (e.g. an answer about the participant
    written by :func:`write_polis_export`); blank cells are left out. Empty when the file is absent. An export
    read whole has them already (:attr:`PolisExport.participant_metadata`): no need to read the file again.
    """
    with _open_source(path) as source:
        name = next((n for n in ("participants-votes.csv", "participant-votes.csv") if source.has(n)), None)
        if name is None:
            return {}
        rows = _csv_rows(source.read_text(name), name)
        cols = _header(rows, name, ("participant",))
        extra = _metadata_columns(cols)
        out: dict[str, dict[int, str]] = {c: {} for c in extra}
        if not extra:
            return out
        for row, fields in rows:
            _check_width(fields, len(cols), name, row)
            pid = _parse_int(fields[cols["participant"]], name, row, "participant")
            _note_metadata(out, extra, fields, pid)
        return out


# ----------------------------------------------------------------------------------------------------
# Math fixtures (JSON)
# ----------------------------------------------------------------------------------------------------


def _load_json(source: _Folder, name: str) -> Any:
    text = source.read_text(name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolisFormatError(name, None, f"invalid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None


def _json_rows(data: Any, file: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if not isinstance(data, list):
        raise PolisFormatError(file, None, f"expected a JSON list, found {type(data).__name__}")
    for row, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise PolisFormatError(file, row, f"expected an object, found {type(item).__name__}")
        yield row, item


def _json_field(item: Mapping[str, Any], keys: Sequence[str], file: str, row: int) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    raise PolisFormatError(file, row, f"missing key {' or '.join(repr(k) for k in keys)}")


def _json_int(value: Any, file: str, row: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise PolisFormatError(file, row, f"invalid {name} {value!r} (expected an integer)")
    if isinstance(value, float):
        if not value.is_integer():
            raise PolisFormatError(file, row, f"invalid {name} {value!r} (expected an integer)")
        value = int(value)
    number = _parse_int(str(value), file, row, name)
    assert number is not None
    return number


def _json_ms(value: Any, file: str, row: int, name: str) -> float:
    """Epoch seconds from a JSON number or numeric string in milliseconds, or an ISO 8601 date."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                number = math.nan
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        number = math.nan
    if not math.isfinite(number) or number < 0 or number / 1000.0 > MAX_TIMESTAMP:
        raise PolisFormatError(
            file, row, f"invalid {name} {value!r} (expected epoch milliseconds before the year 10000)"
        )
    return number / 1000.0


def _read_votes_json(data: Any, file: str = "votes.json") -> Votes:
    pids: list[int] = []
    sids: list[int] = []
    values: list[int] = []
    stamps: list[float] = []
    for row, item in _json_rows(data, file):
        pids.append(_json_int(_json_field(item, ("participant_id", "pid"), file, row), file, row, "participant id"))
        sids.append(_json_int(_json_field(item, ("statement_id", "tid"), file, row), file, row, "statement id"))
        vote = _json_field(item, ("vote",), file, row)
        if isinstance(vote, bool) or vote not in (-1, 0, 1):
            raise PolisFormatError(file, row, f"unknown vote value {vote!r} (expected -1, 0 or 1)")
        values.append(int(vote))
        modified = item.get("modified")
        stamps.append(math.nan if modified is None else _json_ms(modified, file, row, "modified"))
    return Votes(np.array(pids, np.int64), np.array(sids, np.int64), np.array(values, np.int8), np.array(stamps))


def _read_comments_json(data: Any, file: str = "comments.json") -> tuple[Statement, ...]:
    statements: dict[int, Statement] = {}
    for row, item in _json_rows(data, file):
        sid = _json_int(_json_field(item, ("statement_id", "tid"), file, row), file, row, "statement id")
        if sid in statements:
            raise PolisFormatError(file, row, f"duplicate statement id {sid}")
        author = item.get("participant_id", item.get("pid"))
        moderated = item.get("moderated", item.get("mod", 0))
        if isinstance(moderated, bool) or moderated not in (-1, 0, 1):
            raise PolisFormatError(file, row, f"unknown moderated value {moderated!r} (expected -1, 0 or 1)")
        created = item.get("created")
        statements[sid] = Statement(
            id=sid,
            text=str(item.get("txt", "")),
            author_id=None if author is None else _json_int(author, file, row, "author id"),
            moderated=int(moderated),
            is_meta=_parse_bool(item.get("is_meta", False), file, row, "is_meta"),
            is_seed=_parse_bool(item["is_seed"], file, row, "is_seed") if "is_seed" in item else None,
            timestamp=None if created is None else _json_ms(created, file, row, "created"),
        )
    return tuple(statements.values())


def _groups_from_math(data: Any, file: str = "math-pca2.json") -> dict[int, int]:
    """Participant → group id from Pol.is's ``group-clusters`` (members are base-cluster ids)."""
    try:
        base = data["base-clusters"]
        base_members = dict(zip(base["id"], base["members"], strict=True))
        groups: dict[int, int] = {}
        for group in data["group-clusters"]:
            for base_id in group["members"]:
                for pid in base_members[base_id]:
                    groups[int(pid)] = int(group["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PolisFormatError(file, None, f"unexpected base-clusters/group-clusters layout ({exc!r})") from None
    return groups


def read_math_fixture(path: str | Path) -> PolisExport:
    """Read a red-dwarf / Pol.is math fixture folder (or zip) into a :class:`PolisExport`.

    ``votes.json`` (keys ``participant_id``/``statement_id`` or ``pid``/``tid``, ``modified`` in ms) and
    ``comments.json`` (``moderated`` or ``mod``, ``is_meta``, ``is_seed``) are required; ``conversation.json``
    gives the topic and description; ``math-pca2.json``, when present, gives Pol.is's group per participant.
    """
    with _open_source(path) as source:
        for name in ("votes.json", "comments.json"):
            if not source.has(name):
                raise PolisFormatError(name, None, f"file not found in {source.where()}")
        votes = _read_votes_json(_load_json(source, "votes.json"))
        statements = _read_comments_json(_load_json(source, "comments.json"))
        summary: dict[str, str] = {}
        if source.has("conversation.json"):
            conversation = _load_json(source, "conversation.json")
            if isinstance(conversation, dict):
                summary["topic"] = str(conversation.get("topic") or "")
                summary["conversation-description"] = str(conversation.get("description") or "")
        groups = _groups_from_math(_load_json(source, "math-pca2.json")) if source.has("math-pca2.json") else {}
        return PolisExport(votes, statements, groups, summary, source=str(path))


def read_conversation(path: str | Path) -> PolisExport:
    """Read a Pol.is export (folder or zip) or a math fixture folder, whichever ``path`` holds."""
    with _open_source(path) as source:
        is_fixture = source.has("votes.json") and not source.has("votes.csv")
    return read_math_fixture(path) if is_fixture else read_polis_export(path)


# ----------------------------------------------------------------------------------------------------
# Writer
# ----------------------------------------------------------------------------------------------------


def _datetime_text(seconds: float) -> str:
    """Pol.is-style ``datetime`` column (Java ``Date.toString`` layout), in UTC."""
    if math.isnan(seconds):
        return ""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(seconds))


def _seconds_text(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return ""
    return str(math.floor(seconds))


def _group_assignment(
    export: PolisExport, result: AnalysisResult | Mapping[int, int] | None
) -> tuple[dict[int, int], int | None]:
    """(participant → group id, number of in-conversation participants or None)."""
    if result is None:
        return dict(export.polis_groups), None
    if isinstance(result, Mapping):
        return {int(p): int(g) for p, g in result.items()}, None
    groups = {int(p): int(group.id) for group in result.groups for p in group.members}
    return groups, len(result.in_conv)


def _write_csv(path: Path, rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv_safe.writer(handle).writerows(rows)


def _tally(values: np.ndarray, index: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(votes, agrees, disagrees) per index 0..size-1."""
    total = np.bincount(index, minlength=size)
    agrees = np.bincount(index, weights=values == 1, minlength=size).astype(np.int64)
    disagrees = np.bincount(index, weights=values == -1, minlength=size).astype(np.int64)
    return total, agrees, disagrees


def _group_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def write_polis_export(
    folder: str | Path,
    export: PolisExport,
    result: AnalysisResult | Mapping[int, int] | None = None,
    *,
    reported: Collection[int] | None = None,
    metadata: Mapping[str, Mapping[int, str]] | None = None,
) -> list[Path]:
    """Write the five Pol.is export files (``polis-math.md`` §12) into ``folder``.

    Files: ``summary.csv``, ``comments.csv``, ``votes.csv``, ``participant-votes.csv`` and
    ``comment-groups.csv``.
    Input: ``export.votes`` (full history with timestamps in seconds), ``export.statements``, and
    ``export.summary`` for ``topic``, ``url`` and ``conversation-description``. Groups come from ``result``
    (an ``AnalysisResult``, or a plain participant → group-id mapping), else from ``export.polis_groups``.
    Headers follow §12 exactly; timestamps are written in whole epoch seconds and ``datetime`` in UTC.
    Unlike Pol.is, ``agrees``/``disagrees`` count current votes only (Pol.is also counts superseded ones).
    ``is-meta`` has no column in the §12 ``comments.csv`` header, so it is not exported. Creates ``folder`` if
    needed and returns the written paths.
    ``reported``: the ids of the statements a report may show (None: all). The report's files follow it, as
    Pol.is's follow its moderation: ``comment-groups.csv`` lists only these, and the summary's ``comments``
    counts those of them that are not meta. ``comments.csv`` and the vote files keep every statement (with its
    ``moderated`` state), so the export stays a complete record.
    ``metadata``: participant metadata columns (column name → participant id → value; blank when absent), written
    in ``participant-votes.csv`` between the fixed columns and the statements, as Pol.is writes extra participant
    columns; readers that take only numeric columns as statements ignore them (:func:`read_participant_metadata`).
    """
    metadata = dict(metadata or {})
    for name in metadata:
        if name in _PARTICIPANT_VOTES_FIXED or _is_statement_column(name):
            raise ValueError(f"participant metadata column {name!r} would read back as a fixed or statement column")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    groups, n_in_conv = _group_assignment(export, result)
    group_ids = sorted(set(groups.values()))
    latest = export.latest()
    values = latest.values.astype(np.int64)

    statement_ids = sorted({s.id for s in export.statements} | set(latest.statement_ids.tolist()))
    s_index = {sid: i for i, sid in enumerate(statement_ids)}
    s_pos = np.searchsorted(np.array(statement_ids, dtype=np.int64), latest.statement_ids)
    s_total, s_agrees, s_disagrees = _tally(values, s_pos, len(statement_ids))

    voter_ids = sorted(set(latest.participant_ids.tolist()))
    p_pos = np.searchsorted(np.array(voter_ids, dtype=np.int64), latest.participant_ids)
    p_total, p_agrees, p_disagrees = _tally(values, p_pos, len(voter_ids))
    authored: dict[int, int] = {}
    for statement in export.statements:
        if statement.author_id is not None:
            authored[statement.author_id] = authored.get(statement.author_id, 0) + 1

    paths = [
        out / name
        for name in (
            "summary.csv",
            "comments.csv",
            "votes.csv",
            "participant-votes.csv",
            "comment-groups.csv",
        )
    ]

    summary = {
        "topic": export.summary.get("topic", ""),
        "url": export.summary.get("url", ""),
        "voters": str(len(voter_ids)),
        "voters-in-conv": str(n_in_conv if n_in_conv is not None else len(groups)),
        "commenters": str(len(authored)),
        "comments": str(
            len(export.statements)
            if reported is None
            else sum(s.id in reported and not s.is_meta for s in export.statements)
        ),
        "groups": str(len(group_ids)),
        "conversation-description": export.summary.get("conversation-description", ""),
    }
    _write_csv(paths[0], [(key, summary[key]) for key in SUMMARY_KEYS])

    def comment_rows() -> Iterator[Sequence[Any]]:
        yield COMMENTS_HEADER
        for s in export.statements:
            i = s_index[s.id]
            stamp = math.nan if s.timestamp is None else s.timestamp
            yield (
                _seconds_text(s.timestamp),
                _datetime_text(stamp),
                s.id,
                "" if s.author_id is None else s.author_id,
                int(s_agrees[i]),
                int(s_disagrees[i]),
                s.moderated,
                s.text,
            )

    _write_csv(paths[1], comment_rows())

    def vote_rows() -> Iterator[Sequence[Any]]:
        yield VOTES_HEADER
        history = export.votes
        for pid, sid, vote, stamp in zip(
            history.participant_ids.tolist(),
            history.statement_ids.tolist(),
            history.values.tolist(),
            history.timestamps.tolist(),
            strict=True,
        ):
            yield (_seconds_text(stamp), _datetime_text(stamp), sid, pid, vote)

    _write_csv(paths[2], vote_rows())

    voted_statements = [sid for sid in statement_ids if s_total[s_index[sid]] > 0]
    column = {sid: j for j, sid in enumerate(voted_statements)}
    cells = [[""] * len(voted_statements) for _ in voter_ids]
    for p, sid, vote in zip(p_pos.tolist(), latest.statement_ids.tolist(), values.tolist(), strict=True):
        cells[p][column[sid]] = str(vote)

    def participant_rows() -> Iterator[Sequence[Any]]:
        yield (*PARTICIPANT_VOTES_HEADER, *metadata, *voted_statements)
        for i, pid in enumerate(voter_ids):
            gid = groups.get(pid)
            yield (
                pid,
                "" if gid is None else gid,
                authored.get(pid, 0),
                int(p_total[i]),
                int(p_agrees[i]),
                int(p_disagrees[i]),
                *(values.get(pid, "") for values in metadata.values()),
                *cells[i],
            )

    _write_csv(paths[3], participant_rows())

    member_group = np.array([groups.get(pid, -1) for pid in latest.participant_ids.tolist()], dtype=np.int64)
    per_group = []
    for gid in group_ids:
        mask = member_group == gid
        per_group.append(_tally(values[mask], s_pos[mask], len(statement_ids)))

    def comment_group_rows() -> Iterator[Sequence[Any]]:
        header = list(COMMENT_GROUPS_HEADER)
        for position in range(len(group_ids)):
            letter = _group_letter(position)
            header += [f"group-{letter}-{kind}" for kind in ("votes", "agrees", "disagrees", "passes")]
        yield header
        texts = {s.id: s.text for s in export.statements}
        for sid in statement_ids if reported is None else [sid for sid in statement_ids if sid in reported]:
            i = s_index[sid]
            row: list[Any] = [
                sid,
                texts.get(sid, ""),
                int(s_total[i]),
                int(s_agrees[i]),
                int(s_disagrees[i]),
                int(s_total[i] - s_agrees[i] - s_disagrees[i]),
            ]
            for total, agrees, disagrees in per_group:
                row += [
                    int(total[i]),
                    int(agrees[i]),
                    int(disagrees[i]),
                    int(total[i] - agrees[i] - disagrees[i]),
                ]
            yield row

    _write_csv(paths[4], comment_group_rows())
    return paths
