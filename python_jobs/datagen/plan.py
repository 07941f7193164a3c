"""The invoice-level plan of the synthetic shop.

The plan is drawn before any line is generated: every invoice event (a
customer order, a guest order, a return of goods or a discount credit) gets
its day, minute, invoice number and the few numbers its lines depend on.
Invoice numbers increase with time. Lines are generated day by day from this
plan afterwards, so the plan is the only state spanning the whole period.
The calendar is :mod:`~datagen.trading_calendar`; the draws of each kind
of event are :mod:`~datagen.orders`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .orders import (
    credits,
    customer_orders,
    extras,
    guest_orders,
    minutes,
    returns,
)
from .personas import Customers
from .trading_calendar import Calendar

__all__ = [
    "EVENT_CREDIT",
    "EVENT_ORDER",
    "EVENT_RETURN",
    "FIRST_INVOICE",
    "Plan",
    "build_plan",
]

#: Invoice number of the first invoice.
FIRST_INVOICE = 536_365
#: Event kinds: an order, a return of goods, a discount credit (both 'C').
EVENT_ORDER, EVENT_RETURN, EVENT_CREDIT = 0, 1, 2
_DEDUP_FACTOR = 0.92  # share of drawn product lines left after de-duplication


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
        Persona index of the customer, :data:`~datagen.orders.GUEST_INDEX` for guests.
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
    registered = customer_orders(rng, calendar, customers)
    guests = guest_orders(rng, calendar, float(registered["n_lines"].sum()))
    orders = {k: np.concatenate([registered[k], guests[k]]) for k in registered}
    del registered, guests
    n_orders = orders["day"].size
    minute = minutes(rng, n_orders)
    order_extras = extras(rng, orders)
    order_returns = returns(rng, calendar, orders, minute)
    order_credits = credits(rng, calendar, orders)
    n_ret, n_cred = order_returns["day"].size, order_credits["day"].size
    total = n_orders + n_ret + n_cred

    def stack(on_orders, on_returns, on_credits, dtype) -> np.ndarray:
        out = np.empty(total, dtype=dtype)
        out[:n_orders] = on_orders
        out[n_orders : n_orders + n_ret] = on_returns
        out[n_orders + n_ret :] = on_credits
        return out

    day = stack(orders["day"], order_returns["day"], order_credits["day"], np.int32)
    all_minute = stack(
        minute, order_returns["minute"], order_credits["minute"], np.int16
    )
    order = np.lexsort((rng.random(total), all_minute, day))
    del all_minute
    position = np.empty(total, dtype=np.int32)
    position[order] = np.arange(total, dtype=np.int32)
    parent = stack(
        np.arange(n_orders), order_returns["origin"], order_credits["origin"], np.int32
    )[order]

    def on_orders(values: np.ndarray, dtype) -> np.ndarray:
        """An order attribute, 0 on returns and credits, in time order."""
        return stack(values, 0, 0, dtype)[order]

    origin = stack(-1, position[order_returns["origin"]], -1, np.int32)[order]
    is_return = np.flatnonzero(origin >= 0)
    day = day[order]
    return Plan(
        day=day,
        minute=stack(
            minute, order_returns["minute"], order_credits["minute"], np.int16
        )[order],
        kind=stack(EVENT_ORDER, EVENT_RETURN, EVENT_CREDIT, np.int8)[order],
        customer=orders["customer"][parent],
        group=orders["group"][parent],
        country=orders["country"][parent],
        n_lines=on_orders(orders["n_lines"], np.int32),
        post_qty=on_orders(order_extras["post_qty"], np.int16),
        carriage=on_orders(order_extras["carriage"], bool),
        bank=on_orders(order_extras["bank"], bool),
        dotcom_cents=on_orders(order_extras["dotcom_cents"], np.int32),
        manual_cents=on_orders(order_extras["manual_cents"], np.int32),
        reversal_cents=on_orders(order_extras["reversal_cents"], np.int32),
        return_lines=stack(0, order_returns["lines"], 0, np.int16)[order],
        credit_cents=stack(0, 0, order_credits["cents"], np.int32)[order],
        origin=origin,
        day_bounds=np.searchsorted(day, np.arange(calendar.n_days + 1)),
        returns_by_origin=is_return[np.argsort(origin[is_return], kind="stable")],
    )
