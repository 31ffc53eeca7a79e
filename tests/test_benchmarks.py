"""The README's one results table: written from benchmarks/results/ by `make benchmark`, and
never edited by hand (this test fails when the two disagree)."""

import json
import subprocess
import sys

import pytest

import nst_helpers as nst

sys.path.insert(0, str(nst.REPO_ROOT / "benchmarks"))
import readme_table  # noqa: E402
import results  # noqa: E402


def test_the_readme_table_is_the_one_the_results_give():
    completed = subprocess.run([sys.executable, str(nst.REPO_ROOT / "benchmarks" /
                                                    "readme_table.py"), "--check"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    records = readme_table.results()
    assert [record["benchmark"] for record in records] == readme_table.ORDER
    assert all(record["rows"] for record in records)


def test_a_benchmark_saves_its_rows_and_the_table_shows_them(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path / "results")
    kept = results.Results("speed", "CPU (2 cores; no GPU found, which is fine for this course)")
    kept.add("a step at 256 px", "0.30 s: 1.10 bare passes", "1.15 bare passes")
    kept.add("a race", "36 s / 75 s")
    kept.save()
    record = json.loads((tmp_path / "results" / "speed.json").read_text())
    assert record["device"] == "CPU, 2 cores" and len(record["rows"]) == 2
    table = readme_table.table([record])
    assert table.splitlines()[2].startswith(f"| `speed.py` ({record['date']}, CPU, 2 cores) | "
                                            "a step at 256 px | 0.30 s")
    assert table.splitlines()[3].startswith("|  | a race | 36 s / 75 s |")


def test_the_table_goes_between_the_markers_and_nowhere_else():
    text = f"intro\n{readme_table.BEGIN}\nold table\n{readme_table.END}\noutro\n"
    record = {"benchmark": "speed", "date": "2026-12-02", "device": "CPU, 2 cores",
              "rows": [{"measure": "m", "result": "r", "target": "t"}]}
    updated = readme_table.with_table(text, [record])
    assert updated.startswith("intro\n") and updated.endswith("\noutro\n")
    assert "old table" not in updated and "| m | r | t |" in updated
    assert readme_table.with_table(updated, [record]) == updated
    with pytest.raises(ValueError, match="needs the lines"):
        readme_table.with_table("no markers here", [record])
