"""Bulk loading (``seed_demo``, benchmarks): the fastest way a backend takes many rows.

A load runs in a :class:`BulkSession` (``Dialect.bulk_session()``), in two steps
that may run on two threads: :meth:`BulkSession.encode` turns a batch of rows
into what the server reads (CPU work, ahead of the server) and
:meth:`BulkSession.send` hands it to the server (mostly waiting on it). Here
the rows go as they are to :meth:`BulkLoad.bulk_insert`; MySQL/MariaDB
encodes them as a ``LOAD DATA LOCAL INFILE`` file (:mod:`.load_data`).
"""

from __future__ import annotations

import contextlib


class BulkSession:
    """One bulk load on the dialect's connection, in its current transaction.

    ``encode`` may run on any thread; ``send`` runs on one thread at a time, the only one using the
    connection while the session is open (the rows commit or roll back with the caller's transaction).
    """

    #: why a faster method was not used ("" when none applies), for the operator
    note = ""

    def __init__(self, dialect, cursor):
        self.dialect = dialect
        self.cursor = cursor
        #: how the rows reach the server, for reports
        self.method = dialect.bulk_method

    def encode(self, table: str, columns: tuple, rows: list):
        """What :meth:`send` loads: here the rows themselves."""
        return table, columns, rows

    def send(self, payload) -> None:
        self.dialect.bulk_insert(self.cursor, *payload)


class BulkLoad:
    #: what ``bulk_insert`` runs, for reports
    bulk_method = "multi-row INSERT"

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

    def bulk_connection(self):
        """A block around a bulk load where the dialect's connection is set up for its fastest path.

        Here nothing changes; MySQL/MariaDB reopens the connection with the client's ``local_infile``
        for the block (``LOAD DATA LOCAL INFILE``) and closes it at the end. Enter it outside any
        transaction; the load and everything else the caller writes happen inside it, on that connection.
        """
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def bulk_session(self, *, fastest: bool = True):
        """A :class:`BulkSession` on this dialect's connection, for rows written from other threads too.

        ``fastest=False``: this generic session (``bulk_insert``) even where the backend has a faster
        path, the reference that path is checked against.
        """
        connection = self.connection
        connection.inc_thread_sharing()
        try:
            with connection.cursor() as cursor, self.bulk_load(cursor):
                yield BulkSession(self, cursor)
        finally:
            connection.dec_thread_sharing()

    def analyze(self, cursor, tables) -> None:
        """Refresh the planner's statistics (and so the catalog's row estimates) after a bulk load."""
        quote = self.quote
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
