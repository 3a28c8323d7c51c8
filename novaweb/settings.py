"""novaweb settings: 12-factor through django-environ.

Read from the environment or a ``.env`` file at the project root:

- ``DATABASE_URL``: Django's own tables (auth, sessions, admin log).
- ``NOVA_DATABASE_URL``: the Nova database (``mysql://``, ``postgres://``, ``sqlite:///``).
- ``NOVA_REPLICA_DATABASE_URL``: optional read replica of the Nova database.
- ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS``.

With nothing set, both databases are SQLite files under ``var/``.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="novaweb-development-only-not-secret")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

NOVA_DB_ALIAS = "nova"
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
    return config


DATABASES = {
    "default": _database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'novaweb.sqlite3'}"),
    NOVA_DB_ALIAS: _database("NOVA_DATABASE_URL", f"sqlite:///{VAR_DIR / 'nova.sqlite3'}"),
}
if env.str("NOVA_REPLICA_DATABASE_URL", default=""):
    DATABASES[NOVA_REPLICA_ALIAS] = _database("NOVA_REPLICA_DATABASE_URL", "")
DATABASE_ROUTERS = ["novaweb.router.NovaRouter"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "inventory",
    "schema",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "novaweb.middleware.ReplicaPinningMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "novaweb.database_errors.NovaDatabaseErrorMiddleware",
]

if DEBUG and env.bool("DEBUG_TOOLBAR", default=True):
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]

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
