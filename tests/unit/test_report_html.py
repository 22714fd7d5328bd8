"""report.html: self-contained, colour-coded, and every byte from a target escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from conformance.results import RunReport
from tests.support.report_samples import INJECTION


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if tag not in {"meta", "br", "input", "img", "link"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def test_no_markup_from_a_target_survives(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    assert INJECTION not in text
    assert "&lt;script&gt;alert(" in text
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert parser.open == []  # well nested: nothing injected opened or closed an element
    names = [tag for tag, _ in parser.tags]
    assert names.count("script") == 1  # ours, the filter
    assert "img" not in names
    assert "alert" not in "".join(parser.script_text)
    assert not any(k.startswith("on") for _, attrs in parser.tags for k in attrs)


def test_the_page_is_self_contained(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text
    assert "<style>" in text


def test_statuses_are_colour_coded(report: RunReport, written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    for css in ("pass", "fail", "accepted", "info", "not-testable"):
        assert f'<span class="badge {css}">' in text
        assert f".{css} {{" in text
    assert text.count("<tr data-status=") == len(report.requirements)
    assert 'id="PART-SIZE-LIMIT"' in text and 'href="#PART-SIZE-LIMIT"' in text
    assert "Result: NOT CONFORMANT" in text
    assert "curl -sS -X POST" in text
