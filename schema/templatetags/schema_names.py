"""``{% load schema_names %}``: a database name as an HTML id or URL fragment (see :mod:`schema.names`)."""

from django import template

from schema.names import html_id

register = template.Library()


@register.filter(name="table_anchor")
def table_anchor(name: str) -> str:
    """The id of a table's section on the schema page: ``<a href="#{{ name|table_anchor }}">``."""
    return f"table-{html_id(name)}"
