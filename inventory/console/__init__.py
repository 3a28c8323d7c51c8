"""The SQL console: ad-hoc read-only queries and saved reports over the Nova database.

A Django app of its own (label ``console``) so that its query log lives in
Django's ``default`` database, not in Nova's. The pieces, each with one job:

- :mod:`.database`: the ``nova_readonly`` connection alias, read-only and
  time-limited by the server from the moment it connects;
- :mod:`.guard`: refuses, before a query runs, what would read a column the
  inventory hides (``users.secret_key``, ``access_key``);
- :mod:`.runner`: runs one statement on a fresh read-only connection, fetching
  at most the row cap through a server-side / streaming cursor;
- :mod:`.reports`: the saved reports shipped with the app;
- :mod:`.views`, :mod:`.admin`: the pages in the admin and the query log.
"""
