"""The lock file `make setup` installs holds every dependency pyproject.toml declares (the package's
and the extras the Makefile locks) at a version inside the declared range: a dependency added or
bounded without `make lock` fails here, before a fresh clone would miss it."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _setup_extras() -> list[str]:
    """The extras of requirements.lock, as the Makefile compiles it (LOCK_EXTRAS)."""
    line = re.search(r"^LOCK_EXTRAS := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert line, "the Makefile sets LOCK_EXTRAS"
    return re.findall(r"--extra (\S+)", line.group(1))


def _pins(lock: Path) -> dict[str, str]:
    pins = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", lock.read_text(), re.M))
    return {canonicalize_name(k): v for k, v in pins.items()}


def test_lock_pins_every_declared_dependency_within_its_range():
    lock = "requirements.lock"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = _setup_extras()
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for e in extras for r in project["optional-dependencies"][e]]
    pins = _pins(ROOT / lock)
    problems = []
    for req in declared:
        if req.marker is not None and not req.marker.evaluate():
            continue
        got = pins.get(canonicalize_name(req.name))
        if got is None:
            problems.append(f"{req.name} is not in {lock}")
        elif not req.specifier.contains(got, prereleases=True):
            problems.append(f"{req.name}=={got} is outside {req.specifier}")
    assert not problems, f"{lock} is stale ({'; '.join(problems)}): run `make lock` and commit it."
    # every pin carries its hashes (uv pip sync --require-hashes refuses a file without)
    assert all("--hash=sha256:" in block for block in re.split(r"\n(?=[A-Za-z])", (ROOT / lock).read_text())
               if "==" in block.split("\n")[0])
