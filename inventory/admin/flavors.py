"""Flavor editing in the admin: Nova's ``instance_types`` with its extra specs.

Create, edit, soft-delete (Nova's way: ``deleted`` and ``deleted_at`` set, the
row kept) and extra specs inline, with Nova's API rules and messages
(``inventory.flavors``, ``inventory.forms.flavor``). Soft-deleted flavors are
hidden from the list unless the "deleted" filter asks for them, and are
read-only.

A flavor instances use is special: Essex's usage reports read the current
flavor row, so changing its sizing in place rewrites the usage history of
every instance on it. Such an edit stops at a confirmation naming how many
live and deleted instances it touches, next to "clone with new sizing" (a new
flavor, the old one soft-deleted, the instances keeping the old row).

Every write is in the admin history (``LogEntry`` in Django's own database)
with who and a change message saying what changed, extra specs included.

Every write (add, change, clone, delete, the delete action) runs under the
flavor write lock (:mod:`inventory.flavor_locks`): uniqueness checks and the
write happen with no other flavor writer in between. A change page carries
the version it was opened at (:mod:`inventory.flavor_versions`); a save from
a page that is no longer current is refused, saying who changed what since.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, router
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from inventory import flavor_versions, flavors
from inventory.admin.filters import DeletedFilter
from inventory.admin.query_string import QueryStringPolicy
from inventory.flavor_locks import FlavorWriteBusy, flavor_write_lock
from inventory.forms.flavor import (
    CONFIRM_SIZING,
    CloneFlavorForm,
    ExtraSpecForm,
    ExtraSpecFormSet,
    FlavorForm,
    usage_token,
)
from inventory.models import Flavor, FlavorExtraSpec

#: Columns a change message reports, in this order.
MESSAGE_FIELDS = ("name", "flavorid", *flavors.SIZING_FIELDS, "rxtx_factor")


class ExtraSpecInline(admin.TabularInline):
    model = FlavorExtraSpec
    form = ExtraSpecForm
    formset = ExtraSpecFormSet
    fields = ("key", "value")
    extra = 1
    verbose_name = "extra spec"
    verbose_name_plural = "extra specs"

    def get_queryset(self, request):
        return super().get_queryset(request).live().order_by("key", "pk")


def _log(request, obj, flag, message):
    return LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=flag, change_message=message, single_object=True
    )


def _spec(key, value):
    return f"{key}={value}"


def extra_spec_changes(formsets) -> list[str]:
    """What the extra-specs inline did, one phrase per spec."""
    phrases = []
    for formset in formsets:
        for obj in formset.new_objects:
            phrases.append(f"added extra spec {_spec(obj.key, obj.value)}")
        for form in formset.initial_forms:
            obj = form.instance
            if obj in formset.deleted_objects:
                phrases.append(f"soft-deleted extra spec {_spec(form.initial['key'], form.initial['value'])}")
            elif any(obj is changed for changed, _ in formset.changed_objects):
                before, after = _spec(form.initial["key"], form.initial["value"]), _spec(obj.key, obj.value)
                phrases.append(f"changed extra spec {before} → {after}")
    return phrases


@admin.register(Flavor)
class FlavorAdmin(QueryStringPolicy, admin.ModelAdmin):
    form = FlavorForm
    inlines = [ExtraSpecInline]
    list_display = (
        "name",
        "flavorid",
        "memory_mb",
        "vcpus",
        "root_gb",
        "ephemeral_gb",
        "swap",
        "rxtx_factor",
        "deleted",
        "deleted_at",
    )
    list_display_links = ("name",)
    list_filter = (DeletedFilter,)
    search_fields = ("name", "flavorid")
    ordering = ("id",)
    fieldsets = (
        (None, {"fields": ("name", "flavorid")}),
        ("Sizing", {"fields": flavors.SIZING_FIELDS}),
        ("Other", {"fields": ("rxtx_factor",)}),
    )
    record_fields = ("id", "instance_usage", "vcpu_weight", "created_at", "updated_at", "deleted", "deleted_at")

    # --- what can be done to which row ---------------------------------------------

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.deleted)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.deleted)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return (*self.fieldsets, ("Record", {"fields": self.record_fields}))

    def get_readonly_fields(self, request, obj=None):
        return self.record_fields if obj is not None else ()

    @admin.display(description="Instances using it")
    def instance_usage(self, obj):
        return str(flavors.usage(obj)) if obj.pk else "-"

    # --- writes: one at a time, from a current page ----------------------------------

    def _locked(self, request, view, *args, **kwargs):
        """``view`` under the flavor write lock for a POST; a GET runs as it is."""
        if request.method != "POST":
            return view(request, *args, **kwargs)
        try:
            with flavor_write_lock():
                return view(request, *args, **kwargs)
        except FlavorWriteBusy as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except DatabaseError as exc:
            # MySQL's 1366 "Incorrect string value": a character a column the forms do not check cannot store.
            if not (exc.args and exc.args[0] == 1366):
                raise
            self.message_user(
                request, f"Nothing was saved: the database cannot store a value: {exc.args[1]}", messages.ERROR
            )
        return redirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._locked(request, self._current_changeform_view, object_id, form_url, extra_context)

    def _current_changeform_view(self, request, object_id, form_url, extra_context):
        """The change form, refusing a save made from a page opened before the flavor's last change."""
        may_change = self.has_change_permission(request)  # the user's right; the row's state is checked below
        if request.method == "POST" and object_id is not None and may_change:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                conflict = flavor_versions.conflict(obj, request.POST, using=self._primary())
                if conflict is not None:
                    self.message_user(request, conflict.message(), messages.ERROR)
                    return redirect(request.get_full_path())
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._locked(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._locked(request, super().changelist_view, extra_context)

    @staticmethod
    def _primary():
        return router.db_for_write(Flavor)

    def save_model(self, request, obj, form, change):
        now = flavors.utcnow()
        if change:
            obj.updated_at = now
        else:
            obj.created_at, obj.deleted = now, False
        obj.save()

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(
            request, f"The flavor “{obj_display}” was soft-deleted: its row stays, with deleted=1.", messages.SUCCESS
        )
        changelist = reverse(f"{self.admin_site.name}:inventory_flavor_changelist")
        context = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return redirect(add_preserved_filters(context, changelist))

    def delete_model(self, request, obj):
        flavors.soft_delete(obj)

    def delete_queryset(self, request, queryset):
        now = flavors.utcnow()
        for obj in queryset:
            if not obj.deleted:
                flavors.soft_delete(obj, now=now)

    # --- history ---------------------------------------------------------------------

    def construct_change_message(self, request, form, formsets, add):
        """Plain sentences (the history page shows them as they are): old → new, specs included."""
        obj = form.instance
        if add:
            values = ", ".join(f"{field} {getattr(obj, field)}" for field in MESSAGE_FIELDS)
            parts = [f"created flavor: {values}"]
        else:
            changed = [
                f"{f} {form.initial.get(f)} → {getattr(obj, f)}" for f in MESSAGE_FIELDS if f in form.changed_data
            ]
            if form.usage and form.usage.total and flavors.sizing_changes(form.initial, form.cleaned_data):
                changed.append(f"sizing changed in place, confirmed, on a flavor used by {form.usage}")
            parts = ["changed " + "; ".join(changed)] if changed else []
        parts.extend(extra_spec_changes(formsets))
        if not parts:
            return "No fields changed."
        return ". ".join(part[0].upper() + part[1:] for part in parts) + "."

    def log_deletions(self, request, queryset):
        return [
            _log(
                request,
                obj,
                DELETION,
                f"Soft-deleted (deleted=1 and deleted_at set; the row stays). {flavors.usage(obj)} reference it.",
            )
            for obj in queryset
            if not obj.deleted
        ]

    # --- the change form: sizing confirmation and clone --------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if obj is not None and form.pending_sizing:
            sizing = {field: form.cleaned_data.get(field) for field in flavors.SIZING_FIELDS}
            context.update(
                sizing_usage=form.usage,
                confirm_sizing_name=CONFIRM_SIZING,
                confirm_sizing_token=usage_token(form.usage),
                clone_url=self._clone_url(obj) + "?" + urlencode(sizing),
            )
        if obj is not None and not obj.deleted:
            context["clone_url_plain"] = self._clone_url(obj)
        if obj is not None:
            context["flavor_version_name"] = flavor_versions.FIELD_NAME
            context["flavor_version"] = flavor_versions.token(obj.pk, using=self._primary())
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def render_delete_form(self, request, context):
        obj = context.get("object")
        if obj is not None:
            context["flavor_usage"] = flavors.usage(obj)
        return super().render_delete_form(request, context)

    def _clone_url(self, obj):
        return reverse(f"{self.admin_site.name}:inventory_flavor_clone", args=[obj.pk])

    def get_urls(self):
        clone = path(
            "<path:object_id>/clone/",
            self.admin_site.admin_view(self.clone_view),
            name="inventory_flavor_clone",
        )
        return [clone, *super().get_urls()]

    def clone_view(self, request, object_id):
        return self._locked(request, self._clone_view, object_id)

    def _clone_view(self, request, object_id):
        """A new flavor with new sizing, the old one soft-deleted; both in the history."""
        old = self.get_object(request, unquote(object_id))
        if old is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST" and old.deleted and self.has_view_permission(request, old):
            # Cloned (or deleted) by someone else since this page was opened: say so, clone nothing.
            form = CloneFlavorForm(request.POST, old=old)
            form.is_valid()
            form.add_error(None, self._already_deleted(old))
        elif not (self.has_change_permission(request, old) and self.has_add_permission(request)):
            raise PermissionDenied
        elif request.method == "POST":
            form = CloneFlavorForm(request.POST, old=old)
            if form.is_valid():
                return self._clone(request, old, form)
        else:
            initial = {"name": old.name, **{f: request.GET.get(f, getattr(old, f)) for f in flavors.SIZING_FIELDS}}
            form = CloneFlavorForm(initial=initial, old=old)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Clone {old.name} with new sizing",
            "subtitle": None,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": old,
            "form": form,
            "usage": flavors.usage(old),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/inventory/flavor/clone_form.html", context)

    def _already_deleted(self, old):
        entry = (
            flavor_versions.history(old.pk).filter(action_flag=DELETION).select_related("user").order_by("pk").last()
        )
        who = f" by {entry.user.get_username()} at {entry.action_time:%Y-%m-%d %H:%M:%S} UTC" if entry else ""
        why = f" ({entry.change_message})" if entry else ""
        return f"{old.name} was soft-deleted{who} since you opened this page{why}; nothing was cloned."

    def _clone(self, request, old, form):
        old_repr = f"{old.name} (id {old.pk}, flavorid {old.flavorid})"
        usage = flavors.usage(old)
        changes = flavors.describe_changes(flavors.sizing_changes(old, form.sizing())) or "sizing unchanged"
        new = flavors.clone_with_new_sizing(
            old, name=form.cleaned_data["name"], flavorid=form.cleaned_data["flavorid"], sizing=form.sizing()
        )
        new_repr = f"{new.name} (id {new.pk}, flavorid {new.flavorid})"
        _log(
            request,
            old,
            DELETION,
            f"Soft-deleted: replaced by clone {new_repr} with new sizing: {changes}. "
            f"Its {usage} keep this row and their usage history.",
        )
        _log(
            request,
            new,
            ADDITION,
            f"Cloned from {old_repr} with new sizing: {changes}; {new.copied_extra_specs} extra specs copied.",
        )
        self.message_user(
            request, f"Cloned {old_repr} as {new_repr}; the old flavor is soft-deleted.", messages.SUCCESS
        )
        return redirect(reverse(f"{self.admin_site.name}:inventory_flavor_change", args=[new.pk]))
