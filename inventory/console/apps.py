from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ConsoleConfig(AppConfig):
    name = "inventory.console"
    label = "console"
    verbose_name = "SQL console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .database import lock_down

        connection_created.connect(lock_down, dispatch_uid="novaweb-console-read-only")
