"""Test session setup shared by the unit tests and the notebooks run through nbval.

A small synthetic province (scale TEST_SCALE) is generated once per session into a temporary
folder; $WELFARE_EVAL_SOURCE points the notebooks at it, so nbval runs them on that data. The NIK
key file goes to a temporary config folder, never to the user's. Under pytest-xdist (``make
test``) the controller generates it before the workers start, and they inherit the environment.

Markers and xdist groups are given here, in one place (see tests/README.md):

* ``FILE_MARKERS``: every test of a file whose name matches a pattern gets those markers;
* ``FIXTURE_MARKERS``: a test that uses one of those fixtures gets those markers;
* the notebooks (nbval items) get ``notebooks``;
* ``xdist_group``: the notebooks run in file order on one worker (the briefing reads what the
  others stored); the tests that use one expensive session fixture (``SHARED_GROUPS``) stay on the
  worker that made it, whichever file they are in; the tests of a file that use a module-scoped
  fixture stay together (it is computed once); all other tests are spread one by one.
"""
from __future__ import annotations

import fnmatch
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from welfare_eval.config import BLAS_THREAD_VARIABLES

#: One BLAS/OpenMP thread per process, set before numpy is first imported (tests/conftest.py imports
#: pandas; this file is loaded first), and inherited by the pytest-xdist workers and by every kernel
#: and worker process a test starts. Two test workers on two cores already use both; OpenBLAS's
#: own threads on top only spin: measured 1.24 s of CPU per synth.generate(scale 0.2) with its
#: default threads against 0.38 s with one, and test_poverty + test_targeting 11.8 s against 8.9 s.
#: A value set in the environment is kept. (welfare_eval.config imports no numpy: the package loads
#: its numpy modules lazily, and pytest's warning filter has imported the package already.)
for _variable in BLAS_THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

#: A run made in a test takes no Chromium screenshots of its index and briefings (about a second of
#: CPU each, and on every small run of test_scheduler and test_runner); the shared report run takes
#: them, and test_runner checks them there.
NO_SCREENSHOTS_VARIABLE = "WELFARE_EVAL_NO_SCREENSHOTS"
os.environ.setdefault(NO_SCREENSHOTS_VARIABLE, "1")

#: Population scale of the test province: about 76,000 households, 1,400 survey households and
#: 1,200 panel households: small enough to be quick, large enough for the impact estimators.
TEST_SCALE = 0.2
TEST_SEED = 7

#: Markers of whole test files, by file name pattern. A new file whose tests start report runs,
#: kernels, worker processes or a Dask cluster is "runner"; one of long statistical checks "slow".
FILE_MARKERS: dict[str, tuple[str, ...]] = {
    "test_runner.py": ("runner",),
    "test_scheduler.py": ("runner",),
    "test_run_*.py": ("runner",),          # test_run_faults.py and the like
    "test_impact_montecarlo.py": ("slow",),
    "test_notebook_edit.py": ("runner",),   # papermill kernels on an edited copy of a report notebook
}

#: Markers a test gets from a fixture it uses (directly or through another fixture). A fixture that
#: makes a report run of its own (for data the shared run cannot serve) is listed here as "runner".
FIXTURE_MARKERS: dict[str, tuple[str, ...]] = {
    "report_run": ("runner",),     # the shared report run (tests/conftest.py)
    "chromium": ("browser",),      # a headless Chromium (tests/conftest.py)
    "tiny_run": ("runner",),       # test_disclosure.py: a kabupaten with a handful of households
    "poisoned": ("runner",),       # test_injection.py: a province with markup in its names
    "language_run": ("runner",),   # test_language.py: the shared run copied, English pages joined
}

#: Session fixtures whose users share one xdist group, so that the expensive thing is made once
#: (each pytest-xdist worker has its own session).
SHARED_GROUPS: dict[str, str] = {"report_run": "report_run", "world_full": "world_full"}

_tmp: Path | None = None
#: The test being run (set up, called, torn down), for the guard below.
_current: pytest.Item | None = None


def pytest_configure(config):
    global _tmp
    _guard_report_runs()
    if os.environ.get("WELFARE_EVAL_TEST_DATA"):
        return
    _tmp = Path(tempfile.mkdtemp(prefix="welfare-eval-test-"))
    os.environ["XDG_CONFIG_HOME"] = str(_tmp / "config")
    os.environ["WELFARE_EVAL_NIK_KEY"] = "test-key-not-secret-32-bytes-long-0123456789"
    from welfare_eval import synth

    out = synth.synth(seed=TEST_SEED, scale=TEST_SCALE, out=_tmp / "province")
    os.environ["WELFARE_EVAL_TEST_DATA"] = str(out)
    os.environ["WELFARE_EVAL_SOURCE"] = str(out)
    # notebooks run by nbval (in file order) store results here, and the briefing reads them
    os.environ["WELFARE_EVAL_RESULTS"] = str(_tmp / "results" / "results.csv")
    os.environ[GROUPS_DIR_VARIABLE] = str(_tmp / "xdist-groups")
    (_tmp / "results").mkdir()


