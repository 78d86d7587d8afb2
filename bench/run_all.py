"""Run every benchmark in this directory, one after another, and print their figures.

Usage: python bench/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
QUICK = {
    "analytics.py": ["--events", "200000", "--seconds", "3"],
    "delivery.py": ["--seconds", "2", "--rounds", "2"],
    "shortlinks.py": ["--seconds", "2", "--rounds", "2"],
    "front_cost.py": ["--requests", "5000", "--rounds", "3"],
    "workers.py": ["--seconds", "2", "--rounds", "1"],
    "ratelimit.py": [],
    "instrumentation.py": ["--seconds", "3"],
    "access_log.py": ["--seconds", "3"],
    "renditions.py": ["--runs", "1", "--frames", "24"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller workloads, shorter runs")
    args = parser.parse_args()
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name.startswith("_") or script.name == "run_all.py":
            continue
        extra = QUICK.get(script.name, []) if args.quick else []
        print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
        if subprocess.run([sys.executable, str(script), *extra], cwd=HERE).returncode != 0:
            failed.append(script.name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
