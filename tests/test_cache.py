"""The run's cache (welfare_eval.cache): off without the runner, hits only on identical content and
arguments, recomputes a damaged entry, computes once under two workers, changes no number."""
from __future__ import annotations

import multiprocessing as mp
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from welfare_eval import cache, small_area
from welfare_eval.io import attach_poverty_lines

CALLS: list[str] = []


@cache.memoized
def summarize(data: pd.DataFrame, *, column: str = "x", scale: float = 1.0, seed: int = 0,
              weights: pd.Series | None = None) -> pd.DataFrame:
    """A deterministic stand-in for a model fit: records each time it really computes."""
    CALLS.append(column)
    rng = np.random.default_rng(seed)
    values = data[column] if weights is None else data[column] * weights   # aligned on the index
    out = values.groupby(data["g"], sort=True).sum().mul(scale).to_frame("total")
    out["noise"] = rng.normal(size=len(out))
    out.attrs["fit"] = {"n": len(data), "scale": scale}
    return out


def frame() -> pd.DataFrame:
    return pd.DataFrame({"g": ["a", "b", "a", "c"], "x": [0.1, 0.2, 0.3, 0.4], "n": [1, 2, 3, 4],
                         "c": pd.Categorical(["u", "v", "u", "v"], categories=["u", "v"]),
                         "o": pd.Series([1, "x", 2.5, None], dtype=object)})


def weights() -> pd.Series:
    return pd.Series([1.0, 2.0, 0.5, 1.0], index=[0, 1, 2, 3], name="w")


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A run's cache folder, as the runner sets it for its kernels."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    CALLS.clear()
    return tmp_path / "cache"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pkl")) if folder.exists() else []


