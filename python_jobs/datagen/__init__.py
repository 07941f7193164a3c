"""Synthetic "Online Retail" transaction data with planted customer personas.

The package backs the command ``python_jobs/generate_data.py``. It writes one
file per trading day in the schema of the UCI "Online Retail" data set, with
realistic dirt (cancellations, guest invoices, duplicates, malformed lines)
and a ground truth of the persona planted behind every customer.

Modules
-------
catalogue
    The product catalogue and the non-product stock codes.
personas
    Persona definitions and the customers drawn from them.
trading_calendar
    The trading calendar (open days, weekends, season).
orders
    The draws of each kind of invoice event (orders, extras, returns, credits).
plan
    The invoice-level plan: every event in time order, numbered.
days
    Line generation for one trading day, including the dirt.
output
    Rendering of a day to CSV or Parquet and writing it.
generator
    The orchestration: plan, generate day by day, write, summarise.
"""

from __future__ import annotations

from .generator import GeneratorConfig, generate
from .personas import PERSONAS, PersonaSpec

__all__ = ["PERSONAS", "GeneratorConfig", "PersonaSpec", "generate"]