def pytest_unconfigure(config):
    if _tmp is not None:
        shutil.rmtree(_tmp, ignore_errors=True)


def _matches(name: str, patterns) -> list:
    return [p for p in patterns if fnmatch.fnmatch(name, p)]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.xdist_group("notebooks"))
            continue
        for pattern in _matches(path.name, FILE_MARKERS):
            for marker in FILE_MARKERS[pattern]:
                item.add_marker(getattr(pytest.mark, marker))
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture in fixtures & set(FIXTURE_MARKERS):
            for marker in FIXTURE_MARKERS[fixture]:
                item.add_marker(getattr(pytest.mark, marker))
        if item.get_closest_marker("xdist_group"):
            continue
        shared = sorted({SHARED_GROUPS[f] for f in fixtures & set(SHARED_GROUPS)})
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
        elif _uses_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(path.stem))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _longest_first(items)
    _tell_the_scheduler(items)


#: Under pytest-xdist the scheduler hands out work in collection order (see the scheduler below):
#: the two long groups first (the notebooks, one after another; the users of the shared report run),
#: then the files of slow and runner tests, then the rest, which fills in at the end. A file's or a
#: group's tests keep their order.
FIRST_GROUPS = ("notebooks", "report_run")


def _longest_first(items) -> None:
    def scope(item) -> str:
        group = item.get_closest_marker("xdist_group")
        return f"group:{group.args[0]}" if group else item.nodeid.split("::", 1)[0]

    rank: dict[str, int] = {}
    for item in items:
        key = scope(item)
        group = key.removeprefix("group:")
        level = 0 if group in FIRST_GROUPS else 1 if item.get_closest_marker("slow") or item.get_closest_marker(
            "runner") else 2
        rank[key] = min(rank.get(key, 2), level)
    items.sort(key=lambda item: rank[scope(item)])


#: Where each pytest-xdist worker writes the xdist_group of its collected tests, for the controller's
#: scheduler below (set by the controller in pytest_configure; the workers inherit it).
GROUPS_DIR_VARIABLE = "WELFARE_EVAL_XDIST_GROUPS"


def _tell_the_scheduler(items) -> None:
    """On a pytest-xdist worker: write {test id: group} of the grouped tests for the controller.

    pytest-xdist 3.8 passes groups to its scheduler by appending ``@group`` to ``item._nodeid``,
    which pytest 9 no longer reads (a node's id is ``item._id``): ``--dist loadgroup`` then grouped
    nothing, and the shared report run was made once per worker. The scheduler below reads these
    files instead."""
    worker, folder = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get(GROUPS_DIR_VARIABLE)
    if not worker or not folder:
        return
    groups = {}
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names:
            groups[item.nodeid] = "_".join(names)
    Path(folder).mkdir(parents=True, exist_ok=True)
    target = Path(folder) / f"{worker}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(groups))
    tmp.replace(target)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (make test): a test file's tests go to one worker, as with ``loadfile``,
    except the tests of an xdist_group, which go to one worker whatever their file (the users of the
    shared report run, the notebooks). Other distribution modes are pytest-xdist's own."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # collection order: the longest work first (_longest_first)

    class FileAndGroupScheduling(LoadScopeScheduling):
        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:  # every worker has collected (and written its file) by now
                self._groups = {}
                folder = os.environ.get(GROUPS_DIR_VARIABLE)
                for f in sorted(Path(folder).glob("*.json")) if folder else ():
                    self._groups.update(json.loads(f.read_text()))
            group = self._groups.get(nodeid)
            return f"group:{group}" if group else nodeid.split("::", 1)[0]

    return FileAndGroupScheduling(config, log)


def _uses_module_fixture(item) -> bool:
    """Whether the test uses a module-, class- or package-scoped fixture (made once per worker that
    runs one of its users: keeping its users together makes it once)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = getattr(info, "name2fixturedefs", {}) if info is not None else {}
    return any(d.scope in ("module", "class", "package") for fds in defs.values() for d in fds)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    global _current
    _current = item
    try:
        yield
    finally:
        _current = None


def _guard_report_runs() -> None:
    """A test (or a fixture it uses) that starts report jobs on local worker processes must carry
    the ``runner`` marker, or ``make test-fast`` would run it: it fails with what to do instead."""
    from welfare_eval.report import executors

    original = executors.LocalExecutor.__init__
    if getattr(original, "_runner_guard", False):
        return

    @functools.wraps(original)
    def guarded(self, *args, **kwargs):
        item = _current
        if item is not None and item.get_closest_marker("runner") is None:
            raise RuntimeError(f"{item.nodeid} starts report jobs but is not marked 'runner', so make test-fast "
                               "would run it: use the shared report_run fixture, or list its own fixture in "
                               "FIXTURE_MARKERS or its file in FILE_MARKERS in conftest.py (tests/README.md).")
        original(self, *args, **kwargs)

    guarded._runner_guard = True  # type: ignore[attr-defined]
    executors.LocalExecutor.__init__ = guarded  # type: ignore[method-assign]