def test_without_the_runner_nothing_is_cached(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV, raising=False)
    CALLS.clear()
    a, b = summarize(frame()), summarize(frame())
    assert CALLS == ["x", "x"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not list(tmp_path.iterdir())


def test_identical_call_is_read_back_equal(folder):
    first = summarize(frame(), column="x", seed=3)
    second = summarize(frame(), column="x", seed=3)
    assert CALLS == ["x"]
    assert len(entries(folder)) == 1
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    assert second.attrs == first.attrs
    # a default given explicitly is the same call
    summarize(frame(), column="x", scale=1.0, seed=3)
    assert CALLS == ["x"]


def _value(d):
    d.loc[2, "x"] = np.nextafter(0.3, 1.0)   # one value by one unit in the last place
    return d


def _text(d):
    d.loc[3, "g"] = "d"
    return d


def _name(d):
    return d.rename(columns={"n": "m"})


def _dtype(d):
    return d.astype({"n": float})         # same numbers, another type


def _index(d):
    return d.set_axis([0, 1, 2, 9])


def _order(d):
    return d.iloc[[1, 0, 2, 3]]


def _row(d):
    return d.iloc[:3]


def _categories(d):
    d["c"] = d["c"].cat.set_categories(["u", "v", "w"])   # same labels, one more category
    return d


def _ordered(d):
    d["c"] = d["c"].cat.as_ordered()                      # same labels and categories, ordered
    return d


def _object_type(d):
    d.loc[0, "o"] = "1"                                   # the text "1" where the number 1 was
    return d


def _series_index(w):
    return w.set_axis([0, 1, 2, 4])                       # same values, another index


def _on_data(change):
    return lambda kw: {**kw, "data": change(kw["data"])}


def _on_weights(change):
    return lambda kw: {**kw, "weights": change(kw["weights"])}


@pytest.mark.parametrize("change", [_on_data(c) for c in (_value, _text, _name, _dtype, _index, _order, _row,
                                                          _categories, _ordered, _object_type)]
                         + [_on_weights(_series_index)],
                         ids=["value-last-bit", "text", "column-name", "dtype", "index", "row-order", "row-dropped",
                              "categories", "categorical-ordered", "object-element-type", "series-index"])
def test_changed_input_misses(folder, change):
    summarize(frame(), weights=weights())
    summarize(**change({"data": frame(), "weights": weights()}))
    assert len(CALLS) == 2
    assert len(entries(folder)) == 2


@pytest.mark.parametrize("kwargs", [{"seed": 1}, {"scale": 1.0 + 1e-15}, {"column": "n"}],
                         ids=["seed", "scale", "column"])
def test_changed_argument_misses(folder, kwargs):
    summarize(frame())
    summarize(frame(), **kwargs)
    assert len(CALLS) == 2


def test_unkeyable_argument_is_computed_not_cached(folder):
    @cache.memoized
    def apply(data, fn):
        CALLS.append("apply")
        return fn(data)

    apply(frame(), len), apply(frame(), len)
    assert CALLS == ["apply", "apply"]
    assert not entries(folder)


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


def _flip(p: Path) -> None:
    b = bytearray(p.read_bytes())
    b[-10] ^= 0xFF
    p.write_bytes(bytes(b))


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _foreign(p: Path) -> None:
    import pickle

    p.write_bytes(pickle.dumps("not an entry"))   # a pickle without the entry's header and checksum


@pytest.mark.parametrize("damage", [_truncate, _flip, _empty, _foreign], ids=["partial", "corrupt", "empty", "foreign"])
def test_damaged_entry_is_recomputed(folder, damage):
    first = summarize(frame())
    (entry,) = entries(folder)
    damage(entry)
    again = summarize(frame())
    assert CALLS == ["x", "x"]
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    summarize(frame())                     # the rewritten entry is whole: read, not computed
    assert CALLS == ["x", "x"]


def _folder_under_a_file(folder: Path) -> None:
    folder.parent.parent.mkdir(parents=True, exist_ok=True)
    folder.parent.write_bytes(b"")          # the folder's parent is a file: the folder cannot be made


def _folder_is_a_file(folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"")                 # a file where the folder should be


def _entry_is_a_folder(folder: Path) -> None:
    (entry,) = entries(folder)              # the entry can be neither read nor replaced
    entry.unlink()
    entry.mkdir()


def _lock_is_a_folder(folder: Path) -> None:
    (entry,) = entries(folder)              # the lock file cannot be opened
    entry.unlink()
    (folder / f".{entry.stem}.lock").unlink()
    (folder / f".{entry.stem}.lock").mkdir()


@pytest.mark.parametrize("block", [_folder_under_a_file, _folder_is_a_file, _entry_is_a_folder, _lock_is_a_folder],
                         ids=["folder-under-a-file", "folder-is-a-file", "entry-is-a-folder", "lock-is-a-folder"])
def test_unwritable_cache_computes_and_raises_nothing(tmp_path, monkeypatch, capfd, block):
    """Caching is best effort: a cache folder that cannot be made, locked or written (a full disk,
    a read-only run folder) gives the value computed without the cache, with no error, no
    warning and nothing on stderr."""
    folder = tmp_path / "run" / "cache"
    monkeypatch.delenv(cache.ENV, raising=False)
    plain = summarize(frame(), seed=5)
    monkeypatch.setenv(cache.ENV, str(folder))
    if block in (_entry_is_a_folder, _lock_is_a_folder):
        summarize(frame(), seed=5)          # a stored entry and its lock file, to be blocked
    block(folder)
    CALLS.clear()
    name = f"{summarize.__module__}.{summarize.__qualname__}"
    errors = cache.stats.get(name, {}).get("errors", 0)
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a warning would reach the page's stderr and fail the job
        got = [summarize(frame(), seed=5) for _ in range(2)]
    for value in got:
        pd.testing.assert_frame_equal(plain, value, check_exact=True)
        assert value.attrs == plain.attrs
    assert CALLS == ["x", "x"]              # nothing stored, so computed each time
    assert cache.stats[name]["errors"] - errors == 2
    assert capfd.readouterr() == ("", "")
    if folder.is_dir():                     # no temporary file left behind
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def _raise_oserror():
    raise FileNotFoundError("the function's own error")


def test_the_functions_own_oserror_is_not_swallowed(folder):
    """Only the cache's own failures are best effort: an OSError of the function reaches its caller."""
    wrapped = cache.memoized(_raise_oserror)
    with pytest.raises(FileNotFoundError, match="own error"):
        wrapped()


@cache.memoized
def slow_sum(values: tuple, log: str) -> float:
    with open(log, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    import time

    time.sleep(1.0)                        # long enough for the second worker to ask meanwhile
    return float(sum(values))


def _worker(folder: str, log: str, out) -> None:
    os.environ[cache.ENV] = folder
    out.put(slow_sum((1.0, 2.0, 3.5), log))


def test_two_workers_compute_a_key_once(tmp_path):
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    log = tmp_path / "computed.log"
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "cache"), str(log), out)) for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert got == [6.5, 6.5]
    assert len(log.read_text().split()) == 1   # one computed, the other waited on the lock and read


# -- the real functions: cached equals computed, bit for bit --------------------------------------


@pytest.fixture(scope="module")
def survey_registry(province):
    from welfare_eval.io import load_dataset

    ds = load_dataset(province, tables=("survey", "registry"))
    return ds["survey"], ds["registry"]


def test_area_poverty_cached_equals_computed(survey_registry, tmp_path, monkeypatch):
    survey, registry = survey_registry
    kw = dict(indicator="P0", method="REML", parent_effects=True, bootstrap=8, bootstrap_errors="binomial", seed=1)
    monkeypatch.delenv(cache.ENV, raising=False)
    plain = small_area.area_poverty(survey, registry, **kw)
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    before = dict(cache.stats.get("welfare_eval.small_area.area_poverty", {"hits": 0, "misses": 0}))
    computed = small_area.area_poverty(survey, registry, **kw)
    read = small_area.area_poverty(survey, registry, **kw)
    after = cache.stats["welfare_eval.small_area.area_poverty"]
    assert (after["misses"] - before["misses"], after["hits"] - before["hits"]) == (1, 1)
    pd.testing.assert_frame_equal(plain, computed, check_exact=True)
    pd.testing.assert_frame_equal(plain, read, check_exact=True)
    other = small_area.area_poverty(survey, registry, **{**kw, "seed": 2})   # another seed: computed
    assert cache.stats["welfare_eval.small_area.area_poverty"]["misses"] - before["misses"] == 2
    assert not other["std_error"].equals(plain["std_error"])


