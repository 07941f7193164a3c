"""Calendar and invoice-level plan of the synthetic shop.

The plan is drawn before any line is generated: every invoice event (a
customer order, a guest order, a return of goods or a discount credit) gets
its day, minute, invoice number and the few numbers its lines depend on.
Invoice numbers increase with time. Lines are generated day by day from this
plan afterwards, so the plan is the only state spanning the whole period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .personas import COUNTRIES, GUEST, PERSONAS, Customers, order_windows

__all__ = [
    "EVENT_CREDIT",
    "EVENT_ORDER",
    "EVENT_RETURN",
    "FIRST_INVOICE",
    "Calendar",
    "Plan",
    "build_calendar",
    "build_plan",
]

#: Invoice number of the first invoice.
FIRST_INVOICE = 536_365
#: Event kinds: an order, a return of goods, a discount credit (both 'C').
EVENT_ORDER, EVENT_RETURN, EVENT_CREDIT = 0, 1, 2
#: Index used for guest invoices in per-persona arrays.
GUEST_INDEX = len(PERSONAS)

_GUEST_LINE_SHARE = 0.22
_CREDIT_PROB = 0.006  # per order of loyal, bulk and lapsed customers
_MANUAL_PROB = 0.004
_BANK_PROB = 0.01  # per order of a customer abroad
_DISCOUNT_REVERSAL_PROB = 0.0005
_POST_PROB = 0.55
_CARRIAGE_PROB = 0.5
_DOTCOM_PROB = 0.35  # per UK guest order
_DEDUP_FACTOR = 0.92  # share of drawn product lines left after de-duplication

# Hour of day (07..20) weights of an order, shaped like a wholesaler's day.
_HOURS = np.arange(7, 21)
_HOUR_WEIGHTS = np.array([0.5, 9, 34, 49, 58, 79, 72, 67, 78, 55, 29, 8, 4, 1.0])


@dataclass(frozen=True)
class Calendar:
    """Days of the period and which of them the shop trades on.

    Attributes
    ----------
    start : numpy.datetime64
        First day.
    n_days : int
        Number of calendar days (start and end included).
    is_open : numpy.ndarray
        Whether the shop trades that day (closed from 24 Dec to 3 Jan).
    is_weekend : numpy.ndarray
        Saturday or Sunday.
    season : numpy.ndarray
        Seasonal demand factor (a pre-Christmas peak in November).
    """

    start: np.datetime64
    n_days: int
    is_open: np.ndarray
    is_weekend: np.ndarray
    season: np.ndarray

    def cumulative(self, weekend_weight: float) -> np.ndarray:
        """Cumulative day weights for a given weekend preference.

        Parameters
        ----------
        weekend_weight : float
            Weight of a weekend day relative to a weekday.

        Returns
        -------
        numpy.ndarray
            ``n_days + 1`` values, ``c[i]`` the weight of days before ``i``.
        """
        weights = self.is_open * self.season
        weights = weights * np.where(self.is_weekend, weekend_weight, 1.0)
        return np.concatenate([[0.0], np.cumsum(weights)])

    def next_open(self) -> np.ndarray:
        """Index of the first trading day on or after each day.

        Returns
        -------
        numpy.ndarray
            ``n_days + 1`` values; ``n_days`` where no trading day follows.
        """
        result = np.full(self.n_days + 1, self.n_days, dtype=np.int64)
        following = self.n_days
        for i in range(self.n_days - 1, -1, -1):
            if self.is_open[i]:
                following = i
            result[i] = following
        return result

    def day_name(self, day: int) -> str:
        """ISO date (``YYYY-MM-DD``) of a day index."""
        return str(self.start + np.timedelta64(day, "D"))


def build_calendar(start: dt.date, end: dt.date) -> Calendar:
    """Build the trading calendar between two dates.

    Parameters
    ----------
    start, end : datetime.date
        First and last day, both included.

    Returns
    -------
    Calendar
        The calendar.
    """
    first = np.datetime64(start, "D")
    n_days = (end - start).days + 1
    days = first + np.arange(n_days)
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    closed = ((months == 12) & (day_of_month >= 24)) | (
        (months == 1) & (day_of_month <= 3)
    )
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64) + 1
    season = 1.0 + 0.7 * np.exp(-(((day_of_year - 320) / 35.0) ** 2))
    return Calendar(
        start=first,
        n_days=n_days,
        is_open=~closed,
        is_weekend=weekday >= 5,
        season=season,
    )


def _sample_days(
    cumulative: np.ndarray, first: np.ndarray, last: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Draw days in ``[first, last]`` proportional to the day weights.

    ``u = 0`` gives the first day of the window with a positive weight and
    ``u`` close to 1 the last one.
    """
    low = cumulative[first]
    high = cumulative[last + 1]
    target = low + np.clip(u, 0.0, 1.0 - 1e-9) * (high - low)
    day = np.searchsorted(cumulative, target, side="right") - 1
    return np.clip(day, first, last)


