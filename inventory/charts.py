"""Horizontal bar charts as inline SVG, drawn on the server (no JavaScript, no CDN)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 170
BAR_WIDTH = 360
PALETTE = ("#417690", "#79aec8", "#5b80b2", "#ba2121", "#e1a73b", "#3a8f5c")


def bar_chart(title: str, rows, *, unit: str = "", color: str = PALETTE[0]):
    """``rows``: ``[(label, value), ...]`` -> an accessible ``<svg>`` (a ``<title>`` and text labels)."""
    rows = list(rows)
    top = max((value for _, value in rows), default=0) or 1
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP) + GAP
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
        '<rect x="{}" y="0" width="{}" height="{}" fill="{}"><title>{}: {}{}</title></rect>'
        '<text x="{}" y="{}" font-size="12">{}{}</text></g>',
        (
            (
                GAP + n * (BAR_HEIGHT + GAP),
                LABEL_WIDTH - 6,
                BAR_HEIGHT - 5,
                label,
                LABEL_WIDTH,
                max(round(BAR_WIDTH * value / top), 1 if value else 0),
                BAR_HEIGHT,
                color,
                label,
                value,
                unit,
                LABEL_WIDTH + max(round(BAR_WIDTH * value / top), 1) + 4,
                BAR_HEIGHT - 5,
                value,
                unit,
            )
            for n, (label, value) in enumerate(rows)
        ),
    )
    width = LABEL_WIDTH + BAR_WIDTH + 90
    return _svg(title, width, height, bars)


def usage_chart(title: str, rows):
    """``rows``: ``[(label, used, total), ...]`` -> stacked used/total bars, with percentages."""
    rows = list(rows)
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP) + GAP
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
        '<rect x="{}" y="0" width="{}" height="{}" fill="#e8e8e8"/>'
        '<rect x="{}" y="0" width="{}" height="{}" fill="{}"><title>{}: {} of {} ({}%)</title></rect>'
        '<text x="{}" y="{}" font-size="12">{}%</text></g>',
        (
            (
                GAP + n * (BAR_HEIGHT + GAP),
                LABEL_WIDTH - 6,
                BAR_HEIGHT - 5,
                label,
                LABEL_WIDTH,
                BAR_WIDTH,
                BAR_HEIGHT,
                LABEL_WIDTH,
                min(round(BAR_WIDTH * used / total), BAR_WIDTH) if total else 0,
                BAR_HEIGHT,
                PALETTE[3] if total and used / total > 0.9 else PALETTE[0],
                label,
                used,
                total,
                round(100 * used / total) if total else 0,
                LABEL_WIDTH + BAR_WIDTH + 4,
                BAR_HEIGHT - 5,
                round(100 * used / total) if total else 0,
            )
            for n, (label, used, total) in enumerate(rows)
        ),
    )
    width = LABEL_WIDTH + BAR_WIDTH + 60
    return _svg(title, width, height, bars)


def _svg(title: str, width: int, height: int, body) -> str:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        title,
        width,
        height,
        width,
        height,
        title,
        body or mark_safe(""),
    )
