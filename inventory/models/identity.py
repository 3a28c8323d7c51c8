"""Identity (Essex deprecated auth): users, projects, roles, quotas, tokens."""

from django.db import models

from .base import CompositeForeignKey, SchemaFacts, SoftDeleteModel, named, relation, shown


class AuthToken(SoftDeleteModel):
    token_hash = models.CharField(primary_key=True, max_length=255)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    server_management_url = models.CharField(max_length=255, null=True, blank=True)
    storage_url = models.CharField(max_length=255, null=True, blank=True)
    cdn_management_url = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "auth_tokens"

    def __str__(self):
        return f"auth token of user {shown(self.user_id)}"


class Certificate(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    file_name = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "certificates"

    def __str__(self):
        return shown(self.file_name, f"certificate of {shown(self.user_id)} in {shown(self.project_id)}")


class Project(SoftDeleteModel):
    id = models.CharField(primary_key=True, max_length=255)
    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.CharField(max_length=255, null=True, blank=True)
    manager = relation("User", constraint=True, db_column="project_manager", related_name="managed_projects", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "projects"

    def __str__(self):
        return named(self.name, self.pk)


class Quota(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    resource = models.CharField(max_length=255)
    hard_limit = models.IntegerField(null=True, blank=True)

    schema_facts = SchemaFacts(
        column_order=("id", "created_at", "updated_at", "deleted_at", "deleted"),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "quotas"

    def __str__(self):
        return f"{shown(self.resource)} ≤ {shown(self.hard_limit)} for project {shown(self.project_id)}"


class UserProjectMembership(SoftDeleteModel):
    pk = models.CompositePrimaryKey("user", "project")
    user = relation("User", constraint=True, related_name="project_memberships")
    project = relation("Project", constraint=True, related_name="memberships")

    schema_facts = SchemaFacts(
        late_foreign_keys=("user_id", "project_id"),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "user_project_association"

    def __str__(self):
        return f"{shown(self.user_id)} in project {shown(self.project_id)}"


class UserProjectRole(SoftDeleteModel):
    pk = models.CompositePrimaryKey("user_id", "project_id", "role")
    user_id = models.CharField(max_length=255)
    project_id = models.CharField(max_length=255)
    role = models.CharField(max_length=255)

    schema_facts = SchemaFacts(
        composite_foreign_keys=(
            CompositeForeignKey(("user_id", "project_id"), "user_project_association", ("user_id", "project_id")),
        ),
        late_composite=True,
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "user_project_role_association"

    def __str__(self):
        return f"{shown(self.user_id)} is {shown(self.role)} in project {shown(self.project_id)}"


class UserRole(SoftDeleteModel):
    pk = models.CompositePrimaryKey("user", "role")
    user = relation("User", constraint=True, related_name="roles")
    role = models.CharField(max_length=255)

    class Meta(SoftDeleteModel.Meta):
        db_table = "user_role_association"

    def __str__(self):
        return f"{shown(self.user_id)} is {shown(self.role)}"


class User(SoftDeleteModel):
    id = models.CharField(primary_key=True, max_length=255)
    name = models.CharField(max_length=255, null=True, blank=True)
    access_key = models.CharField(max_length=255, null=True, blank=True)
    secret_key = models.CharField(max_length=255, null=True, blank=True)
    is_admin = models.BooleanField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "users"

    def __str__(self):
        # Never a key: access_key and secret_key stay out of every page title.
        return named(self.name, self.pk)