def test_ebp_cached_equals_computed(survey_registry, tmp_path, monkeypatch):
    survey, registry = survey_registry
    lines = attach_poverty_lines(registry)
    kw = dict(welfare="cons_pc", covariates=["decile", "urban", "hh_size"], area="kec_code",
              poverty_line="poverty_line", household_size="hh_size", transform="box-cox", L=3, bootstrap=2, seed=3)
    monkeypatch.delenv(cache.ENV, raising=False)
    plain = small_area.ebp(survey, lines, **kw)
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    small_area.ebp(survey, lines, **kw)
    read = small_area.ebp(survey, lines, **kw)
    pd.testing.assert_frame_equal(plain, read, check_exact=True)
    assert read.attrs["fit"].boxcox_lambda == plain.attrs["fit"].boxcox_lambda
    pd.testing.assert_series_equal(read.attrs["fit"].beta, plain.attrs["fit"].beta, check_exact=True)


def test_kabupaten_notebook_with_the_run_cache_equals_uncached(province, tmp_path, monkeypatch):
    """A kabupaten's small-area notebook that reads the province job's fits shows and stores what
    it shows and stores when it fits them itself."""
    from notebook_cells import run_notebook

    params = dict(bootstrap=6, ebp_bootstrap=2)
    monkeypatch.delenv(cache.ENV, raising=False)
    plain = run_notebook("15_small_area", province, kabupaten="7601", **params)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    run_notebook("15_small_area", province, kabupaten="all", **params)          # the province job fits
    stats = dict(cache.stats.get("welfare_eval.small_area.area_poverty", {"hits": 0}))
    cached = run_notebook("15_small_area", province, kabupaten="7601", **params)
    assert cache.stats["welfare_eval.small_area.area_poverty"]["hits"] - stats["hits"] == 2
    pd.testing.assert_frame_equal(plain.store.drop(columns=["results"], errors="ignore"),
                                  cached.store.drop(columns=["results"], errors="ignore"), check_exact=True)
    assert plain.tables.keys() == cached.tables.keys()
    for cell in plain.tables:
        pd.testing.assert_frame_equal(plain.tables[cell], cached.tables[cell], check_exact=True, obj=cell)
    assert plain.texts == cached.texts


def test_kabupaten_notebook_with_an_unwritable_cache_equals_uncached(province, tmp_path, monkeypatch):
    """A run folder that cannot take the cache (here a file where its folder should be; a full
    disk alike) leaves the small-area notebook as it is without the cache: no error in a cell."""
    from notebook_cells import run_notebook

    params = dict(bootstrap=6, ebp_bootstrap=2)
    monkeypatch.delenv(cache.ENV, raising=False)
    plain = run_notebook("15_small_area", province, kabupaten="7601", **params)
    (tmp_path / "run").write_bytes(b"")
    monkeypatch.setenv(cache.ENV, str(tmp_path / "run" / ".cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blocked = run_notebook("15_small_area", province, kabupaten="7601", **params)
    pd.testing.assert_frame_equal(plain.store, blocked.store, check_exact=True)
    assert plain.texts == blocked.texts


@pytest.mark.runner
def test_a_report_run_fits_once_and_stores_what_uncached_notebooks_store(province, tmp_path, monkeypatch):
    """Through the runner: its kernels get the run's cache folder, the province's and a kabupaten's
    small-area jobs store the rows each notebook stores when it fits the models itself, and the
    folder is gone when the run ends."""
    from notebook_cells import run_notebook

    from welfare_eval.report.runner import cache_folder, run

    params = {"bootstrap": 6, "ebp_bootstrap": 2}
    res = run(data_dir=province, notebooks=["15_small_area"], kabupaten="all,7601", parameters=params,
              output_root=tmp_path / "out", run_id="r", workers=2)
    assert res.ok, [j.get("error") for j in res.jobs]
    assert not cache_folder(res.run_dir).exists()
    monkeypatch.delenv(cache.ENV, raising=False)
    for region in ("all", "7601"):
        plain = run_notebook("15_small_area", province, kabupaten=region, **params).store
        stored = pd.read_csv(res.run_dir / "results" / f"15_small_area__{region}.csv", dtype={"region": str})
        plain = plain.reset_index(drop=True)
        assert len(stored) == len(plain) > 0
        for column in ("estimate", "std_error", "ci_lower", "ci_upper"):   # exact, NaN where NaN
            np.testing.assert_array_equal(stored[column].to_numpy(float), plain[column].to_numpy(float),
                                          err_msg=f"{region} {column}")
        assert list(stored["group"].astype(str)) == list(plain["group"].astype(str))
