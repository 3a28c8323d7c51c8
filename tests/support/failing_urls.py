"""A URL configuration with one view that fails (``/fails/``): what a bug in a page does."""

from django.urls import path


def fails(request):
    raise RuntimeError("a bug in a page")


urlpatterns = [path("fails/", fails)]