def _minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw minutes of the day of ``n`` invoices."""
    hours = rng.choice(_HOURS, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return (hours * 60 + rng.integers(0, 60, size=n)).astype(np.int16)


def _line_counts(
    rng: np.random.Generator, median: float, sigma: float, cap: int, n: int
) -> np.ndarray:
    """Draw lognormal product-line counts of ``n`` orders."""
    raw = np.rint(median * rng.lognormal(0.0, sigma, size=n))
    return np.clip(raw, 1, cap).astype(np.int32)


@dataclass(frozen=True)
class Plan:
    """Every invoice event, sorted by invoice number (i.e. by time).

    Attributes
    ----------
    day, minute : numpy.ndarray
        Day index and minute of the day.
    kind : numpy.ndarray
        :data:`EVENT_ORDER`, :data:`EVENT_RETURN` or :data:`EVENT_CREDIT`.
    customer : numpy.ndarray
        Index into the customers, -1 for a guest invoice.
    group : numpy.ndarray
        Persona index of the customer, :data:`GUEST_INDEX` for guests.
    country : numpy.ndarray
        Index into :data:`~datagen.personas.COUNTRIES`.
    n_lines : numpy.ndarray
        Product lines to draw (orders only).
    post_qty, carriage, bank : numpy.ndarray
        Postage quantity, carriage flag and bank-charge flag of an order.
    dotcom_cents, manual_cents, reversal_cents : numpy.ndarray
        Price of a DOT, M or positive D line on an order (0 for none).
    return_lines : numpy.ndarray
        Lines a return takes back.
    credit_cents : numpy.ndarray
        Amount of a discount credit.
    origin : numpy.ndarray
        For a return, the event index of the order it returns; else -1.
    day_bounds : numpy.ndarray
        Events of day ``d`` are ``day_bounds[d]:day_bounds[d + 1]``.
    returns_by_origin : numpy.ndarray
        Indices of the return events sorted by their origin.
    """

    day: np.ndarray
    minute: np.ndarray
    kind: np.ndarray
    customer: np.ndarray
    group: np.ndarray
    country: np.ndarray
    n_lines: np.ndarray
    post_qty: np.ndarray
    carriage: np.ndarray
    bank: np.ndarray
    dotcom_cents: np.ndarray
    manual_cents: np.ndarray
    reversal_cents: np.ndarray
    return_lines: np.ndarray
    credit_cents: np.ndarray
    origin: np.ndarray
    day_bounds: np.ndarray
    returns_by_origin: np.ndarray

    @property
    def n_events(self) -> int:
        """Number of invoice events."""
        return int(self.day.size)

    def invoice(self, start: int, end: int) -> np.ndarray:
        """Invoice numbers of the events ``start:end``.

        Numbers are consecutive in time order from :data:`FIRST_INVOICE`;
        cancellations are written with a 'C' prefix.
        """
        return FIRST_INVOICE + np.arange(start, end, dtype=np.int64)

    def expected_lines(self) -> float:
        """Approximate number of data lines the plan will produce.

        Returns
        -------
        float
            Product lines (after the expected de-duplication), extra lines,
            return and credit lines, plus the planted duplicates.
        """
        orders = self.kind == EVENT_ORDER
        product = float(self.n_lines[orders].sum()) * _DEDUP_FACTOR
        extra = float(
            np.count_nonzero(self.post_qty)
            + self.carriage.sum()
            + self.bank.sum()
            + np.count_nonzero(self.dotcom_cents)
            + np.count_nonzero(self.manual_cents)
            + np.count_nonzero(self.reversal_cents)
        )
        cancelled = float(self.return_lines.sum()) * 0.97 + float(
            np.count_nonzero(self.kind == EVENT_CREDIT)
        )
        return (product + extra + cancelled) * 1.008

    def expected_lines_per_day(self) -> np.ndarray:
        """Approximate product lines of each day (for placing dirt)."""
        orders = self.kind == EVENT_ORDER
        n_days = self.day_bounds.size - 1
        return np.bincount(
            self.day[orders], weights=self.n_lines[orders], minlength=n_days
        )


def _customer_orders(
    rng: np.random.Generator, calendar: Calendar, customers: Customers
) -> dict[str, np.ndarray]:
    """Orders of the registered customers, persona by persona."""
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("day", "customer", "group", "n_lines")
    }
    for index, spec in enumerate(PERSONAS):
        members = np.flatnonzero(customers.persona == index)
        if members.size == 0:
            continue
        windows = order_windows(rng, spec, members.size, calendar.n_days)
        counts = windows.n_orders
        owner = np.repeat(np.arange(members.size), counts)
        slot = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
        u = rng.random(owner.size)
        if windows.pin_ends:  # first and last order near the window's ends
            edge = 0.01 * rng.random(owner.size)
            u = np.where(slot == 0, edge, u)
            u = np.where((slot == counts[owner] - 1) & (slot > 0), 1.0 - edge, u)
        cumulative = calendar.cumulative(spec.weekend_weight)
        days = _sample_days(cumulative, windows.first[owner], windows.last[owner], u)
        parts["day"].append(days.astype(np.int32))
        parts["customer"].append(members[owner].astype(np.int32))
        parts["group"].append(np.full(owner.size, index, dtype=np.int8))
        parts["n_lines"].append(
            _line_counts(
                rng, spec.lines_median, spec.lines_sigma, spec.lines_max, owner.size
            )
        )
    orders = {k: np.concatenate(v) for k, v in parts.items()}
    orders["country"] = customers.country[orders["customer"]].astype(np.int16)
    return orders


def _guest_orders(
    rng: np.random.Generator, calendar: Calendar, customer_lines: float
) -> dict[str, np.ndarray]:
    """Anonymous orders holding about a fifth of all product lines."""
    target = customer_lines * _GUEST_LINE_SHARE / (1.0 - _GUEST_LINE_SHARE)
    guess = int(target / (GUEST.lines_median * 1.4)) + 10
    n_lines = _line_counts(
        rng, GUEST.lines_median, GUEST.lines_sigma, GUEST.lines_max, guess * 2
    )
    n = int(np.searchsorted(np.cumsum(n_lines), target)) + 1
    first = np.zeros(n, dtype=np.int64)
    days = _sample_days(
        calendar.cumulative(GUEST.weekend_weight),
        first,
        first + calendar.n_days - 1,
        rng.random(n),
    )
    abroad = np.array([w for _, w, _ in COUNTRIES[1:]])
    country = np.where(
        rng.random(n) < 0.96,
        0,
        1 + rng.choice(abroad.size, size=n, p=abroad / abroad.sum()),
    )
    return {
        "day": days.astype(np.int32),
        "customer": np.full(n, -1, dtype=np.int32),
        "group": np.full(n, GUEST_INDEX, dtype=np.int8),
        "n_lines": n_lines[:n],
        "country": country.astype(np.int16),
    }


def _sparse_cents(
    rng: np.random.Generator, mask: np.ndarray, median: float, sigma: float
) -> np.ndarray:
    """Lognormal prices in pence where ``mask`` holds, 0 elsewhere."""
    out = np.zeros(mask.size, dtype=np.int32)
    where = np.flatnonzero(mask)
    out[where] = np.maximum(1, np.rint(median * rng.lognormal(0.0, sigma, where.size)))
    return out


def _extras(rng: np.random.Generator, orders: dict[str, np.ndarray]) -> dict:
    """Non-product lines (postage, carriage, ...) of each order."""
    n = orders["day"].size
    country = orders["country"]
    registered = orders["customer"] >= 0
    postage = np.array([p for _, _, p in COUNTRIES])[country] > 0
    posting = postage & (rng.random(n) < np.where(registered, _POST_PROB, 0.3))
    post_qty = np.zeros(n, dtype=np.int16)
    post_qty[posting] = 1 + rng.poisson(0.5, size=int(posting.sum()))
    eire = [name for name, _, _ in COUNTRIES].index("EIRE")
    dotcom = ~registered & (country == 0) & (rng.random(n) < _DOTCOM_PROB)
    reversal = registered & (rng.random(n) < _DISCOUNT_REVERSAL_PROB)
    return {
        "post_qty": post_qty,
        "carriage": (country == eire) & (rng.random(n) < _CARRIAGE_PROB),
        "bank": registered & (country > 0) & (rng.random(n) < _BANK_PROB),
        "dotcom_cents": _sparse_cents(rng, dotcom, 9000, 0.8),
        "manual_cents": _sparse_cents(rng, rng.random(n) < _MANUAL_PROB, 250, 1.0),
        "reversal_cents": _sparse_cents(rng, reversal, 1500, 0.6),
    }


#: Shape of the gamma-distributed personal return propensity (mean 1): at
#: 0.3 about half the customers have a propensity below 0.1.
RETURN_PROPENSITY_SHAPE = 0.3


def _returns(
    rng: np.random.Generator,
    calendar: Calendar,
    orders: dict[str, np.ndarray],
    minute: np.ndarray,
) -> dict[str, np.ndarray]:
    """Returns of goods: 'C' invoices taking back lines of earlier orders.

    Returns are uneven: each registered customer's chance per order is the
    persona's ``return_prob`` times a personal propensity (gamma, mean 1,
    shape :data:`RETURN_PROPENSITY_SHAPE`), so most customers never return
    anything and a few return often, as in real shops.
    """
    n_days = calendar.n_days
    group = orders["group"]
    specs = [*PERSONAS, GUEST]
    chance = np.array([p.return_prob for p in specs])[group]
    customer = orders["customer"]
    shape = RETURN_PROPENSITY_SHAPE
    propensity = rng.gamma(shape, 1.0 / shape, size=int(customer.max(initial=-1)) + 1)
    registered = customer >= 0
    chance = np.where(
        registered,
        np.minimum(0.9, chance * propensity[np.maximum(customer, 0)]),
        chance,
    )
    returned = np.flatnonzero(rng.random(group.size) < chance)
    bought_day = orders["day"][returned]
    bought_minute = minute[returned]
    same_day = rng.random(returned.size) < 0.3
    delay = np.where(
        same_day, 0, 1 + np.minimum(27, rng.exponential(6.0, size=returned.size))
    ).astype(np.int64)
    day = calendar.next_open()[np.minimum(bought_day + delay, n_days)]
    later = np.minimum(
        bought_minute + rng.integers(10, 180, size=returned.size),
        np.maximum(bought_minute + 1, 20 * 60 + 59),
    )
    day_minute = np.where(day == bought_day, later, _minutes(rng, returned.size))
    extra = np.array([p.return_extra_lines for p in specs])[group[returned]]
    n_lines = 1 + rng.poisson(extra)
    keep = day < n_days  # returns after the end date are never written
    return {
        "origin": returned[keep],
        "day": day[keep],
        "minute": day_minute[keep],
        "lines": n_lines[keep],
    }


def _credits(
    rng: np.random.Generator, calendar: Calendar, orders: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Discount credits: 'C' invoices with one negative D line."""
    givers = [
        i
        for i, p in enumerate(PERSONAS)
        if p.name in ("loyal_high_spender", "bulk_wholesaler", "lapsed_regular")
    ]
    group = orders["group"]
    credited = np.flatnonzero(
        np.isin(group, givers) & (rng.random(group.size) < _CREDIT_PROB)
    )
    later = orders["day"][credited] + rng.integers(1, 15, size=credited.size)
    day = calendar.next_open()[np.minimum(later, calendar.n_days)]
    keep = day < calendar.n_days
    credited, day = credited[keep], day[keep]
    return {
        "origin": credited,
        "day": day,
        "minute": _minutes(rng, credited.size),
        "cents": np.rint(2000 * rng.lognormal(0.0, 0.7, size=credited.size)),
    }


