"""Send Nova's tables to the ``nova`` alias and Django's own tables elsewhere.

Every model of the ``inventory`` and ``schema`` apps lives in the Nova
database; nothing else does. Django's ``migrate`` never creates a table
there: ``db_sync`` owns that schema.
"""

from django.conf import settings

NOVA_APPS = frozenset({"inventory", "schema"})


class NovaRouter:
    def _is_nova(self, model):
        return model._meta.app_label in NOVA_APPS

    def db_for_read(self, model, **hints):
        if self._is_nova(model):
            return settings.NOVA_DB_ALIAS
        return "default"

    def db_for_write(self, model, **hints):
        if self._is_nova(model):
            return settings.NOVA_DB_ALIAS
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return self._is_nova(obj1.__class__) == self._is_nova(obj2.__class__)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in NOVA_APPS:
            return False
        return db == "default"
