from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", admin.site.admin_view(views.console_view), name="console"),
    path("reports/", admin.site.admin_view(views.reports_view), name="console-reports"),
    path("reports/<slug:slug>/", admin.site.admin_view(views.report_view), name="console-report"),
    path("reports/<slug:slug>.csv", admin.site.admin_view(views.report_csv_view), name="console-report-csv"),
]
