from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.urls import include, path

from inventory.admin.dashboard import dashboard_view
from inventory.metrics.view import metrics_view
from inventory.roles import DASHBOARD_PERMISSION
from novaweb.health import healthz

urlpatterns = [
    path("admin/schema/", include("schema.admin_views")),
    path("admin/console/", include("inventory.console.urls")),
    path(
        "admin/inventory/dashboard/",
        admin.site.admin_view(permission_required(DASHBOARD_PERMISSION, raise_exception=True)(dashboard_view)),
        name="inventory-dashboard",
    ),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]

if "debug_toolbar" in settings.INSTALLED_APPS:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
