"""sqlalchemy-migrate's bookkeeping table, as Nova's database has it."""

from django.db import models

from .declarations import NovaModel

#: The schema version the models describe: Nova Essex (2012.1).
MODELS_VERSION = 82
REPOSITORY_ID = "nova"
REPOSITORY_PATH = "/usr/lib/python2.7/dist-packages/nova/db/sqlalchemy/migrate_repo"
#: Opens the schema page (``schema.admin_views``); the roles (``inventory.roles``) grant it to viewers and up.
SCHEMA_PAGE_PERMISSION = "schema.view_migrateversion"
#: The schema page's actions: the role "schema operator".
SCHEMA_OPERATE_PERMISSION = "schema.operate_schema"


class MigrateVersion(NovaModel):
    repository_id = models.CharField(primary_key=True, max_length=250)
    repository_path = models.TextField(null=True, blank=True)
    version = models.IntegerField(null=True, blank=True)

    class Meta(NovaModel.Meta):
        db_table = "migrate_version"
        verbose_name = "schema version"
        permissions = [("operate_schema", "Can run the schema page's actions")]

    def __str__(self):
        version = "-" if self.version is None else self.version
        return f"{self.repository_id or '-'} at version {version}"
