"""report.html as a person sees it: a real run's page, opened from file:// in headless Chromium.

One run against the emulator with the md5-unchecked mutant (so COMPLETE-MD5 fails and the
rest mostly pass) under a known fake key, then the page is driven through Playwright with
every network request blocked. Skips without /usr/bin/chromium or the playwright package,
except under CI (which installs both), where their absence fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support.cli import MUTANT_RUN_KEY, mutant_report_dir

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
KEY = MUTANT_RUN_KEY  # a fake key: the page must not show it anywhere
FAILING = "COMPLETE-MD5"  # what the md5-unchecked mutant breaks
SCREENSHOT = Path("/tmp/report-screenshot.png")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


def _missing(what: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{what}, and CI must run the browser test (.ci/run installs it)",
                    pytrace=False)
    pytest.skip(f"{what}: the browser test needs it")


@pytest.fixture(scope="module", autouse=True)
def _a_browser_is_installed() -> None:
    # Autouse, so that it runs first: a machine without a browser skips before the 40 s run.
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports of one mutant's run, shared by the session's tests (made once)."""
    return mutant_report_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def report(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    statuses = {r["id"]: r["status"] for r in data["requirements"]}
    assert statuses[FAILING] == "fail" and "pass" in statuses.values()
    return data


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives Chromium a fresh temporary profile of its own, removed on close.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """An open page and everything it tried or said."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def assert_quiet(self) -> None:
        """Nothing fetched but the page itself, nothing said on the console."""
        assert self.blocked == []
        assert set(self.requests) <= {self.url}, self.requests
        assert self.console == []


def _open(browser: Any, report_dir: Path, *, script: bool = True, width: int = 1280,
          hash_: str = "") -> Visit:
    context = browser.new_context(java_script_enabled=script,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    visit = Visit(page, (report_dir / "report.html").as_uri())

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.split("#")[0] == visit.url:
            request_route.continue_()
        else:
            visit.blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page.on("request", lambda request: visit.requests.append(request.url.split("#")[0]))
    page.on("console", lambda message: visit.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: visit.console.append(f"pageerror: {error}"))
    page.goto(visit.url + hash_)
    return visit


@pytest.fixture
def visit(browser: Any, report_dir: Path) -> Iterator[Visit]:
    opened = _open(browser, report_dir)
    yield opened
    opened.page.context.close()


def _shown(visit: Visit, selector: str) -> int:
    return visit.page.locator(f"{selector}:visible").count()


def test_the_summary_figure_is_visible_and_counts_the_run(visit: Visit,
                                                          report: dict[str, Any]) -> None:
    figure = visit.page.locator("#summary-figure")
    assert figure.is_visible()
    box = figure.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 20
    drawn = {rect.get_attribute("class"): int(rect.get_attribute("data-count"))
             for rect in figure.locator("rect[data-count]").all()}
    summary = report["summary"]
    assert drawn["fail"] == 1 and drawn["pass"] == summary["pass"]
    assert sum(drawn.values()) == len(report["requirements"])
    fail = figure.locator("rect.fail").bounding_box()
    assert fail is not None and fail["width"] >= 3  # one failure among many is still seen
    legend = " ".join(visit.page.locator(".legend").inner_text().split())
    assert legend.startswith("1 fail ") and f"{summary['pass']} pass" in legend
    visit.assert_quiet()


def test_the_status_filter_shows_the_failing_requirement_only(visit: Visit,
                                                              report: dict[str, Any]) -> None:
    total = len(report["requirements"])
    page = visit.page
    assert _shown(visit, ".req") == total
    assert _shown(visit, '.req[data-status="pass"]') == report["summary"]["pass"]
    page.click('#filters button[data-group="status"][data-value="fail"]')
    assert page.locator(f"#req-{FAILING}").is_visible()
    assert _shown(visit, '.req[data-status="pass"]') == 0
    assert _shown(visit, ".req") == 1
    assert page.locator("#shown").inner_text() == f"1 of {total} shown"
    assert _shown(visit, ".area") == 1  # the areas left empty are hidden too
    page.click('#filters button[data-group="status"][data-value="all"]')
    assert _shown(visit, ".req") == total
    visit.assert_quiet()


def test_the_level_filter_and_the_search(visit: Visit, report: dict[str, Any]) -> None:
    page = visit.page
    page.click('#filters button[data-group="level"][data-value="SHOULD"]')
    assert not page.locator(f"#req-{FAILING}").is_visible()  # a MUST
    shoulds = sum(r["level"] == "SHOULD" for r in report["requirements"])
    assert _shown(visit, '.req[data-level="SHOULD"]') == shoulds == _shown(visit, ".req")
    page.click('#filters button[data-group="level"][data-value="all"]')
    page.fill("#search", "md5 does NOT match")
    assert page.locator(f"#req-{FAILING}").is_visible()
    assert _shown(visit, ".req") == 1
    page.fill("#search", "no requirement says this")
    assert _shown(visit, ".req") == 0 and page.locator("#no-match").is_visible()
    visit.assert_quiet()


def test_a_finding_opens_on_click_with_its_steps_and_curl(visit: Visit) -> None:
    page = visit.page
    page.click('#filters button[data-group="status"][data-value="fail"]')
    finding = page.locator(f"#req-{FAILING} details.finding").first
    steps = finding.locator(".steps")
    assert not steps.is_visible()
    finding.locator("> summary").click()
    assert steps.is_visible() and steps.locator("li").count() >= 2
    curl = finding.locator("pre.curl")
    assert curl.is_visible() and curl.inner_text().startswith("curl -sS -X POST")
    exchange = finding.locator("details.exchange").last
    exchange.locator("> summary").click()
    assert exchange.locator("pre").first.inner_text().startswith("POST http://127.0.0.1:")
    assert "checks passed" in page.locator(f"#req-{FAILING} .coverage").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    visit.assert_quiet()


def test_a_link_to_a_requirement_shows_it_even_when_filtered_out(visit: Visit) -> None:
    page = visit.page
    page.click('#filters button[data-group="status"][data-value="pass"]')
    assert not page.locator(f"#req-{FAILING}").is_visible()
    page.goto(f"{visit.url}#req-{FAILING}")  # what compare.html links to
    assert page.locator(f"#req-{FAILING}").is_visible()
    assert page.locator(f"#req-{FAILING} details.finding").first.get_attribute("open") == ""
    visit.assert_quiet()


def test_the_key_is_nowhere_in_the_page(visit: Visit) -> None:
    page = visit.page
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    text = page.inner_text("body")
    assert "Bearer [REDACTED]" in text  # the key was in the exchanges: it was redacted
    assert KEY not in text and KEY not in page.content()
    visit.assert_quiet()


@pytest.mark.parametrize("width", [1280, 640])
def test_long_lines_wrap_inside_their_box(browser: Any, report_dir: Path, width: int) -> None:
    visit = _open(browser, report_dir, width=width)
    page = visit.page
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    too_wide = page.evaluate("""Array.from(document.querySelectorAll('pre, .req'))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length""")
    assert too_wide == 0
    visit.assert_quiet()
    page.context.close()


def test_without_the_script_everything_is_shown(browser: Any, report_dir: Path,
                                                report: dict[str, Any]) -> None:
    visit = _open(browser, report_dir, script=False)
    assert _shown(visit, ".req") == len(report["requirements"])
    assert not visit.page.locator("#filters").is_visible()  # it would do nothing
    assert visit.page.locator("#summary-figure").is_visible()
    visit.assert_quiet()
    visit.page.context.close()


def test_a_hostile_report_stays_inert_and_inside_the_page(browser: Any,
                                                         tmp_path: Path) -> None:
    from conformance.report.html import render_html
    from tests.support.report_samples import KEY as SAMPLE_KEY
    from tests.support.report_samples import sample_report

    report = sample_report(big=True)  # markup, control characters and a key in the answers
    exchange = next(r for r in report.requirements if r.failures).failures[0].exchanges[-1]
    exchange.response_body = "A" * 6000  # one line with nowhere to break
    (tmp_path / "report.html").write_text(render_html(report), encoding="utf-8")
    visit = _open(browser, tmp_path, width=900)
    page = visit.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    assert page.evaluate("document.documentElement.scrollWidth") <= 900
    assert page.evaluate("document.querySelectorAll('img, iframe, object').length") == 0
    assert page.evaluate("document.scripts.length") == 1
    assert "<script>alert('owned')</script>" in page.inner_text("body")  # shown, as text
    assert SAMPLE_KEY not in page.content()
    assert dialogs == []
    visit.assert_quiet()
    page.context.close()
