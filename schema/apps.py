from django.apps import AppConfig


class SchemaConfig(AppConfig):
    name = "schema"
    verbose_name = "Nova schema"
