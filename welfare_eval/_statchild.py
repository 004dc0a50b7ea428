"""The child process of :mod:`welfare_eval.statfile`: read one Stata or SPSS file with pyreadstat.

    python _statchild.py PATH EXT OUT

Run as a script (it imports nothing of the package, so it starts fast). Exit 0: the data and value
labels are pickled into OUT. Exit 3: the file is refused, the reason on the last line of stderr
(prefixed ``CLAIM`` when the header claims more rows than the file can hold). A crash of the C
reader shows as a signal to the parent.
"""
import os
import pickle
import sys

REFUSED = 3

#: zlib's largest compression ratio (about 1032:1, deflate's limit), the most rows a compressed
#: SPSS (.zsav) file can hold per byte; used only to refuse headers that claim impossibly many rows.
ZLIB_MAX_RATIO = 1032


def min_bytes(meta, ext, head):
    """The fewest bytes the rows a header claims can take (0 when the header claims no row count)."""
    claimed = meta.number_rows or 0
    widths = meta.variable_storage_width or {}
    if ext == ".dta":
        per_row = sum(int(w) for w in widths.values()) or meta.number_columns
    elif head.startswith(b"$FL3"):
        per_row = max(meta.number_columns, 1) / ZLIB_MAX_RATIO
    else:
        compression = int.from_bytes(head[72:76], "little") if len(head) >= 76 else 1
        # uncompressed: 8-byte segments; bytecode compression: at least one command byte per value
        per_row = sum(8 * -(-int(w) // 8) for w in widths.values()) if compression == 0 else meta.number_columns
    return claimed * per_row


def main(path, ext, out):
    import pyreadstat

    reader = pyreadstat.read_dta if ext == ".dta" else pyreadstat.read_sav
    what = "Stata" if ext == ".dta" else "SPSS"
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(128)
    try:
        _, meta = reader(path, metadataonly=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, ValueError) as exc:
        print(f"its header cannot be read ({str(exc)[:160]})", file=sys.stderr)
        return REFUSED
    need = min_bytes(meta, ext, head)
    if need > size:
        print(f"CLAIM claims {meta.number_rows:,} rows of {meta.number_columns} columns in its header, which need at "
              f"least {need:,.0f} bytes, but the file has {size:,} bytes; the header is damaged or the file is "
              f"truncated: it was not read. Copy it again or save it again from {what}", file=sys.stderr)
        return REFUSED
    try:
        df, meta = reader(path, apply_value_formats=False)
    except MemoryError:
        print("it does not fit in memory when read", file=sys.stderr)
        return REFUSED
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, ValueError) as exc:
        print(f"its data cannot be read ({str(exc)[:160]})", file=sys.stderr)
        return REFUSED
    labels = {c: dict(lab) for c, lab in (meta.variable_value_labels or {}).items()}
    with open(out, "wb") as fh:
        pickle.dump((df, labels), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
