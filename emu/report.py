"""The run report: ``blesim run --report FILE.html`` (or ``FILE.png``).

Theory of operation
-------------------
:func:`write_report` looks at the suffix of the path. ``.png`` writes the figure;
``.html`` writes one self-contained page: inline CSS, the same figure as inline SVG
(prints and failures carry tooltips), the expectations' results when given, a table of
nodes (personality, address, status, packets, prints, failures), the connections, the
packets on the air counted by PDU name (:func:`emu.air_names.count_pdus`), failure
tracebacks and each node's output. The page loads nothing from anywhere (it holds no
URL at all).

The figure (:func:`build_figure`) is drawn with matplotlib on the Agg canvas, set here
and never through pyplot, so no global backend is touched and no window opens. It is
:data:`WIDTH_PX` wide and :func:`figure_size_px` tall: a timeline panel with one row per
node, and below it an RSSI panel. Each node's row has three lanes: transmissions with
the advertising access address (advertising, scan requests, connect requests; also
periodic trains), receive windows (scans on channels 37-39 in their own lane, other
windows light grey in the connection lane) and the connection packets the node sent
(PHDR PDU type 2/3). Intervals shorter than about a pixel are widened to one pixel and
touching ones merged, so a long run stays small. Connection spans shade the rows of
both nodes; firmware prints are triangles along the top of the row (one per pixel bin;
its tooltip lists the lines), firmware failures red crosses. The RSSI panel plots
``record.links`` per (sender, receiver), averaged into at most :data:`MAX_RSSI_POINTS`
bins per link.

Reproducible bytes: the same record gives the same file. The SVG hash salt is fixed,
the SVG and PNG metadata carry no date or software name, text stays text, tables are
in a fixed order and the page is written with ``\\n`` line ends. Tooltips are added to
the SVG after rendering, into the groups whose ids this module set.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from emu.air_names import count_pdus, is_connection_packet
from emu.expect import ExpectResult, describe_expectation, format_instant, format_limit, run_end_ns
from emu.records import RunRecord
from emu.scenario_defaults import ADVERTISING_ACCESS_ADDRESS

__all__ = [
    "write_report",
    "render_html",
    "render_svg",
    "render_png",
    "build_figure",
    "figure_size_px",
    "ReportError",
    "WIDTH_PX",
    "DPI",
    "MAX_OUTPUT_LINES",
    "MAX_RSSI_POINTS",
]

# ------------------------------------------------------------------------------ figure

WIDTH_PX = 1200
DPI = 100
ROW_PX = 44
TOP_PX = 72
GAP_PX = 70
RSSI_PX = 240
BOTTOM_PX = 50
LEFT_PX = 130
RIGHT_PX = 200
#: Bins across the time axis, about a pixel each: shorter intervals are widened to one
#: bin and intervals less than a bin apart merged.
TIME_BINS = 1000
#: Bins across the time axis for firmware prints (one marker and tooltip per bin).
PRINT_BINS = 400
#: Links with at most this many points get a marker per point.
RSSI_MARKER_POINTS = 300
MAX_RSSI_POINTS = 1000
_TOOLTIP_LINES = 6
_PRIMARY = (37, 38, 39)
_Rect = tuple[float, float, float, float]

#: rc settings for drawing and saving (typed Any: matplotlib types the keys as Literals).
_RC: Any = {
    "svg.hashsalt": "blesim",
    "svg.fonttype": "none",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
}
_SVG_METADATA: dict[str, str | None] = {"Date": None, "Creator": None, "Format": None, "Type": None}
_PNG_METADATA: dict[str, str | None] = {"Software": None}

_COLORS = {
    "adv": "#1f77b4",
    "scan": "#7f7f7f",
    "rx": "#c7c7c7",
    "conn": "#2ca02c",
    "span": "#d9f2d9",
    "print": "#9467bd",
    "failure": "#d62728",
}
# Lanes inside a row (y grows downwards: row i spans [i, i + 1]).
_PRINT_Y = 0.14
_LANES = {"adv": (0.24, 0.2), "scan": (0.48, 0.2), "conn": (0.72, 0.2)}


def figure_size_px(record: RunRecord) -> tuple[int, int]:
    """(width, height) in pixels of the figure of ``record``."""
    rows = max(1, len(record.nodes))
    return WIDTH_PX, TOP_PX + rows * ROW_PX + GAP_PX + RSSI_PX + BOTTOM_PX


def _bars(
    intervals: Iterable[tuple[float, float]], min_width: float
) -> list[tuple[float, float]]:
    """(start, width) bars: each interval at least ``min_width`` wide; intervals less
    than ``min_width`` apart merged (they would touch on screen anyway)."""
    out: list[list[float]] = []
    for start, end in sorted(intervals):
        end = max(end, start + min_width)
        if out and start <= out[-1][1] + min_width:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e - s) for s, e in out]


def _s(t_ns: int) -> float:
    return t_ns / 1e9


class _Tooltips:
    """Tooltips to add to the SVG: group id -> one text per marker, in drawing order."""

    def __init__(self) -> None:
        self.groups: dict[str, list[str]] = {}


def _draw_timeline(fig: Figure, record: RunRecord, rect: _Rect, tips: _Tooltips) -> None:
    ax = fig.add_axes(rect)
    names = list(record.nodes)
    rows = {name: i for i, name in enumerate(names)}
    end_s = max(_s(run_end_ns(record)), 1e-6)
    min_w = end_s / TIME_BINS
    ax.set_xlim(0.0, end_s)
    ax.set_ylim(max(1, len(names)), 0)
    ax.set_yticks([i + 0.5 for i in range(len(names))])
    ax.set_yticklabels(names)
    ax.tick_params(axis="y", length=0)
    for i in range(1, len(names)):
        ax.axhline(i, color="#dddddd", linewidth=0.6)

    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for span in record.connections:
        stop = _s(span.end_ns) if span.end_ns is not None else end_s
        for name in (span.central, span.peripheral):
            spans[name].append((_s(span.start_ns), stop))
    lanes: dict[str, dict[str, list[tuple[float, float]]]] = {
        "adv": defaultdict(list), "scan": defaultdict(list), "rx": defaultdict(list),
        "conn": defaultdict(list),
    }
    for packet in record.air:
        interval = (_s(packet.start_ns), _s(packet.end_ns))
        if packet.access_address == ADVERTISING_ACCESS_ADDRESS:
            lanes["adv"][packet.node].append(interval)
        elif is_connection_packet(packet):
            lanes["conn"][packet.node].append(interval)
        else:  # periodic advertising trains
            lanes["adv"][packet.node].append(interval)
    for window in record.windows:
        kind = "scan" if window.channel in _PRIMARY else "rx"
        lanes[kind][window.node].append((_s(window.start_ns), _s(window.end_ns)))

    for name, row in rows.items():
        if spans.get(name):
            ax.broken_barh(
                _bars(spans[name], min_w), (row + 0.02, 0.96),
                facecolors=_COLORS["span"], linewidth=0,
            )
        # Receive windows off the primary channels share the connection lane, under
        # the packets sent there; scans have their own lane.
        for kind, lane in (("rx", "conn"), ("scan", "scan"), ("adv", "adv"), ("conn", "conn")):
            found = lanes[kind].get(name)
            if found:
                y, h = _LANES[lane]
                ax.broken_barh(
                    _bars(found, min_w), (row + y, h), facecolors=_COLORS[kind], linewidth=0
                )
        _draw_prints(ax, record, name, row, end_s / PRINT_BINS, tips)
        _draw_failures(ax, record, name, row, tips)
    ax.set_xlabel("simulated time (s)")
    legend = [
        Patch(color=_COLORS["adv"], label="advertising-channel tx"),
        Patch(color=_COLORS["scan"], label="scan window"),
        Patch(color=_COLORS["rx"], label="other rx window"),
        Patch(color=_COLORS["conn"], label="connection tx"),
        Patch(color=_COLORS["span"], label="connected"),
        Line2D([], [], color=_COLORS["print"], marker="v", linestyle="", label="firmware print"),
        Line2D([], [], color=_COLORS["failure"], marker="X", linestyle="", label="firmware failure"),
    ]
    height = figure_size_px(record)[1]
    fig.suptitle(f"{record.name}: nodes over time", y=1 - 6 / height, va="top")
    fig.legend(
        handles=legend, loc="upper center", bbox_to_anchor=(0.5, 1 - 26 / height),
        ncols=len(legend), frameon=False,
    )


def _draw_prints(
    ax: Axes, record: RunRecord, name: str, row: int, bin_s: float,
    tips: _Tooltips,
) -> None:
    lines = record.nodes[name].output
    if not lines:
        return
    bins: dict[int, list[str]] = {}
    first: dict[int, float] = {}
    for line in lines:
        key = int(_s(line.t_ns) / bin_s) if bin_s > 0 else 0
        bins.setdefault(key, []).append(f"[{format_instant(line.t_ns)[:-2]:>11}] {line.text}")
        first.setdefault(key, _s(line.t_ns))
    keys = sorted(bins)
    texts = []
    for key in keys:
        shown = bins[key][:_TOOLTIP_LINES]
        more = len(bins[key]) - len(shown)
        texts.append("\n".join(shown) + (f"\n... and {more} more" if more else ""))
    gid = f"prints-{row}"
    ax.plot(
        [first[k] for k in keys], [row + _PRINT_Y] * len(keys), linestyle="",
        marker="v", markersize=5, color=_COLORS["print"], gid=gid, clip_on=False,
    )
    tips.groups[gid] = texts


def _draw_failures(
    ax: Axes, record: RunRecord, name: str, row: int, tips: _Tooltips
) -> None:
    failures = record.nodes[name].failures
    if not failures:
        return
    xs = [_s(f.t_ns) for f in failures]
    ax.vlines(xs, row + 0.05, row + 0.95, colors=_COLORS["failure"], linewidth=1.2)
    gid = f"failures-{row}"
    ax.plot(
        xs, [row + 0.5] * len(xs), linestyle="", marker="X", markersize=9,
        color=_COLORS["failure"], gid=gid, clip_on=False,
    )
    tips.groups[gid] = [
        f"{name} failed at {format_instant(f.t_ns)}: {f.message}" for f in failures
    ]


def _draw_rssi(fig: Figure, record: RunRecord, rect: _Rect) -> None:
    ax = fig.add_axes(rect)
    end_s = max(_s(run_end_ns(record)), 1e-6)
    ax.set_xlim(0.0, end_s)
    ax.set_title("RSSI per link (sender \u2192 receiver)")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("RSSI (dBm)")
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    links: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for sample in record.links:
        links[(sample.sender, sample.receiver)].append((sample.t_ns, sample.rssi_dbm))
    if not links:
        ax.text(0.5, 0.5, "no packets received", transform=ax.transAxes, ha="center",
                va="center", color="#888888")
        ax.set_ylim(-100.0, 0.0)
        return
    bin_ns = max(1, run_end_ns(record) // MAX_RSSI_POINTS)
    for (sender, receiver), samples in sorted(links.items()):
        xs, ys = _binned(sorted(samples), bin_ns)
        marker = "." if len(xs) <= RSSI_MARKER_POINTS else ""
        ax.plot(xs, ys, marker=marker, markersize=3, linewidth=0.8,
                label=f"{sender} \u2192 {receiver}")
    if len(links) <= 12:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        ax.text(1.01, 1.0, f"{len(links)} links", transform=ax.transAxes, va="top")


def _binned(samples: list[tuple[int, float]], bin_ns: int) -> tuple[list[float], list[float]]:
    """Mean RSSI per time bin (bins of ``bin_ns``), at the mean instant of the bin."""
    if len(samples) <= MAX_RSSI_POINTS:
        return [_s(t) for t, _ in samples], [r for _, r in samples]
    sums: dict[int, list[float]] = {}
    for t, rssi in samples:
        acc = sums.setdefault(t // bin_ns, [0.0, 0.0, 0.0])
        acc[0] += t
        acc[1] += rssi
        acc[2] += 1
    keys = sorted(sums)
    return ([sums[k][0] / sums[k][2] / 1e9 for k in keys], [sums[k][1] / sums[k][2] for k in keys])


def build_figure(record: RunRecord) -> tuple[Figure, dict[str, list[str]]]:
    """The figure of ``record`` and its tooltips (SVG group id -> texts per marker)."""
    width, height = figure_size_px(record)
    tips = _Tooltips()
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        FigureCanvasAgg(fig)
        rows_px = max(1, len(record.nodes)) * ROW_PX
        ax_w = (width - LEFT_PX - RIGHT_PX) / width
        left = LEFT_PX / width
        timeline_bottom = (height - TOP_PX - rows_px) / height
        _draw_timeline(fig, record, (left, timeline_bottom, ax_w, rows_px / height), tips)
        _draw_rssi(fig, record, (left, BOTTOM_PX / height, ax_w, RSSI_PX / height))
    return fig, tips.groups


_USE = re.compile(r"<use [^>]*/>")


def _add_tooltips(svg: str, groups: dict[str, list[str]]) -> str:
    """Wrap each marker of the groups in ``<g><title>text</title>...</g>``.

    A group whose marker count differs from its texts (matplotlib dropped a point) keeps
    no tooltips rather than wrong ones.
    """
    for gid, texts in groups.items():
        start = svg.find(f'<g id="{gid}">')
        if start < 0:
            continue
        body_start = start + len(f'<g id="{gid}">')
        end = _group_end(svg, body_start)
        body = svg[body_start:end]
        uses = _USE.findall(body)
        if len(uses) != len(texts):
            continue
        parts = iter(texts)
        body = _USE.sub(
            lambda m: f"<g><title>{html.escape(next(parts))}</title>{m.group(0)}</g>", body
        )
        svg = svg[:body_start] + body + svg[end:]
    return svg


def _group_end(svg: str, pos: int) -> int:
    """Index of the ``</g>`` closing the group whose body starts at ``pos``."""
    depth = 1
    tag = re.compile(r"<g[ >]|</g>")
    while True:
        m = tag.search(svg, pos)
        if m is None:
            return len(svg)
        if m.group(0) == "</g>":
            depth -= 1
            if depth == 0:
                return m.start()
        else:
            depth += 1
        pos = m.end()


def _inline(svg: str) -> str:
    """An SVG document as an element to put inside HTML: no XML prolog, no namespace
    URLs (the HTML parser supplies the SVG namespace), SVG 2 ``href``."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    return svg.replace("<svg ", '<svg role="img" class="figure" ', 1)


