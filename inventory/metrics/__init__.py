"""``/metrics`` for Prometheus (``prometheus_client``), behind a bearer token (``METRICS_TOKEN``).

- :mod:`.figures`: what the Nova database says (schema version, drift, live
  instances by state and host, soft-deleted rows, data-migration backlog), each
  cached and refreshed in the background, so a scrape reads the cache only;
- :mod:`.collector`: those figures as Prometheus gauges;
- :mod:`.requests`: the request counter and latency histogram (a middleware);
- :mod:`.view`: the endpoint and its token check.
"""
