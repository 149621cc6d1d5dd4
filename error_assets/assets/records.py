"""Records <-> DataFrames, and the metadata that shows them in the UI."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import dagster as dg

from error_assets.models import columns, from_row, to_row

if TYPE_CHECKING:  # pandas costs half a second to import; every Dagster process loads this
    import pandas as pd

T = TypeVar("T")

_TYPES = {"str": "string", "int": "int", "float": "float", "bool": "bool"}


def records_frame(records: Iterable[Any], record_type: type) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([to_row(r) for r in records], columns=columns(record_type))


def frame_records(frame: pd.DataFrame, record_type: type[T]) -> list[T]:
    return [from_row(record_type, row) for row in frame.to_dict(orient="records")]


def column_schema(record_type: type) -> dg.TableSchema:
    cols = []
    for f in dataclasses.fields(record_type):
        type_name = str(f.type)
        base = type_name.split("[", 1)[0].split(" ", 1)[0]
        kind = "list" if base == "tuple" else _TYPES.get(base, "string")
        cols.append(dg.TableColumn(name=f.name, type=kind))
    return dg.TableSchema(columns=cols)


def preview(frame: pd.DataFrame, cols: Sequence[str], rows: int = 10) -> dg.MarkdownMetadataValue:
    """A markdown table of the first rows (long cells cut) for the materialisation page."""
    if frame.empty:
        return dg.MetadataValue.md("_no rows_")
    head = frame[list(cols)].head(rows).copy()
    for col in head.columns:
        head[col] = head[col].map(lambda v: _cell(v))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(row) + " |" for row in head.astype(str).values.tolist()]
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def counts_md(counts: dict[str, int], header: tuple[str, str]) -> dg.MarkdownMetadataValue:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    return dg.MetadataValue.md("\n".join(lines))
