"""Tests of emu.report: the HTML page and the PNG figure of a run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matplotlib.image import imread

from emu.expect import evaluate
from emu.records import (
    AirPacket,
    ConnectionSpan,
    FirmwareFailure,
    LinkSample,
    NodeRecord,
    OutputLine,
    RadioWindow,
    RunRecord,
)
from emu.report import (
    MAX_OUTPUT_LINES,
    ReportError,
    figure_size_px,
    render_html,
    render_svg,
    write_report,
)
from emu.scenario_events import (
    ExpectAir,
    ExpectConnected,
    ExpectNoErrors,
    ExpectOutput,
    ExpectSpec,
)
from phy.types import Phy
from phy.units import MS, S, US

ADV_AA = 0x8E89BED6
CONN_AA = 0x50654AC3
ADV_NONCONN = bytes.fromhex("4209" "554433221100" "020106")
NTF = bytes.fromhex("0209" "05000400" "1b0300" "6869")
EMPTY = bytes.fromhex("0500")


def make_record() -> RunRecord:
    r = RunRecord(name="battery <demo>", seed=7, duration_ns=10 * S, end_ns=10 * S)
    r.nodes["server"] = NodeRecord("server", "quectel", "AC:6B:1E:F5:33:DB", "public",
                                   status="running", tx_packets=250, rx_packets=190)
    r.nodes["client"] = NodeRecord("client", "micropython", "C0:11:22:33:44:55", "random",
                                   status="failed", tx_packets=180, rx_packets=240)
    r.nodes["server"].output += [OutputLine(S + i * 37 * MS, f"tick {i} <b>&amp;") for i in range(40)]
    r.nodes["client"].output += [OutputLine(4 * S, "data_len = 20")]
    r.nodes["client"].failures.append(FirmwareFailure(
        7 * S, "ZeroDivisionError: division by zero",
        'Traceback (most recent call last):\n  File "client.py", line 3, in <module>\n'
        "ZeroDivisionError: division by zero\n",
    ))
    for k in range(30):
        t = k * 100 * MS
        for j, ch in enumerate((37, 38, 39)):
            start = t + j * 400 * US
            r.air.append(AirPacket(start, start + 176 * US, "server", ch, Phy.LE_1M, ADV_AA,
                                   ADV_NONCONN, 0, True, -50.0))
        r.windows.append(RadioWindow(t, t + 30 * MS, "client", 37 + k % 3))
    for k in range(200):
        t = 3 * S + k * 30 * MS
        sn = (k % 2) << 3
        r.air.append(AirPacket(t, t + 80 * US, "client", 5 + k % 30, Phy.LE_1M, CONN_AA,
                               bytes([NTF[0] | sn]) + NTF[1:], 2, True, -40.0))
        r.air.append(AirPacket(t + 230 * US, t + 310 * US, "server", 5 + k % 30, Phy.LE_1M,
                               CONN_AA, bytes([EMPTY[0] | sn]) + EMPTY[1:], 3, True, -40.0))
        r.windows.append(RadioWindow(t + 150 * US, t + 400 * US, "client", 5 + k % 30))
        r.links.append(LinkSample(t, "client", "server", -40.0 - k % 7))
        r.links.append(LinkSample(t + 230 * US, "server", "client", -42.0 - k % 5))
    r.connections.append(ConnectionSpan(3 * S, 9 * S, "client", "server", 0x13))
    return r


SPECS: list[ExpectSpec] = [
    ExpectOutput("client", r"data_len = \d+"),
    ExpectNoErrors("client"),
    ExpectConnected(("client", "server"), by_ns=5 * S),
    ExpectAir("ATT_HANDLE_VALUE_NTF", min=500),
]


def test_html_is_self_contained(tmp_path: Path) -> None:
    record = make_record()
    path = tmp_path / "run.html"
    write_report(record, path, results=evaluate(SPECS, record))
    text = path.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text
    assert not re.search(r"\b(src|href)=\"(?!#)", text)  # no external resources
    assert not re.search(r"url\((?!#)", text)
    assert text.count("<svg") == 1 and "</svg>" in text
    assert "<path" in text  # the figure is drawn inline
    assert "<style>" in text


def test_html_content(tmp_path: Path) -> None:
    record = make_record()
    text = render_html(record, evaluate(SPECS, record))
    # Escaping: the record's text never becomes markup.
    assert "<b>" not in text and "&lt;b&gt;&amp;amp;" in text
    assert "<h1>battery &lt;demo&gt;</h1>" in text
    # Nodes table.
    for cell in ("server", "quectel", "AC:6B:1E:F5:33:DB (public)", "running", "250",
                 "micropython", "failed"):
        assert f"<td>{cell}</td>" in text or f'<td class="num">{cell}</td>' in text
    # Expectations with their verdict and detail.
    assert "2 of 4 met." in text
    assert "matched 1 time, first at 4.000000 s" in text
    assert "1 firmware failure, first on client at 7.000000 s: ZeroDivisionError" in text
    assert "saw 200 ATT_HANDLE_VALUE_NTF, wanted at least 500" in text
    assert text.count('class="unmet"') == 2
    # Air counts, connections, tracebacks, output.
    assert '<td>ADV_NONCONN_IND</td><td class="num">90</td>' in text
    assert '<td>LL_EMPTY</td><td class="num">200</td>' in text
    assert "<td>0x13</td>" in text
    assert "File &quot;client.py&quot;, line 3" in text
    assert "[   4.000000] data_len = 20" in text
    # Tooltips on prints and on the failure.
    assert "<title>[   1.000000] tick 0 &lt;b&gt;&amp;amp;</title>" in text
    assert "<title>client failed at 7.000000 s: ZeroDivisionError: division by zero</title>" in text


def test_html_without_results_has_no_expectations_section() -> None:
    text = render_html(make_record())
    assert "<h2>Expectations</h2>" not in text
    assert "<h2>Timeline</h2>" in text


def test_same_record_same_bytes(tmp_path: Path) -> None:
    for suffix in ("html", "png"):
        a, b = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
        write_report(make_record(), a, results=evaluate(SPECS, make_record()))
        write_report(make_record(), b, results=evaluate(SPECS, make_record()))
        assert a.read_bytes() == b.read_bytes()
    other = make_record()
    other.nodes["client"].output.append(OutputLine(5 * S, "one more"))
    assert render_svg(other) != render_svg(make_record())


def test_png_has_the_figure_size(tmp_path: Path) -> None:
    record = make_record()
    path = tmp_path / "run.PNG"
    write_report(record, path)
    image = imread(str(path))
    width, height = figure_size_px(record)
    assert image.shape[:2] == (height, width)
    assert image.shape[2] in (3, 4)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"tEXt" not in path.read_bytes()  # no software name or date in the metadata
    record.nodes["third"] = NodeRecord("third", "native", "x", "public")
    assert figure_size_px(record)[1] > height


def test_empty_record_renders(tmp_path: Path) -> None:
    empty = RunRecord(name="nothing", seed=0, duration_ns=S)
    write_report(empty, tmp_path / "e.html")
    write_report(empty, tmp_path / "e.png")
    text = (tmp_path / "e.html").read_text("utf-8")
    assert "No connections." in text and "Nothing was sent." in text
    assert imread(str(tmp_path / "e.png")).shape[:2] == figure_size_px(empty)[::-1]


def test_long_busy_run_stays_small() -> None:
    r = RunRecord(name="crowd", seed=1, duration_ns=60 * S, end_ns=60 * S)
    for n in range(20):
        name = f"beacon-{n}"
        r.nodes[name] = NodeRecord(name, "native", "x", "public")
        for k in range(600):  # every 100 ms for 60 s, three channels
            t = k * 100 * MS + n * MS
            for j, ch in enumerate((37, 38, 39)):
                s = t + j * 400 * US
                r.air.append(AirPacket(s, s + 176 * US, name, ch, Phy.LE_1M, ADV_AA,
                                       ADV_NONCONN, 0, True, -60.0))
            r.links.append(LinkSample(t, name, "scanner", -60.0 - n))
        r.nodes[name].output += [OutputLine(k * 10 * MS, f"line {k}") for k in range(6000)]
    svg = render_svg(r)
    assert len(svg) < 4_000_000
    # Prints are binned: one tooltip per bin, listing the first lines and how many more.
    assert "... and " in svg


def test_output_section_is_capped() -> None:
    r = RunRecord(name="chatty", seed=1, duration_ns=S, end_ns=S)
    r.nodes["n"] = NodeRecord("n", "native", "x", "public")
    r.nodes["n"].output += [OutputLine(i, f"l{i}") for i in range(MAX_OUTPUT_LINES + 5)]
    text = render_html(r)
    assert "(5 earlier lines not shown)" in text
    assert f"n: {MAX_OUTPUT_LINES + 5} lines" in text


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"\.html or \.png"):
        write_report(make_record(), tmp_path / "run.pdf")
    assert not (tmp_path / "run.pdf").exists()
