"""Write the README's results table from benchmarks/results/*.json (what `make benchmark`
measured last), between its two marker lines. `--check` changes nothing and fails when the
README's table is not the one the results give (a test runs it).

    python benchmarks/readme_table.py [--check]
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS_DIR = ROOT / "benchmarks" / "results"
ORDER = ["speed", "coarse_to_fine", "command_line", "fast_style"]  # the course's order
BEGIN = "<!-- results table: written by `make benchmark` (benchmarks/readme_table.py) -->"
END = "<!-- end of the results table -->"


def results():
    found = {path.stem: json.loads(path.read_text()) for path in RESULTS_DIR.glob("*.json")}
    return [found[name] for name in sorted(found, key=lambda n: (n not in ORDER,
                                                                 ORDER.index(n) if n in ORDER
                                                                 else 0, n))]


def table(records):
    lines = ["| benchmark (date, device) | measure | result | target |", "|---|---|---|---|"]
    for record in records:
        where = f"`{record['benchmark']}.py` ({record['date']}, {record['device']})"
        for index, row in enumerate(record["rows"]):
            lines.append(f"| {where if index == 0 else ''} | {row['measure']} | "
                         f"{row['result']} | {row['target']} |")
    return "\n".join(lines)


def with_table(text, records):
    """text (the README) with the table between the markers replaced; a ValueError when
    the markers are missing."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{README.name} needs the lines {BEGIN} and {END}, once each")
    before, rest = text.split(BEGIN)
    _, after = rest.split(END)
    return f"{before}{BEGIN}\n{table(records)}\n{END}{after}"


def main(argv):
    text = README.read_text()
    updated = with_table(text, results())
    if "--check" in argv:
        if updated != text:
            sys.exit(f"{README.name}'s results table is not what benchmarks/results/ holds: "
                     "run `python benchmarks/readme_table.py`")
        return
    README.write_text(updated)
    print(f"wrote the results table of {README.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
