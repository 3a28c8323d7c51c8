"""gunicorn settings for novaweb: ``gunicorn -c deploy/gunicorn.conf.py novaweb.wsgi``.

Environment: ``GUNICORN_BIND`` (default ``127.0.0.1:8000``), ``GUNICORN_WORKERS``
(default 2 x CPUs + 1), ``GUNICORN_THREADS`` (4 per worker), ``GUNICORN_TIMEOUT``
(60 s), ``LOG_LEVEL`` (``INFO``);
``DJANGO_SETTINGS_MODULE`` defaults to ``novaweb.settings_production``.
Logs (gunicorn's and the application's, access log included) go to stdout as
JSON lines. ``kill -HUP <master pid>`` reloads gracefully: new workers with
the new code and settings start, old ones finish their requests and exit.
"""

import multiprocessing
import os
import sys
from pathlib import Path

chdir = str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, chdir)  # the config is read before gunicorn changes to ``chdir``

from novaweb.jsonlog import logging_config  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "novaweb.settings_production")

wsgi_app = "novaweb.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Threads (gthread), not the sync worker: a sync worker tells the arbiter it is
# alive only between requests, so any response longer than ``timeout`` (a big
# CSV export to a slow client) is killed mid-stream. A gthread worker's main
# thread keeps reporting while its threads serve, so ``timeout`` only catches a
# worker that is stuck as a whole; a long download runs to its end. Exports
# also carry a Content-Length (inventory.admin.export): a download cut anyway
# (a worker killed, a proxy's timeout) is one the client sees as failed.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: bounds any slow leak, staggered by the jitter.
max_requests = 5000
max_requests_jitter = 500

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logconfig_dict = logging_config(os.environ.get("LOG_LEVEL", "INFO").upper())
# Trust X-Forwarded-* only from a proxy on this machine.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn >= 25's control socket has one default path per user: several
# instances on one host (tests, benchmarks, blue/green) would share it.
control_socket_disable = True
