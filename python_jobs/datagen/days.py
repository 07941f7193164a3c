"""Line generation for one trading day.

A day's lines come from the plan's events of that day: product lines of
orders, extra non-product lines (postage, carriage, manual, bank charges,
dotcom postage, discounts), lines of returns booked when their order was
generated, and discount credits. Then the dirt is planted: zero prices,
exact duplicate lines and, on chosen days, a few malformed lines. Everything
is vectorised per day; the random stream of a day depends only on the seed
and the day, so the output does not depend on any chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalogue import Catalogue
from .personas import COUNTRIES, GUEST, PERSONAS
from .plan import EVENT_CREDIT, EVENT_ORDER, Plan

__all__ = [
    "MALFORMED_KINDS",
    "DayGenerator",
    "DayLines",
    "ReturnBook",
]

#: Kinds of malformed lines, planted in this rotation.
MALFORMED_KINDS: tuple[str, ...] = (
    "missing_field",
    "bad_quantity",
    "bad_date",
    "broken_quoting",
)

_ZERO_PRICE_PROB = 0.003
_DUPLICATE_PROB = 0.008
_FULL_RETURN_PROB = 0.6
_STREAM_DAY = 2  # spawn key of the per-day random streams

# Pack sizes quantities are rounded to.
_PACKS = np.array(
    [
        1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 18, 20, 24, 25, 32, 36, 40, 48, 50,
        60, 72, 80, 96, 100, 120, 144, 150, 160, 192, 200, 240, 288, 300, 360,
        384, 400, 432, 480, 500, 576, 600, 640, 720, 800, 960, 1000, 1152,
        1200, 1440, 1600, 2000, 2400, 2880, 3000, 4000,
    ],
    dtype=np.int64,
)  # fmt: skip
_PACK_MIDS = (np.log(_PACKS[1:]) + np.log(_PACKS[:-1])) / 2

# Sequence numbers placing extra lines inside an invoice (POST comes first).
_SEQ_POST = -1
_SEQ_EXTRA = 1_000_000


@dataclass(frozen=True)
class DayLines:
    """The data lines of one day, in file order.

    Attributes
    ----------
    event : numpy.ndarray
        Plan event index of every line.
    code : numpy.ndarray
        Catalogue code index of every line.
    qty : numpy.ndarray
        Quantity (negative on returns and credits).
    cents : numpy.ndarray
        Unit price in pence.
    duplicate : numpy.ndarray
        True on the planted copy of the line before it.
    malformed_rows : numpy.ndarray
        Row numbers (0-based data rows) to be written malformed.
    malformed_kinds : tuple of str
        Kind of each malformed row.
    """

    event: np.ndarray
    code: np.ndarray
    qty: np.ndarray
    cents: np.ndarray
    duplicate: np.ndarray
    malformed_rows: np.ndarray
    malformed_kinds: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.event.size)


class ReturnBook:
    """Lines waiting to be written on the day of their return."""

    def __init__(self) -> None:
        self._by_day: dict[int, list[tuple[np.ndarray, ...]]] = {}

    def add(
        self,
        day: np.ndarray,
        event: np.ndarray,
        seq: np.ndarray,
        code: np.ndarray,
        qty: np.ndarray,
        cents: np.ndarray,
    ) -> None:
        """Book return lines.

        Parameters
        ----------
        day : numpy.ndarray
            Day index of each line's return invoice.
        event, seq, code, qty, cents : numpy.ndarray
            Return event, position in the invoice, code, quantity, price.
        """
        for value in np.unique(day):
            mask = day == value
            self._by_day.setdefault(int(value), []).append(
                (event[mask], seq[mask], code[mask], qty[mask], cents[mask])
            )

    def pop(self, day: int) -> tuple[np.ndarray, ...]:
        """Remove and return the lines booked for a day.

        Parameters
        ----------
        day : int
            Day index.

        Returns
        -------
        tuple of numpy.ndarray
            ``(event, seq, code, qty, cents)``, possibly empty.
        """
        parts = self._by_day.pop(day, [])
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return (empty,) * 5
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def __len__(self) -> int:
        return sum(p[0].size for parts in self._by_day.values() for p in parts)


class DayGenerator:
    """Generate the lines of each day from a plan.

    Parameters
    ----------
    plan : Plan
        The invoice events.
    catalogue : Catalogue
        Products and non-product codes.
    seed : int
        Seed of the run; with the day index it seeds the day's stream.
    """

    def __init__(self, plan: Plan, catalogue: Catalogue, seed: int) -> None:
        self.plan = plan
        self.catalogue = catalogue
        self.seed = seed
        self.book = ReturnBook()
        specs = [*PERSONAS, GUEST]
        self._pools = [catalogue.pool(spec.pool) for spec in specs]
        self._cdfs = []
        for pool in self._pools:
            cdf = np.cumsum(catalogue.popularity[pool])
            self._cdfs.append(cdf / cdf[-1])
        self._qty_log_median = np.log([spec.qty_median for spec in specs])
        self._qty_sigma = np.array([spec.qty_sigma for spec in specs])
        self._postage = np.array([p for _, _, p in COUNTRIES], dtype=np.int64)
        self._plain = np.array(
            [
                "," not in text and '"' not in text and " " in text.strip()
                for text in catalogue.descriptions
            ]
        )
        self._origin_of_returns = plan.origin[plan.returns_by_origin]

    def rng(self, day: int) -> np.random.Generator:
        """Random stream of one day."""
        sequence = np.random.SeedSequence(self.seed, spawn_key=(_STREAM_DAY, day))
        return np.random.default_rng(sequence)

    def _products(
        self, rng: np.random.Generator, local: np.ndarray, group: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Draw the product lines of the day's orders.

        Returns the order (local index), product, quantity and price of each
        line, with at most one line per product and order.
        """
        u = rng.random(local.size)
        product = np.empty(local.size, dtype=np.int64)
        for g in np.unique(group):
            mask = group == g
            pick = np.searchsorted(self._cdfs[g], u[mask], side="right")
            product[mask] = self._pools[g][np.minimum(pick, self._pools[g].size - 1)]
        z = rng.standard_normal(local.size)
        log_qty = self._qty_log_median[group] + self._qty_sigma[group] * z
        qty = _PACKS[np.searchsorted(_PACK_MIDS, log_qty)]
        _, first = np.unique(
            local * self.catalogue.n_products + product, return_index=True
        )
        keep = np.zeros(local.size, dtype=bool)
        keep[first] = True
        local, product, qty = local[keep], product[keep], qty[keep]
        cents = np.where(
            qty >= 100,
            self.catalogue.tier_cents[product],
            self.catalogue.base_cents[product],
        )
        cents = np.where(rng.random(local.size) < _ZERO_PRICE_PROB, 0, cents)
        return local, product, qty, cents

    def _book_returns(
        self,
        rng: np.random.Generator,
        start: int,
        end: int,
        lines: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Book the lines that later returns take back from today's orders."""
        local, product, qty, cents = lines
        plan = self.plan
        low, high = np.searchsorted(self._origin_of_returns, [start, end])
        returns = plan.returns_by_origin[low:high]
        if returns.size == 0:
            return
        counts = np.bincount(local, minlength=end - start)
        starts = np.cumsum(counts) - counts
        origin = plan.origin[returns] - start
        available = counts[origin]
        take = np.minimum(plan.return_lines[returns].astype(np.int64), available)
        offset = np.floor(rng.random(returns.size) * available).astype(np.int64)
        which = np.repeat(np.arange(returns.size), take)
        seq = np.arange(which.size) - np.repeat(np.cumsum(take) - take, take)
        line = starts[origin][which] + (offset[which] + seq) % available[which]
        bought = qty[line]
        partial = 1 + np.floor(rng.random(line.size) * bought).astype(np.int64)
        back = np.where(rng.random(line.size) < _FULL_RETURN_PROB, bought, partial)
        self.book.add(
            day=plan.day[returns][which],
            event=returns[which],
            seq=seq,
            code=product[line],
            qty=-np.minimum(back, bought),
            cents=cents[line],
        )

    def _extras(
        self, start: int, end: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Non-product lines of today's orders and credits."""
        plan = self.plan
        cat = self.catalogue
        span = slice(start, end)
        local = np.arange(end - start)
        parts: list[tuple[np.ndarray, ...]] = []

        def add(mask: np.ndarray, seq: int, code: str, qty, cents) -> None:
            n = int(mask.sum())
            if n == 0:
                return
            parts.append(
                (
                    local[mask],
                    np.full(n, seq),
                    np.full(n, cat.code_index(code)),
                    np.broadcast_to(np.asarray(qty), mask.shape)[mask],
                    np.broadcast_to(np.asarray(cents), mask.shape)[mask],
                )
            )

        post_qty = plan.post_qty[span].astype(np.int64)
        add(
            post_qty > 0, _SEQ_POST, "POST", post_qty, self._postage[plan.country[span]]
        )
        add(plan.carriage[span], _SEQ_EXTRA, "C2", 1, 5000)
        add(plan.bank[span], _SEQ_EXTRA + 1, "BANK CHARGES", 1, 1500)
        dotcom = plan.dotcom_cents[span]
        add(dotcom > 0, _SEQ_EXTRA + 2, "DOT", 1, dotcom)
        manual = plan.manual_cents[span]
        add(manual > 0, _SEQ_EXTRA + 3, "M", 1, manual)
        reversal = plan.reversal_cents[span]
        add(reversal > 0, _SEQ_EXTRA + 4, "D", 1, reversal)
        credit = plan.kind[span] == EVENT_CREDIT
        add(credit, 0, "D", -1, plan.credit_cents[span])
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return (empty,) * 5
        return tuple(
            np.concatenate(c).astype(np.int64) for c in zip(*parts, strict=True)
        )

    def generate(self, day: int, malformed: tuple[str, ...] = ()) -> DayLines:
        """Generate the lines of one day.

        Days must be generated in increasing order, because returns are
        booked when the order they take back is generated.

        Parameters
        ----------
        day : int
            Day index.
        malformed : tuple of str
            Kinds of malformed lines to plant in this day's file.

        Returns
        -------
        DayLines
            The day's lines (possibly none).
        """
        plan = self.plan
        start, end = int(plan.day_bounds[day]), int(plan.day_bounds[day + 1])
        rng = self.rng(day)
        n_lines = np.where(
            plan.kind[start:end] == EVENT_ORDER, plan.n_lines[start:end], 0
        )
        local = np.repeat(np.arange(end - start), n_lines)
        group = plan.group[start:end][local].astype(np.int64)
        products = self._products(rng, local, group)
        self._book_returns(rng, start, end, products)
        p_local, p_code, p_qty, p_cents = products
        counts = np.bincount(p_local, minlength=end - start)
        p_seq = np.arange(p_local.size) - np.repeat(np.cumsum(counts) - counts, counts)
        r_event, r_seq, r_code, r_qty, r_cents = self.book.pop(day)
        e_local, e_seq, e_code, e_qty, e_cents = self._extras(start, end)
        local = np.concatenate([p_local, r_event - start, e_local]).astype(np.int64)
        seq = np.concatenate([p_seq, r_seq, e_seq]).astype(np.int64)
        order = np.lexsort((seq, local))
        code = np.concatenate([p_code, r_code, e_code]).astype(np.int64)[order]
        qty = np.concatenate([p_qty, r_qty, e_qty]).astype(np.int64)[order]
        cents = np.concatenate([p_cents, r_cents, e_cents]).astype(np.int64)[order]
        event = local[order] + start

        # Exact duplicates: a copy right after the original line.
        copies = rng.random(event.size) < _DUPLICATE_PROB
        repeat = 1 + copies.astype(np.int64)
        rows = np.repeat(np.arange(event.size), repeat)
        duplicate = np.zeros(rows.size, dtype=bool)
        first_of = np.cumsum(repeat) - repeat
        duplicate[first_of[copies] + 1] = True
        involved = duplicate.copy()
        involved[first_of[copies]] = True
        event, code, qty, cents = event[rows], code[rows], qty[rows], cents[rows]

        chosen = np.zeros(0, dtype=np.int64)
        if malformed:
            position = np.arange(event.size)
            eligible = (
                (position >= 1)
                & (position <= event.size - 2)
                & (code < self.catalogue.n_products)
                & self._plain[code]
                & (plan.customer[event] >= 0)
                & (plan.kind[event] == EVENT_ORDER)
                & (cents > 0)
                & ~involved
            )
            candidates = np.flatnonzero(eligible)
            size = min(len(malformed), candidates.size)
            chosen = np.sort(rng.choice(candidates, size=size, replace=False))
        return DayLines(
            event=event,
            code=code,
            qty=qty,
            cents=cents,
            duplicate=duplicate,
            malformed_rows=chosen.astype(np.int64),
            malformed_kinds=tuple(malformed[: chosen.size]),
        )
