"""Results computed once per report run: a small on-disk cache that only ``welfare-eval run`` turns on.

Every small-area job of a run (the province and each kabupaten) fits the same province-wide
models to the same data with the same arguments and seeds: the kabupaten pages only show their
own rows of it. The runner points every kernel of the run at a folder of the run
(``$WELFARE_EVAL_CACHE``); a function decorated with :func:`memoized` then stores its result
there under a key and the run's other jobs read it instead of fitting again. Without the
variable (an analyst in JupyterLab, the tests, a papermill loop) nothing is cached and nothing
changes.

A wrong cache is worse than none, so the key is the SHA-256 of

- the function's qualified name,
- every argument after defaults are applied, by *content*: a DataFrame or Series by its
  column names, index (values, dtype, level names) and every column's ``repr(dtype)`` and values
  (numbers by their bytes; categoricals by their categories, ordered flag and codes; text by
  pandas' row hashes, and for object columns the type of each element too, so that 1 and "1"
  differ), a number by its type and ``repr``, a dataclass (a survey design) by its type and
  fields, containers element by element; an argument of any other type turns the cache off for
  that call,
- the package's source and reference data (every file under the package folder), the
  versions of Python, numpy, pandas and scipy, the BLAS thread settings and the number of cores
  (BLAS's default thread count, which can move a bootstrap's digits).

An entry is written to a temporary file and renamed into place (a reader never sees half of
it), and holds the SHA-256 of its payload, checked on every read: an entry that is cut short,
corrupt or unreadable is computed again and rewritten. Two workers asking for the same key at
once take a file lock: one computes, the other waits and reads. The value returned is the
unpickled entry, equal to the computed one bit for bit (pickle keeps float64 values, dtypes,
index and ``DataFrame.attrs``).

Caching is best effort: a folder that cannot be made, locked or written (a full disk, a
read-only run folder) and an entry that cannot be read only mean the value is computed, as
without the cache; no error and no warning reaches the notebook (see :data:`stats`).

Entries are pickles, and are trusted exactly as far as the run folder is: the checksum detects
a damaged entry, not a forged one (whoever writes an entry can write its checksum), and
unpickling runs code. Anyone who can write the run folder can therefore run code in the run's
kernels; keep the output folder as private as the data it is made from.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import os
import pickle
import platform
import tempfile
from pathlib import Path
from typing import Any, Callable, TypeVar

from .config import BLAS_THREAD_VARIABLES

#: The environment variable that names the cache folder; set by ``welfare-eval run`` for its kernels.
ENV = "WELFARE_EVAL_CACHE"
#: First line of every entry; a file without it is not an entry (and is recomputed).
MAGIC = b"welfare-eval cache 1\n"

F = TypeVar("F", bound=Callable[..., Any])

#: Calls answered from the cache ("hits"), computed and stored ("misses"), and computed but not
#: stored because the folder could not be made, locked or written ("errors"), in this process, by
#: function. Caching is best effort: a cache that cannot be written never fails the call, and
#: warns nowhere (a warning would reach the page's stderr).
stats: dict[str, dict[str, int]] = {}


class _Unkeyable(Exception):
    """An argument the key cannot describe by content: the call is computed, not cached."""


def cache_dir() -> Path | None:
    """The cache folder of this process's run (``$WELFARE_EVAL_CACHE``), or None: no caching."""
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value else None


@functools.lru_cache(maxsize=1)
def environment_fingerprint() -> str:
    """Hash of the package's files (source and reference data) and the numeric libraries' versions."""
    import numpy as np
    import pandas as pd

    from .config import PACKAGE_DIR

    h = hashlib.sha256()
    # the BLAS thread count can move a bootstrap's last digits (and which draws pass a condition
    # check), so the threads a process may use are part of the key as well
    threads = [os.environ.get(v, "") for v in BLAS_THREAD_VARIABLES]
    for part in (platform.python_version(), np.__version__, pd.__version__, _version("scipy"), *threads,
                 str(os.cpu_count())):
        h.update(part.encode() + b"\0")
    root = Path(PACKAGE_DIR)
    for p in sorted(x for x in root.rglob("*") if x.is_file() and "__pycache__" not in x.parts):
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def _version(name: str) -> str:
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:  # noqa: BLE001 - not installed: part of the key all the same
        return "absent"


