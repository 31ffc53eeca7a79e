"""What each benchmark measured, kept in benchmarks/results/<benchmark>.json for the README's
one results table, which benchmarks/readme_table.py writes from these files (`make
benchmark` runs every benchmark, then it).
"""

import datetime
import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


class Results:
    """The rows a benchmark adds to the results table: what was measured, the result (with
    its ratio to a bare VGG19 pass measured in the same run, where one applies) and the
    target, if the course set one."""

    def __init__(self, benchmark, device):
        # nst.describe_device()'s line, short: "CPU, 2 cores"
        self.device = device.split(";")[0].replace(" (", ", ").rstrip(")")
        self.benchmark, self.rows = benchmark, []

    def add(self, measure, result, target=""):
        self.rows.append({"measure": measure, "result": result, "target": target})

    def save(self):
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{self.benchmark}.json"
        record = {"benchmark": self.benchmark, "device": self.device,
                  "date": datetime.date.today().isoformat(), "rows": self.rows}
        path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        print(f"results saved to {path.relative_to(RESULTS_DIR.parents[1])}")
