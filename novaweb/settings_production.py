"""Production settings: ``DJANGO_SETTINGS_MODULE=novaweb.settings_production``.

Everything of :mod:`novaweb.settings` (the database URLs, the replica), plus:

- ``SECRET_KEY`` and ``ALLOWED_HOSTS`` are required: no development defaults;
- HTTPS only: secure session and CSRF cookies, HSTS, redirect to HTTPS
  (``/healthz`` excepted, for load balancers probing over plain HTTP);
  ``SECURE_PROXY_SSL_HEADER`` trusts ``X-Forwarded-Proto`` from the proxy in
  front (set ``TRUST_X_FORWARDED_PROTO=false`` when nothing strips it);
- the login lockout counts the client's address, the last ``X-Forwarded-For``
  entry of a request from a proxy in ``FORWARDED_ALLOW_IPS`` (gunicorn's
  setting, loopback by default), not the proxy's (``TRUST_X_FORWARDED_FOR=false``
  counts ``REMOTE_ADDR``);
- static files from ``STATIC_ROOT`` (``manage.py collectstatic``) through
  WhiteNoise, compressed and with hashed names, cached forever;
- the Content-Security-Policy, security headers and login lockout of
  :mod:`novaweb.settings`, unchanged;
- logs as JSON lines on stdout (``LOG_LEVEL``, default ``INFO``);
- persistent database connections (``CONN_MAX_AGE`` seconds, default 300; ``0``
  closes them after each request): a request reuses its worker thread's
  connections, checked before reuse (``CONN_HEALTH_CHECKS``), instead of a new
  connection per database per request (on PostgreSQL a server process each);
  the SQL console's read-only connection is still one per query.

``manage.py check --deploy`` reports nothing with these settings.
"""

from django.core.exceptions import ImproperlyConfigured

from novaweb.jsonlog import logging_config
from novaweb.settings import *  # noqa: F403
from novaweb.settings import DATABASES, INSTALLED_APPS, NOVA_DB_ALIAS, NOVA_REPLICA_ALIAS, VAR_DIR, env, number


def _required(name: str, hint: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production (novaweb.settings_production): {hint}")
    return value


if env.bool("DEBUG", default=False) or "debug_toolbar" in INSTALLED_APPS:
    raise ImproperlyConfigured("DEBUG must be off in production (novaweb.settings_production): unset DEBUG")
DEBUG = False

SECRET_KEY = _required(
    "SECRET_KEY",
    "a long random string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`",
)
_hosts = _required("ALLOWED_HOSTS", "the host names novaweb answers to, comma-separated")
ALLOWED_HOSTS = [host.strip() for host in _hosts.split(",") if host.strip()]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz\Z"]  # \Z: "$" would also match "healthz\n"
if env.bool("TRUST_X_FORWARDED_PROTO", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The login lockout counts the client's address, not the proxy's (novaweb.client_ip): the last
# X-Forwarded-For entry of a request from a trusted proxy (gunicorn's FORWARDED_ALLOW_IPS).
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
if env.bool("TRUST_X_FORWARDED_FOR", default=True):
    AXES_CLIENT_IP_CALLABLE = "novaweb.client_ip.client_ip"
SECURE_HSTS_SECONDS = number("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# WhiteNoise (in MIDDLEWARE already) serves collectstatic's hashed copies, not the apps' files.
WHITENOISE_USE_FINDERS = False
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

_conn_max_age = number("CONN_MAX_AGE", 300)
for _alias in ("default", NOVA_DB_ALIAS, NOVA_REPLICA_ALIAS):
    if _alias in DATABASES:
        DATABASES[_alias]["CONN_MAX_AGE"] = _conn_max_age
        DATABASES[_alias]["CONN_HEALTH_CHECKS"] = True

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_log_level = env.str("LOG_LEVEL", default="").strip().upper() or "INFO"
if _log_level not in LOG_LEVELS:
    raise ImproperlyConfigured(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {_log_level!r}")
# A server logs on stdout; a command's stdout is its answer (``--format json``), so manage.py
# sends its logs to stderr (NOVAWEB_LOG_STREAM).
LOGGING = logging_config(_log_level, "stderr" if env.str("NOVAWEB_LOG_STREAM", default="") == "stderr" else "stdout")