def _feed_values(h, s) -> None:
    """Add a Series' values and dtype to the hash (not its index: see :func:`_feed_index`)."""
    import numpy as np
    import pandas as pd

    dtype = s.dtype
    h.update(b"values%d\0" % len(s) + repr(dtype).encode() + b"\0")
    if isinstance(dtype, pd.CategoricalDtype):
        # repr(dtype) shortens a long list of categories: the categories by content, the ordered
        # flag and the codes, so that the same labels under other categories are another key
        h.update(b"categorical ordered=%d\0" % bool(dtype.ordered))
        _feed_values(h, pd.Series(dtype.categories))
        h.update(np.ascontiguousarray(s.cat.codes.to_numpy()).tobytes())
    elif isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":  # numbers, dates: their bytes
        h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
    else:  # text, nullable types: pandas' row hashes
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            # pandas hashes objects that are not text by their str(): 1 and "1", None and "None"
            # hash alike, so the type of every element goes in as well
            types = [f"{t.__module__}.{t.__qualname__}" for t in map(type, s.to_numpy())]
            kinds = sorted(set(types))
            h.update(b"types " + "\0".join(kinds).encode() + b"\0")
            if len(kinds) > 1:
                code = {k: i for i, k in enumerate(kinds)}
                h.update(np.array([code[t] for t in types], dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(pd.util.hash_pandas_object(s, index=False).to_numpy()).tobytes())


def _feed_index(h, index) -> None:
    """Add an index (its type, level names, and each level's values and dtype) to the hash."""
    import pandas as pd

    h.update(b"index " + type(index).__name__.encode() + repr(list(index.names)).encode() + b"\0")
    levels = range(index.nlevels) if isinstance(index, pd.MultiIndex) else [None]
    for level in levels:
        values = index if level is None else index.get_level_values(level)
        _feed_values(h, pd.Series(values, copy=False))


def _feed_frame(h, frame) -> None:
    h.update(b"DataFrame%d,%d\0" % frame.shape)
    _feed_index(h, frame.index)
    h.update(b"columns " + type(frame.columns).__name__.encode() + repr(list(frame.columns.names)).encode() + b"\0")
    for i, name in enumerate(frame.columns):  # by position: two columns may share a name
        h.update(repr(name).encode() + b"\0")
        _feed_values(h, frame.iloc[:, i])


def _feed_series(h, s) -> None:
    h.update(b"Series%d\0" % len(s) + repr(s.name).encode() + b"\0")
    _feed_index(h, s.index)
    _feed_values(h, s)


def _feed(h, obj: Any) -> None:
    """Add ``obj`` to the hash by content; raise :class:`_Unkeyable` for a type it cannot describe."""
    import numpy as np  # here, not at the top: the runner reads ENV without loading numpy and pandas
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        _feed_frame(h, obj)
    elif isinstance(obj, pd.Series):
        _feed_series(h, obj)
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufcmM":
            raise _Unkeyable(f"an array of dtype {obj.dtype}")
        h.update(b"ndarray" + str(obj.dtype).encode() + repr(obj.shape).encode() + b"\0")
        h.update(np.ascontiguousarray(obj).tobytes())
    elif obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        h.update(type(obj).__name__.encode() + b":" + repr(obj).encode() + b"\0")
    elif isinstance(obj, (list, tuple)):
        h.update(b"%s%d[" % (type(obj).__name__.encode(), len(obj)))
        for x in obj:
            _feed(h, x)
        h.update(b"]")
    elif isinstance(obj, dict):
        h.update(b"dict%d{" % len(obj))
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
        h.update(b"}")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(b"dataclass " + f"{type(obj).__module__}.{type(obj).__qualname__}".encode() + b"(")
        for f in dataclasses.fields(obj):
            h.update(f.name.encode() + b"=")
            _feed(h, getattr(obj, f.name))
        h.update(b")")
    else:
        raise _Unkeyable(f"an argument of type {type(obj).__name__}")


def key(name: str, arguments: dict) -> str:
    """The cache key of a call: its name, its arguments by content, :func:`environment_fingerprint`.

    Raises :class:`_Unkeyable` when an argument cannot be described by its content."""
    h = hashlib.sha256(name.encode() + b"\0" + environment_fingerprint().encode() + b"\0")
    for k in sorted(arguments):
        h.update(k.encode() + b"=")
        _feed(h, arguments[k])
    return h.hexdigest()


_MISS = object()


def _read(path: Path) -> Any:
    """The value stored at ``path``, or ``_MISS`` when there is none or it fails its checksum."""
    try:
        blob = path.read_bytes()
    except OSError:
        return _MISS
    head = len(MAGIC) + 65  # the magic line, then the payload's hex SHA-256 and a newline
    if not blob.startswith(MAGIC) or len(blob) < head:
        return _MISS
    digest, payload = blob[len(MAGIC):head - 1], blob[head:]
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        return _MISS
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - an entry of another library version that no longer loads
        return _MISS


def _write(path: Path, value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (released when the holder ends, however it ends)."""
    try:
        import fcntl
    except ImportError:  # no POSIX locks: two workers may both compute; each entry is still whole
        yield
        return
    fh = open(path, "a+b")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
    except BaseException:
        fh.close()
        raise
    try:
        yield
    finally:
        # after the value is computed nothing here may fail the call: closing the file releases
        # the lock in any case, and a lock file that cannot be closed cleanly holds no data
        with contextlib.suppress(OSError):
            fcntl.flock(fh, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            fh.close()


def _count(name: str, what: str) -> None:
    stats.setdefault(name, {"hits": 0, "misses": 0, "errors": 0})[what] += 1


def memoized(fn: F) -> F:
    """Cache ``fn``'s result in :func:`cache_dir` when a run sets it; call it as is otherwise.

    ``fn`` must be deterministic (seeds among its arguments) and must not change its arguments."""
    sig = inspect.signature(fn)
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        folder = cache_dir()
        if folder is None:
            return fn(*args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        try:
            k = key(name, dict(bound.arguments))
        except _Unkeyable:
            return fn(*args, **kwargs)
        path = folder / f"{fn.__qualname__}-{k[:40]}.pkl"
        value = _read(path)  # no folder, no entry, or an entry that cannot be read: a miss
        if value is not _MISS:
            _count(name, "hits")
            return value
        with contextlib.ExitStack() as held:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                held.enter_context(_locked(folder / f".{path.stem}.lock"))
            except OSError:  # a full disk, a folder that cannot be made: compute, store nothing
                _count(name, "errors")
                return fn(*args, **kwargs)
            value = _read(path)  # another worker may have written it while this one waited
            if value is not _MISS:
                _count(name, "hits")
                return value
            value = fn(*args, **kwargs)  # its own errors are its caller's, not the cache's
            try:
                _write(path, value)
            except OSError:  # the entry is not stored; the value is computed all the same
                _count(name, "errors")
            else:
                _count(name, "misses")
            return value

    return wrapper  # type: ignore[return-value]


__all__ = ["ENV", "cache_dir", "environment_fingerprint", "key", "memoized", "stats"]
