"""Reading a predictions file (CSV or Parquet) into arrays for the gate, validating as it goes.

The file is streamed in record batches and only the used columns are converted, so memory stays
near the size of the arrays the gate needs (labels as booleans, scores as float64), not the
size of the file or of a parsed table. Every problem becomes a UserError that names the file,
the column, the row and the fix.
"""

from __future__ import annotations

import csv
import difflib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlops_actions import tables
from mlops_actions.errors import UserError, shown
from mlops_actions.gate.config import Columns, GateConfig
from mlops_actions.gate.metrics import BoolArray, FloatArray

MAX_GROUPS = 200
_CSV_BLOCK = 1 << 20
_PARQUET_BATCH = 1 << 17


@dataclass
class Group:
    codes: np.ndarray[Any, np.dtype[np.int32]]
    names: list[str]


@dataclass
class Predictions:
    path: str
    rows: int
    y_true: BoolArray
    score: FloatArray | None
    y_pred: BoolArray | None
    groups: dict[str, Group] = field(default_factory=dict)
    ids: Any = None  # the id column (an Arrow array), when an id column was asked for
    id_column: str | None = None


@dataclass(frozen=True)
class _Source:
    path: str
    fmt: str  # csv | parquet

    def row(self, index: int) -> int:
        """The row a user sees: CSV line numbers count the header line."""
        return index + 2 if self.fmt == "csv" else index + 1

    def error(self, index: int, message: str) -> UserError:
        row = self.row(index)
        return UserError(
            f"{self.path}: row {row}: {message}",
            file=self.path,
            line=row if self.fmt == "csv" else None,
        )


def _format(path: str) -> str:
    if path.lower().endswith(".json"):
        raise UserError(
            f"{path}: a JSON file is not a predictions file; for pre-computed metrics pass it as "
            "metrics (--metrics) instead of predictions"
        )
    return tables.file_format(path, "predictions")


def _header(source: _Source) -> list[str]:
    import pyarrow as pa

    path = source.path
    if source.fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            names = list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise UserError(f"{path}: not a readable Parquet file ({exc})", file=path) from None
        _no_duplicates(path, names)
        return names
    if path.lower().endswith(".csv"):
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = next(csv.reader(handle), [])
    else:
        import pyarrow.csv as pacsv

        try:
            first = list(pacsv.open_csv(path).schema.names)
        except pa.ArrowInvalid as exc:
            raise UserError(f"{path}: cannot read CSV ({exc})", file=path) from None
    if not first or all(not c.strip() for c in first):
        raise UserError(
            f"{path}: the first line must be a header naming the columns", file=path, line=1
        )
    _no_duplicates(path, first)
    return first


