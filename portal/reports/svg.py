"""A tiny server-side SVG chart helper: bars, lines and a donut. No JavaScript, no CDN.

Every label and title goes through ``markupsafe.escape``; numbers are formatted by us. The
functions return Markup (the only place reports mark HTML safe, and only after escaping).
"""

import math

from markupsafe import Markup
from markupsafe import escape

PALETTE = ("#007bff", "#28a745", "#ffc107", "#dc3545", "#6f42c1", "#17a2b8", "#fd7e14", "#6c757d")


def _num(value):
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width, height, body, title):
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{body}</svg>")


def bars(items, title="", width=360, height=160, target=None, unit=""):
    """Vertical bars: *items* = [(label, value)] (value ≥ 0); *target* draws a dashed line."""
    values = [max(float(v or 0), 0.0) for _, v in items]
    top = max(values + [float(target or 0), 1.0])
    bottom, left = 30, 4
    plot = height - bottom - 14
    step = (width - left) / max(len(items), 1)
    parts = []
    for index, ((label, value), clean) in enumerate(zip(items, values)):
        bar = plot * clean / top
        x = left + index * step + step * 0.15
        y = 14 + plot - bar
        parts.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(step * 0.7)}" height="{_num(bar)}" '
                     f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(label)}: {escape(value)}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{_num(x + step * 0.35)}" y="{_num(y - 2)}" font-size="10" text-anchor="middle">'
                     f"{escape(_num(clean))}{escape(unit)}</text>")
        parts.append(f'<text x="{_num(x + step * 0.35)}" y="{height - bottom + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(str(label)[:14])}</text>')
    if target is not None:
        y = 14 + plot - plot * float(target) / top
        parts.append(f'<line x1="0" y1="{_num(y)}" x2="{width}" y2="{_num(y)}" stroke="#dc3545" '
                     f'stroke-dasharray="4 3"/>')
    parts.append(f'<line x1="0" y1="{14 + plot}" x2="{width}" y2="{14 + plot}" stroke="#999"/>')
    return _svg(width, height, "".join(parts), title)


def lines(series, labels=(), title="", width=360, height=160, low=None, high=None, target=None):
    """Lines: *series* = [(name, [values or None])] over shared x positions; gaps for None."""
    values = [float(v) for _, points in series for v in points if v is not None]
    if target is not None:
        values.append(float(target))
    low = min(values + [0.0]) if low is None else low
    high = max(values + [1.0]) if high is None else high
    span = (high - low) or 1.0
    count = max((len(points) for _, points in series), default=1)
    top, bottom = 10, 24

    def x(i):
        return 4 + (width - 8) * (i / (count - 1) if count > 1 else 0.5)

    def y(v):
        return top + (height - top - bottom) * (high - float(v)) / span

    parts = []
    if target is not None:
        parts.append(f'<line x1="0" y1="{_num(y(target))}" x2="{width}" y2="{_num(y(target))}" stroke="#dc3545" '
                     f'stroke-dasharray="4 3"/>')
    for index, (name, points) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        run = []
        for i, v in enumerate(list(points) + [None]):
            if v is not None:
                run.append(f"{_num(x(i))},{_num(y(v))}")
            elif run:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2">'
                             f"<title>{escape(name)}</title></polyline>")
                run = []
    for i, label in enumerate(labels):
        if count <= 12 or i in (0, count - 1):
            parts.append(f'<text x="{_num(x(i))}" y="{height - 8}" font-size="9" text-anchor="middle">'
                         f"{escape(label)}</text>")
    return _svg(width, height, "".join(parts), title)


def donut(items, title="", size=140, centre=""):
    """A donut of *items* = [(label, value)]; *centre* is a short text in the hole."""
    total = sum(max(float(v or 0), 0.0) for _, v in items)
    radius, stroke = size / 2 - 12, 18
    circumference = 2 * math.pi * radius
    parts = [f'<circle cx="{size / 2}" cy="{size / 2}" r="{_num(radius)}" fill="none" stroke="#e9ecef" '
             f'stroke-width="{stroke}"/>']
    offset = 0.0
    for index, (label, value) in enumerate(items):
        share = max(float(value or 0), 0.0) / total if total else 0
        if share <= 0:
            continue
        length = circumference * share
        parts.append(
            f'<circle cx="{size / 2}" cy="{size / 2}" r="{_num(radius)}" fill="none" '
            f'stroke="{PALETTE[index % len(PALETTE)]}" stroke-width="{stroke}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
            f'transform="rotate(-90 {size / 2} {size / 2})"><title>{escape(label)}: {escape(value)}</title></circle>')
        offset += length
    parts.append(f'<text x="{size / 2}" y="{size / 2 + 5}" font-size="14" text-anchor="middle">{escape(centre)}</text>')
    return _svg(size, size, "".join(parts), title)


def legend(items):
    """An HTML legend matching the colours of bars/donut for *items* = [(label, value)]."""
    rows = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>{escape(label)}: '
        f"{escape(value)}</li>" for i, (label, value) in enumerate(items))
    return Markup(f'<ul class="chart-legend list-unstyled small">{rows}</ul>')
