"""Bulk loading (``seed_demo``, benchmarks): the fastest way a backend takes many rows."""

from __future__ import annotations

import contextlib


class BulkLoad:
    def bulk_insert(self, cursor, table: str, columns: tuple, rows: list) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) the fastest way the backend offers.

        Here: one ``executemany``; MySQLdb rewrites it into multi-row INSERTs.
        """
        quote = self.quote_for_params
        names = ", ".join(map(quote, columns))
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)

    @contextlib.contextmanager
    def bulk_load(self, cursor):
        """A session set up for a bulk load of consistent rows (foreign-key checks off, as a dump restore)."""
        yield

    def analyze(self, cursor, tables) -> None:
        """Refresh the planner's statistics (and so the catalog's row estimates) after a bulk load."""
        quote = self.quote
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
