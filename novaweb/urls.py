from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from inventory.admin.dashboard import dashboard_view
from novaweb.health import healthz

urlpatterns = [
    path("admin/schema/", include("schema.admin_views")),
    path("admin/inventory/dashboard/", admin.site.admin_view(dashboard_view), name="inventory-dashboard"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

if "debug_toolbar" in settings.INSTALLED_APPS:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
