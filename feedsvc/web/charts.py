"""The statistics page's charts, drawn on the server as SVG by pygal.

Each chart is a standalone SVG document served as an image (the page's
Content-Security-Policy allows no script, and an <img> runs none), sized by
its viewBox so it scales to a phone's width. pygal's interactive script is
left out; the page carries the same numbers in tables for screen readers.
pygal embeds its configuration as a script and stamps a random id and the
date: the script and comments are removed and the id derived from the
content, so a chart is inert and its ETag depends only on its data.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable

import lxml.etree
import pygal
from pygal.style import Style

from feedsvc.stats import CLASSES, DELAY_BUCKETS, Stats

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#767676",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=18,
    colors=("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7b83"),
)

_CHART_ID = re.compile(rb"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SVG = "http://www.w3.org/2000/svg"


def _config(title: str) -> dict[str, object]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],  # no script: it would not run under our CSP anyway
        "width": 800,
        "height": 420,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "x_label_rotation": 30,
        "truncate_legend": 40,
        "print_values": False,
        "show_y_guides": True,
        "margin": 16,
        "margin_bottom": 40,
        "spacing": 14,
    }


def _counts_axis(chart: pygal.graph.graph.Graph, values: list[int]) -> None:
    """Whole-number labels on a count axis (pygal would label 0.1, 0.2...)."""
    top = max([*values, 1])
    step = max(1, math.ceil(top / 8))
    chart.y_labels = list(range(0, top + step, step))


def _render(chart: pygal.graph.graph.Graph) -> bytes:
    """The chart's SVG without pygal's script (it always embeds its config
    as one) or its comments, and with an id derived from the content."""
    root = lxml.etree.fromstring(chart.render())
    for node in root.xpath("//svg:script | //comment()", namespaces={"svg": SVG}):
        node.getparent().remove(node)
    svg: bytes = lxml.etree.tostring(root, xml_declaration=True, encoding="utf-8")
    stable = b"chart-" + hashlib.sha256(svg).hexdigest()[:12].encode()
    return _CHART_ID.sub(stable, svg)


def revisions_per_day(stats: Stats) -> bytes:
    """Revisions per day, one stacked bar per day, a colour per feed."""
    chart = pygal.StackedBar(**_config("Revisions per day"))
    days = stats.days()
    chart.x_labels = [day.isoformat() for day in days]
    if len(days) > 14:
        chart.show_minor_x_labels = False
        chart.x_labels_major_every = max(1, len(days) // 10)
    for feed in stats.feeds:
        chart.add(feed.feed, [feed.per_day.get(day, 0) for day in days])
    _counts_axis(chart, [stats.total.per_day.get(day, 0) for day in days])
    chart.no_data_text = "No revisions in this window"
    return _render(chart)


def time_to_first_revision(stats: Stats) -> bytes:
    """How long after an article first appeared it was first revised."""
    chart = pygal.Bar(**_config("Time from first seen to first revision"))
    chart.x_labels = [label for label, _, _ in DELAY_BUCKETS]
    for feed in stats.feeds:
        chart.add(feed.feed, list(feed.delay_distribution().values()))
    _counts_axis(chart, [n for f in stats.feeds for n in f.delay_distribution().values()])
    chart.no_data_text = "No revised articles in this window"
    return _render(chart)


def change_classes(stats: Stats) -> bytes:
    """What the revisions did, per feed (stacked horizontal bars)."""
    chart = pygal.HorizontalStackedBar(**_config("Change classes per feed"))
    chart.x_labels = [str(feed.feed) for feed in stats.feeds]
    for name in CLASSES:
        chart.add(name, [feed.classes.get(name, 0) for feed in stats.feeds])
    _counts_axis(chart, [feed.revisions for feed in stats.feeds])
    chart.no_data_text = "No revisions in this window"
    return _render(chart)


CHARTS: dict[str, tuple[str, Callable[[Stats], bytes]]] = {
    "revisions-per-day": ("Revisions per day, per feed", revisions_per_day),
    "time-to-first-revision": (
        "Time from first seen to first revision, per feed",
        time_to_first_revision,
    ),
    "change-classes": ("Change classes per feed", change_classes),
}