def _no_duplicates(path: str, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise UserError(
                f"{path}: column '{name[:80]}' appears twice in the header; rename one, "
                "since the gate cannot tell which one is meant",
                file=path,
                line=1,
            )
        seen.add(name)


def _missing_column(path: str, role: str, name: str, header: list[str], option: str) -> UserError:
    close = difflib.get_close_matches(name, header, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
    return UserError(
        f"{path}: no {role} column '{name}'; {hint}set {option} (columns: {shown})",
        file=path,
        line=1,
    )


def _resolve_columns(path: str, header: list[str], columns: Columns) -> Columns:
    if columns.label not in header:
        raise _missing_column(path, "label", columns.label, header, "columns.label / label-column")
    score = columns.score
    if score is not None and score not in header:
        if columns.score_explicit or columns.prediction is None:
            raise _missing_column(path, "score", score, header, "columns.score / score-column")
        score = None
    if columns.prediction is not None and columns.prediction not in header:
        raise _missing_column(
            path, "prediction", columns.prediction, header, "columns.prediction / prediction-column"
        )
    return Columns(columns.label, score, columns.prediction, columns.score_explicit, columns.id)


def _first_bad_number(source: _Source, column: str) -> UserError:
    """Find the first non-numeric score in a CSV (only on the error path)."""
    opener: Any = open
    if source.path.lower().endswith(".gz"):
        import gzip

        opener = gzip.open
    with opener(source.path, "rt", encoding="utf-8-sig", newline="") as handle:
        for index, record in enumerate(csv.DictReader(handle)):
            value = record.get(column)
            try:
                float(value or "nan")
            except ValueError:
                return source.error(
                    index,
                    f"score column '{column}' must hold numbers (probabilities in [0, 1]); "
                    f"found {shown(value)}",
                )
    return UserError(f"{source.path}: score column '{column}' must hold numbers", file=source.path)


def _batches(
    source: _Source, names: list[str], score: str | None, whole: bool = False
) -> Iterator[Any]:
    """Record batches of the used columns: labels, groups and ids as text, the score as
    float64. `whole` reads a CSV at once with every core, for a file whose arrays are kept
    anyway (the champion's id and score); others stream, so memory stays near the arrays kept."""
    import pyarrow as pa

    try:
        if source.fmt == "parquet":
            import pyarrow.parquet as pq

            yield from pq.ParquetFile(source.path).iter_batches(
                batch_size=_PARQUET_BATCH, columns=names
            )
            return
        import pyarrow.csv as pacsv

        types = {name: pa.string() for name in names}
        if score:
            types[score] = pa.float64()
        convert = pacsv.ConvertOptions(
            include_columns=names, column_types=types, strings_can_be_null=True
        )
        if whole:
            yield from pacsv.read_csv(source.path, convert_options=convert).to_batches()
            return
        reader = pacsv.open_csv(
            source.path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
            convert_options=convert,
            # The system allocator hands freed batch memory straight back for the next batch.
            memory_pool=pa.system_memory_pool(),
        )
        yield from reader
    except (pa.ArrowInvalid, OSError) as exc:
        message = str(exc).splitlines()[0]
        if score and "conversion error to double" in message:
            raise _first_bad_number(source, score) from None
        raise UserError(
            f"{source.path}: cannot parse the file: {message}", file=source.path
        ) from None


def _first_null(column: Any) -> int | None:
    if not column.null_count:
        return None
    import pyarrow.compute as pc

    return int(pc.index(pc.is_null(column), True).as_py())


def _missing_value(source: _Source, offset: int, column: Any, name: str, role: str) -> None:
    first = _first_null(column)
    if first is not None:
        raise source.error(
            offset + first,
            f"{role} column '{name}' is missing a value (empty, NA or NaN); every row needs one",
        )


def _same_label(a: Any, b: Any) -> bool:
    """Does a column value equal the positive label? 1 == "1" == "1.0"; true == "True"."""
    if isinstance(a, bool) or isinstance(b, bool):
        words = {"true": "1", "false": "0"}
        left, right = str(a).strip().lower(), str(b).strip().lower()
        return words.get(left, left) == words.get(right, right)
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()


class _BinaryColumn:
    """Accumulates a two-valued column (labels or predicted labels) as a positive-class mask."""

    def __init__(self, source: _Source, name: str, role: str, positive: Any):
        self.source, self.name, self.role, self.positive = source, name, role, positive
        self.values: list[Any] = []
        self.matched: Any = None
        self.chunks: list[BoolArray] = []

    def add(self, column: Any, offset: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        _missing_value(self.source, offset, column, self.name, self.role)
        for value in pc.unique(column).to_pylist():
            if value not in self.values:
                self.values.append(value)
                if self.matched is None and _same_label(value, self.positive):
                    self.matched = value
        if len(self.values) > 2:
            shown = ", ".join(repr(v) for v in self.values[:5])
            raise UserError(
                f"{self.source.path}: {self.role} column '{self.name}' must be binary but has "
                f"{'more than 2' if len(self.values) > 3 else '3'} distinct values ({shown}); "
                "map it to two classes",
                file=self.source.path,
            )
        if self.matched is None:
            self.chunks.append(np.zeros(len(column), dtype=bool))
        else:
            mask = pc.equal(column, pa.scalar(self.matched, type=column.type))
            self.chunks.append(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))

    def finish(self) -> BoolArray:
        if self.matched is None and len(self.values) == 2:
            a, b = self.values
            # YAML reads an unquoted yes/no/on/off as true/false: say so, it looks like a typo.
            quoted = (
                "; YAML reads an unquoted yes/no as true/false: quote it, "
                f"positive_label: {shown(_meant(self.positive, str(a), str(b)))}"
                if isinstance(self.positive, bool) and isinstance(a, str)
                else ""
            )
            raise UserError(
                f"{self.source.path}: positive_label {shown(self.positive)} is not a value of "
                f"{self.role} column '{self.name}' (values: {shown(a)}, {shown(b)}); "
                f"set positive_label / positive-label{quoted}",
                file=self.source.path,
            )
        mask: BoolArray = _concat(self.chunks, bool)
        return mask


class _ScoreColumn:
    def __init__(self, source: _Source, name: str):
        self.source, self.name = source, name
        self.chunks: list[FloatArray] = []

    def add(self, column: Any, offset: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise UserError(
                f"{self.source.path}: score column '{self.name}' must hold numbers "
                f"(probabilities in [0, 1]), not {column.type}",
                file=self.source.path,
            )
        _missing_value(self.source, offset, column, self.name, "score")
        score = np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
        ok = score >= 0.0
        ok &= score <= 1.0
        if not ok.all():
            first = int(np.flatnonzero(~ok)[0])
            value = float(score[first])
            problem = "is NaN" if math.isnan(value) else f"= {value:g} is outside [0, 1]"
            raise self.source.error(
                offset + first,
                f"score column '{self.name}' {problem}; scores must be probabilities of the "
                "positive class (use a prediction column for hard labels)",
            )
        # A copy owned by NumPy, so Arrow's batch memory is released as we go.
        self.chunks.append(np.array(score, dtype=np.float64, copy=True))

    def finish(self) -> FloatArray:
        score: FloatArray = _concat(self.chunks, np.float64)
        return score


class _GroupColumn:
    def __init__(self, source: _Source, name: str):
        self.source, self.name = source, name
        self.codes_of: dict[str, int] = {}
        self.chunks: list[np.ndarray[Any, np.dtype[np.int32]]] = []

    def add(self, column: Any, offset: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        filled = pc.fill_null(pc.cast(column, pa.string()), "(missing)")
        encoded = pc.dictionary_encode(filled)
        lookup = np.array(
            [
                self.codes_of.setdefault(str(v), len(self.codes_of))
                for v in encoded.dictionary.to_pylist()
            ],
            dtype=np.int32,
        )
        if len(self.codes_of) > MAX_GROUPS:
            raise UserError(
                f"{self.source.path}: group column '{self.name}' has more than {MAX_GROUPS} "
                "distinct values; fairness groups must be categories; bucket it or pick another "
                "column",
                file=self.source.path,
            )
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        self.chunks.append(lookup[indices] if len(lookup) else np.zeros(0, dtype=np.int32))

    def finish(self) -> Group:
        return Group(codes=_concat(self.chunks, np.int32), names=list(self.codes_of))


def _concat(chunks: list[Any], dtype: Any) -> Any:
    """Join per-batch arrays; the chunk list is emptied so its memory can go."""
    if not chunks:
        return np.zeros(0, dtype=dtype)
    out = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    chunks.clear()
    return out


class _IdColumn:
    """The id column, kept as Arrow data (strings stay in Arrow's buffers, not Python objects);
    a missing id is refused with its row."""

    def __init__(self, source: _Source, name: str):
        self.source, self.name = source, name
        self.chunks: list[Any] = []

    def add(self, column: Any, offset: int) -> None:
        _missing_value(self.source, offset, column, self.name, "id")
        self.chunks.append(column)

    def finish(self) -> Any:
        import pyarrow as pa

        return pa.chunked_array(self.chunks).combine_chunks() if self.chunks else pa.array([])


def _open(path: str, what: str) -> _Source:
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: {what} file not found; check the path (relative to {Path.cwd()})")
    if p.is_dir():
        raise UserError(f"{path}: is a directory; give the {what} file inside it")
    if p.stat().st_size == 0:
        raise UserError(f"{path}: {what} file is empty", file=path)
    fmt = _format(path)
    tables.sniff(path, fmt)  # Parquet named .csv, a semicolon-separated CSV: named as such
    return _Source(path, fmt)


def _stream(
    source: _Source,
    score: str | None,
    make: Callable[[], dict[str, Any]],
    whole: bool = False,
) -> tuple[dict[str, Any], int]:
    """Feed every batch to the collectors `make()` returns (column -> collector)."""
    collectors = make()
    rows = 0
    for batch in _batches(source, list(collectors), score, whole):
        for name, collector in collectors.items():
            for each in collector if isinstance(collector, list) else [collector]:
                each.add(batch.column(name), rows)
        rows += batch.num_rows
    return collectors, rows


def load_predictions(path: str, config: GateConfig, id_column: str | None = None) -> Predictions:
    source = _open(path, "predictions")
    header = _header(source)
    if id_column and id_column not in header:
        raise _missing_column(path, "id", id_column, header, "columns.id / id-column")
    columns = _resolve_columns(path, header, config.columns)
    for g in config.fairness.group_columns:
        if g not in header:
            raise _missing_column(
                path, "group", g, header, "fairness.group_columns / group-columns"
            )

    positive = config.positive_label

    def make() -> dict[str, Any]:
        collectors: dict[str, Any] = {}
        if id_column:
            collectors[id_column] = [_IdColumn(source, id_column)]
        collectors.setdefault(columns.label, []).append(
            _BinaryColumn(source, columns.label, "label", positive)
        )
        if columns.score:
            collectors.setdefault(columns.score, []).append(_ScoreColumn(source, columns.score))
        if columns.prediction:
            collectors.setdefault(columns.prediction, []).append(
                _BinaryColumn(source, columns.prediction, "prediction", positive)
            )
        for g in config.fairness.group_columns:
            collectors.setdefault(g, []).append(_GroupColumn(source, g))
        return collectors

    collectors, rows = _stream(source, columns.score, make)

    found = [c for group in collectors.values() for c in group]
    label = next(c for c in found if isinstance(c, _BinaryColumn) and c.role == "label")
    score = next((c for c in found if isinstance(c, _ScoreColumn)), None)
    prediction = next(
        (c for c in found if isinstance(c, _BinaryColumn) and c.role == "prediction"), None
    )
    groups = {c.name: c for c in found if isinstance(c, _GroupColumn)}
    ids = next((c for c in found if isinstance(c, _IdColumn)), None)
    if rows == 0:
        raise UserError(f"{path}: has a header but no rows; the gate needs predictions", file=path)
    return Predictions(
        path=path,
        rows=rows,
        y_true=label.finish(),
        score=score.finish() if score else None,
        y_pred=prediction.finish() if prediction else None,
        groups={name: group.finish() for name, group in groups.items()},
        ids=ids.finish() if ids is not None else None,
        id_column=id_column,
    )


@dataclass
class Champion:
    """The champion's calls on the challenger's rows, in the challenger's row order."""

    path: str
    score: FloatArray | None
    y_pred: BoolArray | None


# A whole number written one way only: "7" is the id 7, but "007", "+7", "7 " and "0x7" are
# other ids (text), though a number parser reads them all as 7.
_CANONICAL_INTEGER = r"^(0|-?[1-9][0-9]{0,17})$"


def _as_integers(ids: Any) -> Any:
    """The ids as int64 when every one is a canonical whole number (they join much faster),
    else unchanged."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)
    if text and len(ids) and pc.all(pc.match_substring_regex(ids, _CANONICAL_INTEGER)).as_py():
        return pc.cast(ids, pa.int64())
    return ids


def _id_codes(a: Any, b: Any) -> tuple[Any, Any, Any]:
    """Both id columns as comparable int64 codes: the integers themselves when both are whole
    numbers, or else the codes of one dictionary over both as text, so equal ids get equal
    codes. Also the dictionary (None for integers), to name an id in a message."""
    import pyarrow as pa
    import pyarrow.compute as pc

    a, b = _as_integers(a), _as_integers(b)
    if pa.types.is_integer(a.type) and pa.types.is_integer(b.type):
        return (np.asarray(a.to_numpy(zero_copy_only=False), dtype=np.int64),
                np.asarray(b.to_numpy(zero_copy_only=False), dtype=np.int64), None)  # fmt: skip
    both = pa.chunked_array([pc.cast(a, pa.string()), pc.cast(b, pa.string())])
    encoded = pc.dictionary_encode(both).combine_chunks()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes[: len(a)], codes[len(a) :], encoded.dictionary


def _named(code: int, dictionary: Any) -> str:
    return shown(code if dictionary is None else dictionary[code].as_py())


def _unique_or_refuse(path: str, column: str, codes: Any, dictionary: Any) -> Any:
    """The sort order of `codes`; a repeated id is refused, with the id."""
    if codes.size < 2 or bool(np.all(codes[1:] > codes[:-1])):
        return None  # strictly increasing: unique, and already in order
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    repeats = np.flatnonzero(ordered[1:] == ordered[:-1])
    if repeats.size:
        first = int(repeats[0])
        rows = sorted((int(order[first]), int(order[first + 1])))
        raise UserError(
            f"{path}: id column '{column}' repeats the id {_named(int(ordered[first]), dictionary)}"
            f" (data rows {rows[0] + 1} and {rows[1] + 1}); each holdout row needs its own id",
            file=path,
        )
    return order


def align_champion(path: str, config: GateConfig, challenger: Predictions) -> Champion:
    """Read the champion's predictions of the challenger's holdout and line them up with the
    challenger's rows by id. Every id must be there exactly once, in both files; a label column,
    if the champion's file has one, must agree with the challenger's."""
    assert challenger.ids is not None and challenger.id_column is not None
    id_column = challenger.id_column
    source = _open(path, "champion predictions")
    header = _header(source)
    if id_column not in header:
        raise _missing_column(path, "id", id_column, header, "columns.id / id-column")
    score_name = next((c for c in (config.columns.score, "score") if c and c in header), None)
    prediction_name = next(
        (c for c in (config.columns.prediction, "prediction") if c and c in header), None
    )
    if challenger.score is not None and score_name is None:
        option = "columns.score (the champion's file uses the same name, or score)"
        raise _missing_column(path, "score", config.columns.score or "score", header, option)
    if score_name is None and prediction_name is None:
        raise _missing_column(path, "prediction", config.columns.prediction or "prediction",
                              header, "columns.prediction")  # fmt: skip
    label_name = config.columns.label if config.columns.label in header else None
    positive = config.positive_label

    def make() -> dict[str, Any]:
        collectors: dict[str, Any] = {id_column: [_IdColumn(source, id_column)]}
        if score_name:
            collectors.setdefault(score_name, []).append(_ScoreColumn(source, score_name))
        elif prediction_name:
            collectors.setdefault(prediction_name, []).append(
                _BinaryColumn(source, prediction_name, "prediction", positive)
            )
        if label_name:
            collectors.setdefault(label_name, []).append(
                _BinaryColumn(source, label_name, "label", positive)
            )
        return collectors

    # The champion's file: the id and a score only (no label), so read at once, in parallel.
    collectors, _ = _stream(source, score_name, make, whole=label_name is None)
    found = [c for group in collectors.values() for c in group]
    ids = next(c for c in found if isinstance(c, _IdColumn))
    score = next((c for c in found if isinstance(c, _ScoreColumn)), None)
    prediction = next(
        (c for c in found if isinstance(c, _BinaryColumn) and c.role == "prediction"), None
    )
    label = next((c for c in found if isinstance(c, _BinaryColumn) and c.role == "label"), None)
    ours, theirs, dictionary = _id_codes(challenger.ids, ids.finish())
    our_order = _unique_or_refuse(challenger.path, id_column, ours, dictionary)
    their_order = _unique_or_refuse(path, id_column, theirs, dictionary)
    if ours.size != theirs.size or not np.array_equal(
        ours if our_order is None else ours[our_order],
        theirs if their_order is None else theirs[their_order],
    ):
        missing = np.setdiff1d(ours, theirs)
        extra = np.setdiff1d(theirs, ours)
        if missing.size:
            problem = (f"have no row for id {_named(int(missing[0]), dictionary)} of the "
                       f"challenger's holdout ({missing.size:,} missing)")  # fmt: skip
        else:
            problem = (f"have id {_named(int(extra[0]), dictionary)}, which the challenger's "
                       f"holdout does not ({extra.size:,} extra)")  # fmt: skip
        raise UserError(
            f"{path}: the champion's predictions {problem}; score the champion on exactly the "
            f"challenger's holdout rows ({challenger.path}, id column '{id_column}')",
            file=path,
        )

    def lined_up(values: Any) -> Any:
        if our_order is None and their_order is None:
            return values
        out = np.empty_like(values)
        out[np.arange(values.size) if our_order is None else our_order] = (
            values if their_order is None else values[their_order]
        )
        return out

    if label is not None:
        theirs_label = lined_up(label.finish())
        if not np.array_equal(theirs_label, challenger.y_true):
            row = int(np.flatnonzero(theirs_label != challenger.y_true)[0])
            raise UserError(
                f"{path}: label column '{label_name}' disagrees with the challenger's for id "
                f"{shown(challenger.ids[row].as_py())}; both must come from the same holdout",
                file=path,
            )
    champion_score = lined_up(score.finish()) if score is not None else None
    champion_pred = lined_up(prediction.finish()) if prediction is not None else None
    return Champion(path, champion_score, champion_pred)


def _meant(positive: bool, a: str, b: str) -> str:
    """Which of two text labels an unquoted YAML yes/no (read as a bool) stood for."""
    yes_like = a if a.lower() in ("yes", "y", "on", "true") else b
    return yes_like if positive else (b if yes_like == a else a)
