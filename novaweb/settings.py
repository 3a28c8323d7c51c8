"""novaweb settings: 12-factor through django-environ.

Read from the environment or a ``.env`` file at the project root:

- ``DATABASE_URL``: Django's own tables (auth, sessions, admin log).
- ``NOVA_DATABASE_URL``: the Nova database (``mysql://``, ``postgres://``, ``sqlite:///``).
- ``NOVA_REPLICA_DATABASE_URL``: optional read replica of the Nova database.
- ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS``.

With nothing set, both databases are SQLite files under ``var/``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from inventory.console.database import readonly_database

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="novaweb-development-only-not-secret")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])


def number(name: str, default: int | float):
    """A count or a number of seconds from the environment (``int`` or ``float``, as ``default``).

    Unset or empty gives ``default``; anything but a number >= 0 is a configuration error
    (one line, exit 2) rather than a traceback in every command and every gunicorn worker.
    """
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    cast = type(default)
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or value < 0 or value != value:  # not a number, negative, NaN
        kind = "a whole number" if cast is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {kind} >= 0, not {raw!r}")
    return value


NOVA_DB_ALIAS = "nova"
#: The apps whose models are Nova's tables: routed to the Nova database, read by the schema engine.
NOVA_APPS = ["inventory", "schema"]
NOVA_REPLICA_ALIAS = "nova_replica"


SUPPORTED_ENGINES = {
    "django.db.backends.sqlite3",
    "django.db.backends.mysql",
    "django.db.backends.postgresql",
}


def _database(var, default):
    """Parse one database URL; a malformed one is a configuration error (exit 2)."""
    url = env.str(var, default=default)
    try:
        config = env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 -- django-environ raises several kinds
        raise ImproperlyConfigured(f"{var} is not a valid database URL ({url!r}): {exc}") from None
    if config.get("ENGINE") not in SUPPORTED_ENGINES:
        raise ImproperlyConfigured(
            f"{var} has an unsupported scheme ({url.split(':', 1)[0]!r}): use mysql://, postgres:// or sqlite:///"
        )
    if config["ENGINE"] == "django.db.backends.mysql":
        config.setdefault("OPTIONS", {}).setdefault("charset", "utf8")
        # MariaDB's client library allows LOAD DATA LOCAL unless told not to: only seed_demo's load turns it on
        config["OPTIONS"].setdefault("local_infile", False)
    return config


DATABASES = {
    "default": _database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'novaweb.sqlite3'}"),
    NOVA_DB_ALIAS: _database("NOVA_DATABASE_URL", f"sqlite:///{VAR_DIR / 'nova.sqlite3'}"),
}
if env.str("NOVA_REPLICA_DATABASE_URL", default=""):
    DATABASES[NOVA_REPLICA_ALIAS] = _database("NOVA_REPLICA_DATABASE_URL", "")
    if not DATABASES[NOVA_REPLICA_ALIAS]["ENGINE"].endswith("sqlite3"):
        # A replica host that stops answering costs a page 2 s, not the driver's default (forever).
        DATABASES[NOVA_REPLICA_ALIAS].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
# Lag-aware and causal reads (novaweb/replication.py; README "Read replicas").
NOVA_REPLICA_MAX_LAG = number("NOVA_REPLICA_MAX_LAG", 5.0)
NOVA_REPLICA_CAUSAL_WAIT = number("NOVA_REPLICA_CAUSAL_WAIT", 0.5)
# The SQL console's read-only, time-limited alias (inventory/console; README "SQL console").
NOVA_READONLY_ALIAS = "nova_readonly"
NOVA_CONSOLE_TIMEOUT = number("NOVA_CONSOLE_TIMEOUT", 10.0)
NOVA_CONSOLE_MAX_ROWS = number("NOVA_CONSOLE_MAX_ROWS", 10_000)
NOVA_CONSOLE_CSV_MAX_ROWS = number("NOVA_CONSOLE_CSV_MAX_ROWS", 1_000_000)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
DATABASES[NOVA_READONLY_ALIAS] = readonly_database(
    _database("NOVA_READONLY_DATABASE_URL", "")
    if env.str("NOVA_READONLY_DATABASE_URL", default="")
    else DATABASES.get(NOVA_REPLICA_ALIAS, DATABASES[NOVA_DB_ALIAS]),
    timeout_seconds=NOVA_CONSOLE_TIMEOUT,
)
DATABASE_ROUTERS = ["novaweb.router.NovaRouter"]

INSTALLED_APPS = [
    "novaweb.apps.NovaAdminConfig",  # django.contrib.admin with novaweb's site (novaweb/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # runserver leaves static files to WhiteNoise, DEBUG or not
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "inventory",
    "inventory.console",
    "schema",
]

#: The schema engine's commands (manage.py names them) need Nova's models and nothing of the web:
#: without the admin, the console, login lockout and CSP, a command starts in half the time.
SCHEMA_COMMAND_APPS = ["inventory", "schema"]
if env.bool("NOVAWEB_SCHEMA_COMMAND", default=False):
    INSTALLED_APPS = SCHEMA_COMMAND_APPS

MIDDLEWARE = [
    "inventory.metrics.requests.RequestMetricsMiddleware",  # first: times the whole request (/metrics)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # right after SecurityMiddleware, as WhiteNoise asks
    "csp.middleware.CSPMiddleware",
    "novaweb.middleware.ReplicaPinningMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "novaweb.database_errors.NovaDatabaseErrorMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

if DEBUG and env.bool("DEBUG_TOOLBAR", default=True):
    INSTALLED_APPS.append("debug_toolbar")
    # After authentication: the toolbar is for superusers only (novaweb.toolbar), never anonymous.
    _auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    MIDDLEWARE.insert(_auth + 1, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    DEBUG_TOOLBAR_CONFIG = {"SHOW_TOOLBAR_CALLBACK": "novaweb.toolbar.show_toolbar"}

ROOT_URLCONF = "novaweb.urls"
WSGI_APPLICATION = "novaweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Nova stores naive UTC datetimes; so does novaweb.
USE_TZ = False
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# --- static files, sign-in, login lockout, security headers (README: "Sign-in, roles and security") ---

# WhiteNoise serves the admin's CSS and JS wherever the app runs (runserver with DEBUG off,
# gunicorn): here straight from the apps (no collectstatic needed); settings_production serves
# collectstatic's hashed copies from STATIC_ROOT instead.
WHITENOISE_USE_FINDERS = True

# A refused form (a CSRF token that no longer matches) gets the admin's look and what to do.
CSRF_FAILURE_VIEW = "novaweb.csrf.csrf_failure"

LOGIN_URL = "admin:login"
# Where a login lands when ``next`` is missing or unsafe (another host): the admin index.
LOGIN_REDIRECT_URL = "admin:index"

# django-axes: after LOGIN_FAILURE_LIMIT failed logins for a user name, or from an address, the
# next attempts (even with the right password) are refused for LOGIN_LOCKOUT_MINUTES;
# ``manage.py axes_reset`` lifts every lockout. Attempts are stored in the default database
# (Django's own; the router keeps them out of Nova's). Behind a reverse proxy every client
# has the proxy's address: set LOGIN_LOCKOUT_PARAMETERS=username there.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = number("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=number("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = env.list("LOGIN_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "novaweb/locked_out.html"

# Security headers on every response: nosniff and the referrer policy from SecurityMiddleware,
# a Content-Security-Policy from django-csp. Scripts and styles come from this origin only
# (static files); an inline <style> must carry the request's nonce (``request.csp_nonce``).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# A request's error (a 500) on stderr when DEBUG is off: Django's default sends it only to
# ADMINS by e-mail (none here), so runserver (scripts/demo.sh) answered "Server Error (500)"
# and logged nothing. Not for the schema commands (no requests; manage.py skips logging set-up
# for them when LOGGING is empty). settings_production replaces this with its JSON logs.
LOGGING = (
    {}
    if INSTALLED_APPS == SCHEMA_COMMAND_APPS
    else {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
        "handlers": {
            "request_errors": {"class": "logging.StreamHandler", "level": "ERROR", "filters": ["require_debug_false"]}
        },
        "loggers": {"django.request": {"handlers": ["request_errors"]}},
    }
)
