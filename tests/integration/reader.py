"""An analyst in a loop: `python -m tests.integration.reader WAREHOUSE STOP OUT`.

Until the file STOP exists, opens WAREHOUSE read-only, reads which recommendation run
each published table names, closes it, and appends one JSON line per read to OUT
(`{"runs": [...]}` or `{"error": "..."}`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

# The latest run as each layer of the warehouse names it: all equal in a consistent file.
READ = """
select
    (select max_by(run_id, generated_at) from ml_outputs.recommendation_runs),
    (select min(run_id) from ml.ml_recommendations_latest),
    (select max(run_id) from ml.ml_recommendations_latest),
    (select max_by(run_id, generated_at) from ml.ml_recommendations),
    (select max_by(run_id, generated_at) from kpi.rpt_recommendation_runs)
"""


def main(warehouse: str, stop: str, out: str) -> None:
    with Path(out).open("a") as log:
        while not Path(stop).exists():
            try:
                with duckdb.connect(warehouse, read_only=True) as con:
                    (row,) = con.execute(READ).fetchall()
                log.write(json.dumps({"runs": list(row)}) + "\n")
            except duckdb.Error as exc:
                log.write(json.dumps({"error": str(exc)}) + "\n")
            log.flush()
            time.sleep(0.02)


if __name__ == "__main__":
    main(*sys.argv[1:4])
