"""Exports of the inventory lists (the admin's "Export CSV" and ``manage.py export_inventory``).

The database builds every cell: the list's columns are SQL expressions
(``columns``), assembled into one query with the list's filters, search and
order (``query``), and streamed out by a server-side cursor or PostgreSQL's
``COPY ... TO STDOUT`` (``writers``). Python only writes the bytes.
"""
