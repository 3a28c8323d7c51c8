from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SchemaConfig(AppConfig):
    name = "schema"
    verbose_name = "Nova schema"

    def ready(self):
        from .session_modes import make_strict

        connection_created.connect(make_strict, dispatch_uid="novaweb-strict-sql-mode")
