#!/usr/bin/env python3
"""Peers of `maillage import annuaire` for the benchmark: polars and DuckDB read the same
Annuaire Santé extract (pipe-separated, UTF-8, header line, trailing `|`) and keep the lines
whose commune is one of the given INSEE codes. Parse + filter only: nothing is written.

Prints one JSON object: for each peer, the wall-clock seconds of each run and the rows kept.
Usage: annuaire_peers.py FILE CODE[,CODE...] [--repeat N]
"""

import json
import sys
import time

COMMUNE = "Code commune (coord. structure)"


def run_polars(path, codes):
    import polars as pl

    frame = (
        pl.scan_csv(path, separator="|", quote_char=None, infer_schema=False, has_header=True)
        .filter(pl.col(COMMUNE).is_in(codes))
        .collect()
    )
    return frame.height


def run_duckdb(path, codes):
    import duckdb

    con = duckdb.connect()
    in_list = ",".join("'" + c + "'" for c in codes)
    (count,) = con.execute(
        "SELECT count(*) FROM (SELECT * FROM read_csv(?, delim='|', header=true, quote='', escape='', "
        f"all_varchar=true, null_padding=true) WHERE \"{COMMUNE}\" IN ({in_list}))",
        [path],
    ).fetchone()
    con.close()
    return count


def main():
    args = sys.argv[1:]
    repeat = 3
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i : i + 2]
    path, codes = args[0], [c for c in args[1].split(",") if c]
    out = {}
    for name, fn in (("polars", run_polars), ("duckdb", run_duckdb)):
        try:
            module = __import__(name)
            runs, rows = [], None
            for _ in range(repeat):
                start = time.perf_counter()
                rows = fn(path, codes)
                runs.append(time.perf_counter() - start)
            out[name] = {"version": module.__version__, "seconds": runs, "rows": rows}
        except Exception as e:  # a missing or failing peer is reported, not fatal
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