def build_plan(
    rng: np.random.Generator, calendar: Calendar, customers: Customers
) -> Plan:
    """Draw every invoice event of the period.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    calendar : Calendar
        Trading calendar.
    customers : Customers
        Registered customers.

    Returns
    -------
    Plan
        The events sorted by time, with invoice numbers assigned.
    """
    registered = _customer_orders(rng, calendar, customers)
    guests = _guest_orders(rng, calendar, float(registered["n_lines"].sum()))
    orders = {k: np.concatenate([registered[k], guests[k]]) for k in registered}
    del registered, guests
    n_orders = orders["day"].size
    minute = _minutes(rng, n_orders)
    extras = _extras(rng, orders)
    returns = _returns(rng, calendar, orders, minute)
    credits = _credits(rng, calendar, orders)
    n_ret, n_cred = returns["day"].size, credits["day"].size
    total = n_orders + n_ret + n_cred

    def stack(on_orders, on_returns, on_credits, dtype) -> np.ndarray:
        out = np.empty(total, dtype=dtype)
        out[:n_orders] = on_orders
        out[n_orders : n_orders + n_ret] = on_returns
        out[n_orders + n_ret :] = on_credits
        return out

    day = stack(orders["day"], returns["day"], credits["day"], np.int32)
    all_minute = stack(minute, returns["minute"], credits["minute"], np.int16)
    order = np.lexsort((rng.random(total), all_minute, day))
    del all_minute
    position = np.empty(total, dtype=np.int32)
    position[order] = np.arange(total, dtype=np.int32)
    parent = stack(np.arange(n_orders), returns["origin"], credits["origin"], np.int32)[
        order
    ]

    def on_orders(values: np.ndarray, dtype) -> np.ndarray:
        """An order attribute, 0 on returns and credits, in time order."""
        return stack(values, 0, 0, dtype)[order]

    origin = stack(-1, position[returns["origin"]], -1, np.int32)[order]
    is_return = np.flatnonzero(origin >= 0)
    day = day[order]
    return Plan(
        day=day,
        minute=stack(minute, returns["minute"], credits["minute"], np.int16)[order],
        kind=stack(EVENT_ORDER, EVENT_RETURN, EVENT_CREDIT, np.int8)[order],
        customer=orders["customer"][parent],
        group=orders["group"][parent],
        country=orders["country"][parent],
        n_lines=on_orders(orders["n_lines"], np.int32),
        post_qty=on_orders(extras["post_qty"], np.int16),
        carriage=on_orders(extras["carriage"], bool),
        bank=on_orders(extras["bank"], bool),
        dotcom_cents=on_orders(extras["dotcom_cents"], np.int32),
        manual_cents=on_orders(extras["manual_cents"], np.int32),
        reversal_cents=on_orders(extras["reversal_cents"], np.int32),
        return_lines=stack(0, returns["lines"], 0, np.int16)[order],
        credit_cents=stack(0, 0, credits["cents"], np.int32)[order],
        origin=origin,
        day_bounds=np.searchsorted(day, np.arange(calendar.n_days + 1)),
        returns_by_origin=is_return[np.argsort(origin[is_return], kind="stable")],
    )
