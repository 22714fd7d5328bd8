"""One environment per SDK version, for `uploads-conformance sdk-matrix`.

A Python `openai` X gets a virtual environment that sees this one's packages (the suite, its
dependencies) and holds `openai==X` of its own, which shadows the one installed here. A Node
`openai` X gets a folder with `npm install openai@X` in it and the driver copied beside it.
Each is made once, in a cache folder, under a lock (two matrices, or two test workers,
wanting the same version wait for one install), and checked before each use: a cached
environment that no longer works is made again. An install that fails is an
`InstallFailed` with one line saying why; its whole output stays in the folder's
install.log.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import site
import subprocess
import sys
import sysconfig
import time
import venv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Final

from packaging.version import InvalidVersion, Version

import conformance

__all__ = ["DRIVER_FILES", "Environment", "InstallFailed", "default_cache", "node_environment",
           "python_environment"]

INSTALL_TIMEOUT_S: Final = 600.0
PROBE_TIMEOUT_S: Final = 60.0
READY: Final = "ready.json"  # written last: a folder without it is a half-made environment
INSTALL_LOG: Final = "install.log"
DRIVER_FILES: Final = ("*.mjs", "*.cjs", "*.js")  # a driver and the modules beside it
# Run in a new environment: what it imports, to be sure it runs this suite on that SDK.
_PROBE: Final = ("import json, openai, conformance; print(json.dumps({'openai': "
                 "openai.__version__, 'conformance': conformance.__file__}))")


class InstallFailed(Exception):
    """An SDK version could not be installed, or its environment does not work: one line."""


@dataclass(frozen=True, slots=True)
class Environment:
    """An SDK version, installed and checked: how to run the suite through it."""

    folder: Path
    how: str  # "cached", or "installed in 4.2 s"
    python: Path | None = None  # a Python SDK's interpreter: `python -m conformance.cli run`
    driver: str | None = None  # a Node SDK's `--sdk-driver` command


def default_cache() -> Path:
    """$XDG_CACHE_HOME/uploads-conformance/sdk-envs, ~/.cache/... without it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "uploads-conformance" / "sdk-envs"


# --- Python -----------------------------------------------------------------------------------


def python_environment(version: str, cache: Path) -> Environment:
    """A virtual environment with `openai==version`, made or reused; InstallFailed if not."""
    name = f"python{sys.version_info.major}.{sys.version_info.minor}-openai-{version}"
    folder = cache / name
    with _locked(cache, name):
        python = _interpreter(folder)
        if (folder / READY).is_file() and _python_problem(python, version) is None:
            return Environment(folder, "cached", python=python)
        started = time.monotonic()
        _start_afresh(folder)
        # No pip of its own when this Python has one: `-m pip` finds it among the packages
        # the environment sees, and installs into the environment (it is sys.prefix).
        venv.create(folder, system_site_packages=True, with_pip=find_spec("pip") is None,
                    symlinks=os.name != "nt")
        _see_this_environment(folder)
        _install(folder, [str(python), "-m", "pip", "install", "--disable-pip-version-check",
                          "--no-input", f"openai=={version}"], f"pip install openai=={version}")
        problem = _python_problem(python, version)
        if problem is not None:
            raise InstallFailed(problem)
        return _ready(folder, started, python=python)


def _interpreter(folder: Path) -> Path:
    scripts = sysconfig.get_path("scripts", vars={"base": str(folder),
                                                  "platbase": str(folder)})
    return Path(scripts) / ("python.exe" if os.name == "nt" else "python")


def _see_this_environment(folder: Path) -> None:
    """When this Python is itself a virtual environment, a new one made from it sees only
    the base interpreter's packages: a .pth file adds this one's (the suite among them),
    after the new environment's own, so that its `openai` still comes first."""
    if sys.prefix == sys.base_prefix:
        return  # --system-site-packages is enough
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(folder),
                                                       "platbase": str(folder)}))
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    (purelib / "_uploads_conformance_outer.pth").write_text("\n".join(lines) + "\n")


