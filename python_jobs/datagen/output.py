"""Rendering of a day's lines to gzip CSV or Parquet.

CSV lines are assembled column-wise with Arrow string kernels from
pre-rendered pieces (per invoice, per stock code, per price), so no Python
code runs per line. Quoting follows the standard minimal rules: a field is
quoted only when it holds a comma, a double quote or a line break, and inner
quotes are doubled. Only descriptions can need quoting, so they are rendered
once per catalogue entry. Parquet files hold the same text values in string
columns (null for an empty CustomerID), so the malformed lines survive: a
row with a missing field has its later values shifted one column left and a
null Country, as a positional CSV reader would see the short line.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .catalogue import Catalogue, csv_field
from .days import DayLines
from .personas import COUNTRIES, Customers
from .plan import EVENT_ORDER, Plan
from .trading_calendar import Calendar

__all__ = ["COLUMNS", "HEADER", "DayRenderer", "RenderedDay", "write_day"]

#: Column names of the UCI "Online Retail" data set, in file order.
COLUMNS: tuple[str, ...] = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
#: Header line of every CSV file.
HEADER = ",".join(COLUMNS) + "\n"


@dataclass(frozen=True)
class RenderedDay:
    """A day ready to be written.

    Attributes
    ----------
    name : str
        File name (``YYYY-MM-DD.csv.gz`` or ``YYYY-MM-DD.parquet``).
    payload : bytes or pyarrow.Table
        Uncompressed CSV text (header included) or the Parquet table.
    malformed : list of dict
        ``{"file", "line", "kind"}`` of each malformed line; ``line`` is the
        1-based physical line number, the header being line 1.
    """

    name: str
    payload: bytes | pa.Table
    malformed: list[dict[str, object]]


def _price_text(cents: int) -> str:
    """Render a price in pence like Python renders a float (``18.0``)."""
    return repr(cents / 100)


def _break_quoting(description: str) -> str:
    """Put a lone double quote before a middle word of a description."""
    words = description.split(" ")
    middle = max(1, len(words) // 2)
    return " ".join(words[:middle]) + ' "' + " ".join(words[middle:])


class DayRenderer:
    """Turn :class:`~datagen.days.DayLines` into file contents.

    Parameters
    ----------
    plan : Plan
        The invoice events.
    catalogue : Catalogue
        Products and non-product codes.
    customers : Customers
        Registered customers.
    calendar : Calendar
        Trading calendar.
    file_format : {"csv.gz", "parquet"}
        Output format.
    """

    def __init__(
        self,
        plan: Plan,
        catalogue: Catalogue,
        customers: Customers,
        calendar: Calendar,
        file_format: str,
    ) -> None:
        self.plan = plan
        self.calendar = calendar
        self.file_format = file_format
        self._stock = pa.array(catalogue.stock_codes, pa.string())
        self._description = pa.array(catalogue.descriptions, pa.string())
        self._stock_and_description = pa.array(
            [
                f"{csv_field(code)},{csv_field(text)}"
                for code, text in zip(
                    catalogue.stock_codes, catalogue.descriptions, strict=True
                )
            ],
            pa.string(),
        )
        ids = pa.array(customers.ids).cast(pa.string())
        self._customer_text = pc.binary_join_element_wise(ids, ".0", "")
        names = [name for name, _, _ in COUNTRIES]
        self._country = pa.array(names, pa.string())
        self._country_line_end = pa.array(
            [csv_field(n) + "\n" for n in names], pa.string()
        )

    def _invoice_fields(self, start: int, end: int) -> dict[str, pa.Array]:
        """Per-invoice text of the events ``start:end``."""
        plan = self.plan
        span = slice(start, end)
        number = pa.array(plan.invoice(start, end)).cast(pa.string())
        cancelled = pa.array(plan.kind[span] != EVENT_ORDER)
        invoice = pc.if_else(
            cancelled, pc.binary_join_element_wise("C", number, ""), number
        )
        minutes = plan.day[span].astype(np.int64) * 1440 + plan.minute[span]
        stamp = (self.calendar.start.astype("datetime64[m]") + minutes).astype(
            "datetime64[s]"
        )
        date = pc.strftime(pa.array(stamp), format="%Y-%m-%d %H:%M:%S")
        customer = plan.customer[span]
        registered = customer >= 0
        customer_text = self._customer_text.take(pa.array(np.maximum(customer, 0)))
        customer_text = pc.if_else(pa.array(registered), customer_text, None)
        country = pa.array(plan.country[span].astype(np.int64))
        return {
            "invoice": invoice,
            "date": date,
            "customer": customer_text,
            "country": country,
        }

    def _line_fields(
        self, lines: DayLines, start: int, end: int
    ) -> dict[str, pa.Array]:
        """Per-line raw text fields (CustomerID null when missing)."""
        per_invoice = self._invoice_fields(start, end)
        local = pa.array(lines.event - start)
        code = pa.array(lines.code)
        unique_cents, inverse = np.unique(lines.cents, return_inverse=True)
        prices = pa.array([_price_text(int(c)) for c in unique_cents], pa.string())
        return {
            "InvoiceNo": per_invoice["invoice"].take(local),
            "StockCode": self._stock.take(code),
            "Description": self._description.take(code),
            "Quantity": pa.array(lines.qty).cast(pa.string()),
            "InvoiceDate": per_invoice["date"].take(local),
            "UnitPrice": prices.take(pa.array(inverse.ravel())),
            "CustomerID": per_invoice["customer"].take(local),
            "_code": code,
            "_country": per_invoice["country"].take(local),
        }

    @staticmethod
    def _malformed_values(row: dict[str, str], kind: str) -> list[str | None]:
        """Field values of a malformed row (``None`` for a missing field)."""
        values: list[str | None] = [row[name] for name in COLUMNS]
        if kind == "missing_field":
            return [
                v for n, v in zip(COLUMNS, values, strict=True) if n != "Description"
            ] + [None]
        if kind == "bad_quantity":
            values[3] = f"{row['Quantity']}x"
        elif kind == "bad_date":
            date = row["InvoiceDate"]
            values[4] = f"{date[:5]}13{date[7:]}"
        elif kind == "broken_quoting":
            values[2] = _break_quoting(row["Description"])
        else:
            raise ValueError(f"unknown malformed kind {kind!r}")
        return values

    def render(self, day: int, lines: DayLines) -> RenderedDay:
        """Render one day.

        Parameters
        ----------
        day : int
            Day index.
        lines : DayLines
            The day's lines, non-empty.

        Returns
        -------
        RenderedDay
            File name, contents and the malformed line positions.
        """
        start = int(self.plan.day_bounds[day])
        end = int(self.plan.day_bounds[day + 1])
        fields = self._line_fields(lines, start, end)
        iso = self.calendar.day_name(day)
        name = f"{iso}.{self.file_format}"
        country_index = fields.pop("_country")
        code = fields.pop("_code")
        fields["Country"] = self._country.take(country_index)
        bad_rows = [int(r) for r in lines.malformed_rows]
        bad_values = []
        for row, kind in zip(bad_rows, lines.malformed_kinds, strict=True):
            raw = {n: fields[n][row].as_py() or "" for n in COLUMNS}
            bad_values.append(self._malformed_values(raw, kind))
        malformed = [
            {"file": name, "line": row + 2, "kind": kind}
            for row, kind in zip(bad_rows, lines.malformed_kinds, strict=True)
        ]
        mask = np.zeros(len(lines), dtype=bool)
        mask[bad_rows] = True
        if self.file_format == "parquet":
            columns = {}
            for i, column in enumerate(COLUMNS):
                data = fields[column]
                if bad_rows:
                    data = pc.replace_with_mask(
                        data,
                        pa.array(mask),
                        pa.array([v[i] for v in bad_values], pa.string()),
                    )
                columns[column] = data
            return RenderedDay(name, pa.table(columns), malformed)
        customer = pc.if_else(
            pc.is_null(fields["CustomerID"]), "", fields["CustomerID"]
        )
        text = pc.binary_join_element_wise(
            fields["InvoiceNo"],
            self._stock_and_description.take(code),
            fields["Quantity"],
            fields["InvoiceDate"],
            fields["UnitPrice"],
            customer,
            self._country_line_end.take(country_index),
            ",",
        )
        if bad_rows:
            rendered = []
            for values, kind in zip(bad_values, lines.malformed_kinds, strict=True):
                present = [v for v in values if v is not None]
                parts = [
                    v if (kind == "broken_quoting" and i == 2) else csv_field(v)
                    for i, v in enumerate(present)
                ]
                rendered.append(",".join(parts) + "\n")
            text = pc.replace_with_mask(text, pa.array(mask), pa.array(rendered))
        width = np.int64 if pa.types.is_large_string(text.type) else np.int32
        offsets = np.frombuffer(text.buffers()[1], dtype=width)
        offsets = offsets[text.offset : text.offset + len(text) + 1]
        body = memoryview(text.buffers()[2])[offsets[0] : offsets[-1]]
        return RenderedDay(name, HEADER.encode() + bytes(body), malformed)


def write_day(rendered: RenderedDay, folder: Path, compress_level: int) -> int:
    """Write a rendered day to its file.

    Parameters
    ----------
    rendered : RenderedDay
        The day.
    folder : pathlib.Path
        Output folder.
    compress_level : int
        Gzip level (1-9) for CSV files.

    Returns
    -------
    int
        Bytes written.
    """
    path = folder / rendered.name
    if isinstance(rendered.payload, pa.Table):
        pq.write_table(rendered.payload, path, compression="zstd")
        return path.stat().st_size
    data = gzip.compress(rendered.payload, compresslevel=compress_level, mtime=0)
    path.write_bytes(data)
    return len(data)
