"""The console's query log, in Django's own database (never in Nova's)."""

from django.conf import settings
from django.db import models

#: Run ad-hoc SQL and the saved reports (the viewer role does not have it unless granted).
RUN_SQL_PERMISSION = "console.run_sql"


class QueryLog(models.Model):
    """One statement the console ran (or refused): who, when, how long, how many rows, the SQL."""

    class Kind(models.TextChoices):
        QUERY = "query", "query"
        EXPLAIN = "explain", "explain"
        CSV = "csv", "CSV export"
        REPORT = "report", "report"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="kept when the user is deleted")
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False, help_text="the row cap stopped the read")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.QUERY)
    report = models.CharField(max_length=64, blank=True)
    sql = models.TextField()
    error = models.TextField(blank=True, help_text="why the statement was refused or failed; empty when it ran")

    class Meta:
        ordering = ("-started_at", "-id")
        verbose_name = "console query"
        verbose_name_plural = "console query log"
        permissions = [("run_sql", "Can run read-only SQL and saved reports in the console")]

    def __str__(self):
        return f"{self.username} at {self.started_at:%Y-%m-%d %H:%M:%S}"