def render_svg(record: RunRecord, *, inline: bool = True) -> str:
    """The figure as SVG text with tooltips; ``inline`` makes it an HTML fragment."""
    fig, groups = build_figure(record)
    out = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(out, format="svg", metadata=_SVG_METADATA)
    svg = _add_tooltips(out.getvalue(), groups)
    return _inline(svg) if inline else svg


def render_png(record: RunRecord) -> bytes:
    """The figure as PNG bytes (:func:`figure_size_px` pixels)."""
    fig, _ = build_figure(record)
    out = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(out, format="png", dpi=DPI, metadata=_PNG_METADATA)
    return out.getvalue()


# -------------------------------------------------------------------------------- page

#: Lines of each node's output the page shows (the last ones).
MAX_OUTPUT_LINES = 1000

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em;
       color: #222; background: #fff; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.met { color: #1a7f37; font-weight: bold; }
.unmet { color: #cf222e; font-weight: bold; }
.figure { max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
details { margin: 0.4em 0; }
summary { cursor: pointer; }
"""


class ReportError(ValueError):
    """The report path has a suffix other than ``.html`` / ``.htm`` / ``.png``."""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table; cells are already-escaped HTML; ``numeric`` columns align right."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _meta(record: RunRecord) -> str:
    parts = [
        f"seed {record.seed}",
        f"duration {format_limit(record.duration_ns)}",
        f"ended at {format_instant(run_end_ns(record))}",
    ]
    if record.stopped_early:
        parts.append("stopped early: expectations met")
    if record.interrupted:
        parts.append("interrupted")
    return " \u00b7 ".join(_e(p) for p in parts)


def _expectations(results: Sequence[ExpectResult]) -> str:
    rows = []
    for r in results:
        verdict = '<span class="met">met</span>' if r.met else '<span class="unmet">NOT met</span>'
        where = f" <small>({_e(r.spec.location)})</small>" if r.spec.location else ""
        rows.append((_e(describe_expectation(r.spec)) + where, verdict, _e(r.detail)))
    met = sum(r.met for r in results)
    summary = f"<p>{met} of {len(results)} met.</p>"
    return summary + _table(("expectation", "result", "why"), rows)


def _nodes(record: RunRecord) -> str:
    rows = []
    for name, node in record.nodes.items():
        rows.append((
            _e(name), _e(node.personality), _e(f"{node.address} ({node.address_type})"),
            _e(node.status), str(node.tx_packets), str(node.rx_packets),
            str(node.rx_crc_errors), str(len(node.output)), str(len(node.failures)),
        ))
    headers = ("node", "personality", "address", "status", "tx packets", "rx packets",
               "rx errors", "prints", "failures")
    return _table(headers, rows, numeric=(4, 5, 6, 7, 8))


def _connections(record: RunRecord) -> str:
    if not record.connections:
        return "<p>No connections.</p>"
    rows = []
    for span in sorted(record.connections, key=lambda s: (s.start_ns, s.central, s.peripheral)):
        end = format_instant(span.end_ns) if span.end_ns is not None else "open at the end"
        reason = f"0x{span.reason:02X}" if span.reason is not None else ""
        rows.append((_e(span.central), _e(span.peripheral), _e(format_instant(span.start_ns)),
                     _e(end), _e(reason)))
    return _table(("central", "peripheral", "start", "end", "reason"), rows)


def _air(record: RunRecord) -> str:
    if not record.air:
        return "<p>Nothing was sent.</p>"
    counts = count_pdus(record.air)
    rows = [(_e(name), str(n)) for name, n in sorted(counts.items())]
    note = (
        f"<p>{len(record.air)} transmissions. Counted as <code>air</code> expectations "
        "count them: good CRC, retransmissions left out, LL_DATA = every packet carrying "
        "L2CAP.</p>"
    )
    return note + _table(("PDU", "packets"), rows, numeric=(1,))


def _failures(record: RunRecord) -> str:
    blocks = []
    for name, node in record.nodes.items():
        for failure in node.failures:
            blocks.append(
                f"<h3>{_e(name)} at {_e(format_instant(failure.t_ns))}: {_e(failure.message)}</h3>"
                f"<pre>{_e(failure.traceback)}</pre>"
            )
    return "".join(blocks) if blocks else "<p>No firmware failures.</p>"


def _output(record: RunRecord) -> str:
    blocks = []
    for name, node in record.nodes.items():
        lines = node.output[-MAX_OUTPUT_LINES:]
        skipped = len(node.output) - len(lines)
        text = "\n".join(f"[{format_instant(l.t_ns)[:-2]:>11}] {l.text}" for l in lines)
        note = f"<p>({skipped} earlier lines not shown)</p>" if skipped else ""
        blocks.append(
            f"<details><summary>{_e(name)}: {len(node.output)} lines</summary>"
            f"{note}<pre>{_e(text)}</pre></details>"
        )
    return "".join(blocks) if blocks else "<p>No nodes.</p>"


def render_html(record: RunRecord, results: Sequence[ExpectResult] | None = None) -> str:
    """The self-contained HTML page of ``record`` (see the module docstring)."""
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>blesim report: {_e(record.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(record.name)}</h1>",
        f'<p class="meta">{_meta(record)}</p>',
    ]
    if results is not None:
        sections += ["<h2>Expectations</h2>", _expectations(results)]
    sections += [
        "<h2>Timeline</h2>",
        render_svg(record, inline=True),
        "<h2>Nodes</h2>", _nodes(record),
        "<h2>Connections</h2>", _connections(record),
        "<h2>Packets on the air</h2>", _air(record),
        "<h2>Firmware failures</h2>", _failures(record),
        "<h2>Firmware output</h2>", _output(record),
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"


def write_report(
    record: RunRecord,
    path: str | os.PathLike[str],
    results: Sequence[ExpectResult] | None = None,
) -> None:
    """Write the report of ``record`` to ``path``: ``.html``/``.htm`` a self-contained
    page, ``.png`` the figure. Raises :class:`ReportError` for another suffix."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in (".html", ".htm"):
        data = render_html(record, results).encode("utf-8")
    elif suffix == ".png":
        data = render_png(record)
    else:
        raise ReportError(f"{target}: a report is .html or .png, not {suffix or 'no suffix'!r}")
    target.write_bytes(data)