def _python_problem(python: Path, version: str) -> str | None:
    """Why the environment cannot run this suite on openai `version`; None if it can."""
    if not python.exists():
        return f"the environment has no interpreter at {python}"
    try:
        done = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"its Python could not be started: {error}"
    if done.returncode != 0:
        return f"its Python cannot import the SDK and the suite: {_last_line(done.stderr)}"
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
        same = Version(str(found["openai"])) == Version(version)
    except (ValueError, KeyError, IndexError, InvalidVersion):
        return f"its Python said something unexpected: {_last_line(done.stdout)}"
    if not same:
        return f"it imports openai {found['openai']}, not {version}"
    ours = Path(conformance.__file__).resolve()
    if Path(found["conformance"]).resolve() != ours:
        return (f"it imports the suite from {found['conformance']}, not {ours}: install "
                "uploads-conformance where the environment sees it")
    return None


# --- Node -------------------------------------------------------------------------------------


def node_environment(version: str, cache: Path, driver: Path, node: str,
                     npm: str) -> Environment:
    """A folder with `openai@version` from npm and the driver beside it; InstallFailed if
    the install does not give that version."""
    name = f"node-openai-{version}"
    folder = cache / name
    with _locked(cache, name):
        if (folder / READY).is_file() and _node_version(folder) == version:
            how = "cached"
        else:
            started = time.monotonic()
            _start_afresh(folder)
            folder.mkdir(parents=True)
            (folder / "package.json").write_text(json.dumps(
                {"name": "uploads-conformance-sdk-env", "private": True}, indent=2) + "\n")
            _install(folder, [npm, "install", "--no-audit", "--no-fund", "--save-exact",
                              f"openai@{version}"], f"npm install openai@{version}")
            found = _node_version(folder)
            if found != version:
                raise InstallFailed(f"npm install openai@{version} gave openai {found}")
            how = _ready(folder, started).how
        # Copied at each use, not cached: the driver in the checkout may have changed.
        copied = _copy_driver(driver, folder)
    return Environment(folder, how, driver=f"{shlex.quote(node)} {shlex.quote(str(copied))}")


def _node_version(folder: Path) -> str | None:
    try:
        manifest = json.loads((folder / "node_modules" / "openai" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    found = manifest.get("version") if isinstance(manifest, dict) else None
    return found if isinstance(found, str) else None


def _copy_driver(driver: Path, folder: Path) -> Path:
    """The driver and the modules beside it (it may import them), each replaced whole."""
    sources = {driver, *(p for pattern in DRIVER_FILES for p in driver.parent.glob(pattern))}
    for source in sources:
        if source.is_file():
            temporary = folder / f".{source.name}.copying"
            shutil.copy2(source, temporary)
            os.replace(temporary, folder / source.name)
    return folder / driver.name


# --- what both share ----------------------------------------------------------------------------


@contextmanager
def _locked(cache: Path, name: str) -> Iterator[None]:
    import fcntl  # POSIX, like the process groups the runs get: imported only when used

    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _start_afresh(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)


def _install(folder: Path, command: Sequence[str], what: str) -> None:
    """Run an installer in `folder`, its output into install.log; InstallFailed if it fails."""
    log = folder / INSTALL_LOG
    try:
        with open(log, "w") as out:
            done = subprocess.run(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=INSTALL_TIMEOUT_S,
                                  check=False)
    except subprocess.TimeoutExpired:
        raise InstallFailed(f"{what} did not finish within {INSTALL_TIMEOUT_S:g} s; see "
                            f"{log}") from None
    except OSError as error:
        raise InstallFailed(f"{what} could not be started: {error}") from None
    if done.returncode != 0:
        raise InstallFailed(f"{what} failed (exit {done.returncode}): "
                            f"{_reason(log.read_text(errors='replace'))}; see {log}")


def _reason(output: str) -> str:
    """The installer's own reason: pip's last "ERROR:" line (the one that names the
    version), npm's first "npm error" line that says more than a code."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    pip = [line for line in lines if line.startswith("ERROR:")]
    npm = [line for line in lines if line.startswith(("npm error", "npm ERR!"))
           and not line.split(maxsplit=2)[-1].startswith(("code ", "A complete log"))]
    return _last_line(pip[-1] if pip else npm[0] if npm else "\n".join(lines[-1:]))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[-2:])[:400] if lines else "no output"


def _ready(folder: Path, started: float, python: Path | None = None) -> Environment:
    seconds = time.monotonic() - started
    (folder / READY).write_text(json.dumps({"made_by": sys.executable,
                                            "seconds": round(seconds, 1)}) + "\n")
    return Environment(folder, f"installed in {seconds:.1f} s", python=python)
