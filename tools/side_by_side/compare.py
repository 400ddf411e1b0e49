#!/usr/bin/python3
"""Runs the C++ benchmarks and their plain-PyTorch twins back to back and prints the ratio.

  /usr/bin/python3 tools/side_by_side/compare.py [--rounds 3] [--min_time 2]

Builds //robustness/models:model_benchmark and //robustness/attacks:pgd_benchmark with -c opt,
then alternates C++ and Python runs for `rounds` rounds (so drifting machine load hits both
sides alike) and reports the median images/s of each case and C++ / Python. Case names pair up
as BM_<Name> (C++) <-> <Name> (Python). Run it on an idle machine; timings never go into tests.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAIRS = [
    ("//robustness/models:model_benchmark", "robustness/models/model_benchmark",
     "tools/side_by_side/models_reference.py"),
    ("//robustness/attacks:pgd_benchmark", "robustness/attacks/pgd_benchmark",
     "tools/side_by_side/pgd_reference.py"),
]


def run_cpp(binary, min_time):
    out = subprocess.run([binary, f"--benchmark_min_time={min_time}", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    # Names look like "BM_ResNet_TrainStep/real_time"; keep "ResNet_TrainStep".
    return {b["name"][len("BM_"):].split("/")[0]: b["items_per_second"]
            for b in json.loads(out)["benchmarks"]}


def run_python(script, min_time):
    out = subprocess.run(["/usr/bin/python3", script, "--min_time", str(min_time)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(\S+)\s.*?([\d.]+) images/s$", out, re.MULTILINE)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min_time", type=float, default=2.0)
    args = parser.parse_args()
    subprocess.run(["bazel", "build", "-c", "opt"] + [p[0] for p in PAIRS], check=True, cwd=ROOT)
    bin_dir = subprocess.run(["bazel", "info", "-c", "opt", "bazel-bin"], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout.strip()
    cpp, py = {}, {}
    for r in range(args.rounds):
        for _, binary, script in PAIRS:
            for name, value in run_cpp(os.path.join(bin_dir, binary), args.min_time).items():
                cpp.setdefault(name, []).append(value)
            for name, value in run_python(script, args.min_time).items():
                py.setdefault(name, []).append(value)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print("| case | C++ images/s | Python images/s | C++ / Python |")
    print("| --- | ---: | ---: | ---: |")
    for name in cpp:
        if name not in py:
            continue
        c, p = statistics.median(cpp[name]), statistics.median(py[name])
        print(f"| {name} | {c:.1f} | {p:.1f} | {c / p:.2f} |")


if __name__ == "__main__":
    main()
