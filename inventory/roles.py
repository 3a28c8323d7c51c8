"""novaweb's roles: Django groups with the permissions each kind of operator needs.

- **viewer**: reads the inventory (every list, page and CSV export), the
  dashboard and the schema page (``view_*`` on every model of the
  ``inventory`` and ``schema`` apps).
- **flavor manager**: viewer + adds, changes and soft-deletes flavors and
  their extra specs.
- **schema operator**: viewer + the schema page's actions
  (``schema.operate_schema``).

Staff in no group (and without permissions of their own) see nothing of
Nova's: Django's admin shows each model only to users with its permissions.
:func:`sync_roles` creates the groups or puts their permissions back as
defined here (``manage.py novaweb_roles``; ``scripts/demo.sh`` runs it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from novaweb.router import NOVA_APPS
from schema.models import SCHEMA_OPERATE_PERMISSION, SCHEMA_PAGE_PERMISSION  # noqa: F401 -- re-exported

#: Opens the inventory dashboard (instances by state, host and flavor).
DASHBOARD_PERMISSION = "inventory.view_instance"


def _view_all() -> tuple[str, ...]:
    models = [model for label in sorted(NOVA_APPS) for model in apps.get_app_config(label).get_models()]
    return tuple(f"{model._meta.app_label}.view_{model._meta.model_name}" for model in models)


def _edit(*models: str) -> tuple[str, ...]:
    return tuple(f"inventory.{action}_{model}" for model in models for action in ("add", "change", "delete"))


@dataclass(frozen=True)
class Role:
    slug: str  # what --role takes and the demo user's default name
    group: str  # the Django group's name
    description: str
    extra: tuple[str, ...] = ()

    def permissions(self) -> tuple[str, ...]:
        """``app_label.codename`` of every permission the role grants."""
        return (*_view_all(), *self.extra)


ROLES = {
    role.slug: role
    for role in (
        Role("viewer", "viewer", "read the inventory, the dashboard and the schema page"),
        Role(
            "flavor-manager",
            "flavor manager",
            "viewer + add, change and soft-delete flavors and extra specs",
            _edit("flavor", "flavorextraspec"),
        ),
        Role(
            "schema-operator",
            "schema operator",
            "viewer + the schema page's actions",
            (SCHEMA_OPERATE_PERMISSION,),
        ),
    )
}


def _permission_objects(names: tuple[str, ...]) -> list[Permission]:
    labels = {name.split(".", 1)[0] for name in names}
    known = {
        f"{perm.content_type.app_label}.{perm.codename}": perm
        for perm in Permission.objects.filter(content_type__app_label__in=labels).select_related("content_type")
    }
    missing = sorted(set(names) - set(known))
    if missing:
        # Django creates permissions in `migrate`; a fresh database has none yet.
        raise LookupError(f"permissions missing ({', '.join(missing[:3])}...): run `manage.py migrate` first")
    return [known[name] for name in names]


@transaction.atomic
def sync_roles() -> list[tuple[Role, bool]]:
    """Create each role's group or reset its permissions; ``[(role, created)]``."""
    done = []
    for role in ROLES.values():
        group, created = Group.objects.get_or_create(name=role.group)
        group.permissions.set(_permission_objects(role.permissions()))
        done.append((role, created))
    return done


def role_choices() -> list[str]:
    return list(ROLES)
