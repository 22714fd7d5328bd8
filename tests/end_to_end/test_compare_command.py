"""End to end: `uploads-conformance compare` over the clean emulator's run and two mutants'."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import PROFILE, SEED, CliRun, mutant_report_dir, run_cli, shared_run

MUTANTS = ("md5-unchecked", "server-error-on-bad-json")
INJECTION = "<script>alert('owned')</script>"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report.json of a clean run and of one run per mutant (quick profile), each made
    once per session."""
    base = tmp_path_factory.getbasetemp()
    # Few examples: the probes catch both mutants; the exploration is not the subject.
    few = ("--profile", PROFILE, "--seed", SEED, "--max-examples", "10", "-q")
    return {
        "clean": shared_run(base, "compare-clean", *few) / "report.json",
        "md5-unchecked": mutant_report_dir(base) / "report.json",
        "server-error-on-bad-json": shared_run(
            base, "compare-server-error", *few, "--mutant", "server-error-on-bad-json")
        / "report.json",
    }


def failed(path: Path) -> set[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {r["id"] for r in data["requirements"] if r["status"] == "fail"}


def newly_failing(markdown: str) -> set[str]:
    section = markdown.split("- **Newly failing", 1)[1].split("- **Fixed", 1)[0]
    return set(re.findall(r"^  - ([A-Z0-9\\-]+) \(", section, re.MULTILINE))


def compare(*args: str | Path, cwd: Path) -> CliRun:
    return run_cli("compare", *map(str, args), cwd=cwd, timeout=120)


def test_each_mutants_failures_are_newly_failing_against_the_clean_run(
        runs: dict[str, Path], tmp_path: Path) -> None:
    clean = failed(runs["clean"])
    assert not clean
    for mutant in MUTANTS:
        result = compare(runs["clean"], runs[mutant], "--fail-on-new", cwd=tmp_path)
        assert result.returncode == 1, result.explain()  # new failures, and asked to say so
        expected = failed(runs[mutant]) - clean
        assert expected, f"{mutant} failed nothing"
        listed = {i.replace("\\", "") for i in newly_failing(result.stdout)}
        assert listed == expected, result.stdout
        count_line = result.stdout.splitlines()[2]
        assert all(f"{requirement} (" in count_line for requirement in expected), count_line
        assert "Traceback" not in result.stderr


def test_the_matrix_of_three_runs_links_each_cell_to_its_finding(
        runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "matrix"
    result = compare("--base", runs["clean"], *(runs[m] for m in MUTANTS), "--out", out,
                     cwd=tmp_path)
    assert result.returncode == 0, result.explain()  # no --fail-on-new: written is success
    count_line = result.stdout.splitlines()[0]
    assert all(f"{requirement} (" in count_line for mutant in MUTANTS
               for requirement in failed(runs[mutant])), count_line
    html = (out / "compare.html").read_text(encoding="utf-8")
    markdown = (out / "compare.md").read_text(encoding="utf-8")
    assert "COMPLETE-MD5 (pass → fail → pass)" in markdown
    links = re.findall(r'href="([^"]+)"', html)
    assert links
    for requirement in failed(runs["md5-unchecked"]):
        folder = runs["md5-unchecked"].parent.name
        wanted = [h for h in links if h.endswith(f"/{folder}/report.html#req-{requirement}")]
        assert wanted, links[:5]
        page, _, anchor = wanted[0].partition("#")
        target = (out / page).resolve()
        assert target == (runs["md5-unchecked"].parent / "report.html").resolve()
        page_text = target.read_text(encoding="utf-8")
        assert f'id="{anchor}"' in page_text


def test_what_a_report_holds_reaches_the_page_only_as_text(
        runs: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads(runs["md5-unchecked"].read_text(encoding="utf-8"))
    failing = next(r for r in data["requirements"] if r["failures"])
    failing["failures"][0]["message"] = f"the target said {INJECTION}"
    data["target_kind"] = INJECTION
    hostile = tmp_path / "hostile" / "report.json"
    hostile.parent.mkdir()
    hostile.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "matrix"
    result = compare(runs["clean"], hostile, "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.explain()
    html = (out / "compare.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in html
    assert "<script" not in (out / "compare.md").read_text(encoding="utf-8")


def test_an_unreadable_report_is_one_line_and_exit_2(runs: dict[str, Path],
                                                     tmp_path: Path) -> None:
    result = compare(runs["clean"], tmp_path / "missing.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr
    assert result.stdout == ""
