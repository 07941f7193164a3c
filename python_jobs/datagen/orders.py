"""Drawing the invoice events of the plan: orders, their extras, returns, credits.

Each function draws one kind of event as a dict of aligned arrays;
:func:`datagen.plan.build_plan` puts them in time order and numbers them.
"""

from __future__ import annotations

import numpy as np

from .personas import COUNTRIES, GUEST, PERSONAS, Customers, order_windows
from .trading_calendar import Calendar

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

# Hour of day (07..20) weights of an order, shaped like a wholesaler's day.
_HOURS = np.arange(7, 21)
_HOUR_WEIGHTS = np.array([0.5, 9, 34, 49, 58, 79, 72, 67, 78, 55, 29, 8, 4, 1.0])


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


def minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw minutes of the day of ``n`` invoices."""
    hours = rng.choice(_HOURS, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return (hours * 60 + rng.integers(0, 60, size=n)).astype(np.int16)


def _line_counts(
    rng: np.random.Generator, median: float, sigma: float, cap: int, n: int
) -> np.ndarray:
    """Draw lognormal product-line counts of ``n`` orders."""
    raw = np.rint(median * rng.lognormal(0.0, sigma, size=n))
    return np.clip(raw, 1, cap).astype(np.int32)


def customer_orders(
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


def guest_orders(
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


def extras(rng: np.random.Generator, orders: dict[str, np.ndarray]) -> dict:
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


def returns(
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
    day_minute = np.where(day == bought_day, later, minutes(rng, returned.size))
    extra = np.array([p.return_extra_lines for p in specs])[group[returned]]
    n_lines = 1 + rng.poisson(extra)
    keep = day < n_days  # returns after the end date are never written
    return {
        "origin": returned[keep],
        "day": day[keep],
        "minute": day_minute[keep],
        "lines": n_lines[keep],
    }


def credits(
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
        "minute": minutes(rng, credited.size),
        "cents": np.rint(2000 * rng.lognormal(0.0, 0.7, size=credited.size)),
    }
