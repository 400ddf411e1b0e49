#!/usr/bin/python3
"""Runs the C++ benchmarks and their plain-PyTorch twins back to back and prints the ratio.

  /usr/bin/python3 tools/side_by_side/compare.py [--rounds 3] [--min_time 2] [--filter REGEX]
      [--pairs models,pgd]

Builds //robustness/models:model_benchmark, //robustness/attacks:pgd_benchmark and
//robustness/augmentation:augmentation_benchmark (its InputPipeline case) with -c opt,
then alternates C++ and Python runs for `rounds` rounds (so drifting machine load hits both
sides alike) and reports the median images/s of each case and C++ / Python, and the median
GFLOP/s where the case reports FLOPs. Case names pair up as BM_<Name> (C++) <-> <Name> (Python),
or <Name>[variant] (Python) for several twins of one C++ case.
--filter (a Python regex, re.search on the case name, e.g. 'Fmnist|_B1$') selects
model-benchmark cases on both sides;
--pairs picks which benchmark pairs run. It also checks that both sides count the same forward
FLOPs per image (flop_counter.h vs. the Python dispatch-mode counter), i.e. that the twins are
the same architectures, and exits with status 1 if they differ. Run it on an idle machine;
timings never go into tests.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAIRS = {
    "models": ("//robustness/models:model_benchmark", "robustness/models/model_benchmark",
               "tools/side_by_side/models_reference.py"),
    "pgd": ("//robustness/attacks:pgd_benchmark", "robustness/attacks/pgd_benchmark",
            "tools/side_by_side/pgd_reference.py"),
    "input": ("//robustness/augmentation:augmentation_benchmark",
              "robustness/augmentation/augmentation_benchmark",
              "tools/side_by_side/input_pipeline_reference.py"),
}
# Pairs whose C++ binary holds more cases than the twin: the fixed case filter of each.
FIXED_FILTER = {"input": "^InputPipeline_"}


def case_name(benchmark_name):
    # "BM_ResNet50_FwdBwd_B64/iterations:1/real_time" -> "ResNet50_FwdBwd_B64".
    return benchmark_name[len("BM_"):].split("/")[0]


def cpp_filter(binary, case_filter):
    """--benchmark_filter for the cases whose name Python's re.search(case_filter) matches (Google
    Benchmark's own regex is POSIX and sees the "/real_time" suffixes)."""
    names = subprocess.run([binary, "--benchmark_list_tests"], check=True, capture_output=True,
                           text=True, cwd=ROOT).stdout.split()
    cases = [case_name(n) for n in names if re.search(case_filter, case_name(n))]
    if not cases:
        sys.exit(f"--filter {case_filter!r} matches no case of {binary}")
    return "^BM_(" + "|".join(cases) + ")(/|$)"


def run_cpp(binary, min_time, case_filter):
    """{case: (images/s, GFLOP/s or None, FLOPs per image or None)}."""
    command = [binary, f"--benchmark_min_time={min_time}", "--benchmark_format=json"]
    if case_filter:
        command.append(f"--benchmark_filter={cpp_filter(binary, case_filter)}")
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if "error_occurred" in b and b["error_occurred"]:
            sys.exit(f"{b['name']}: {b.get('error_message', 'error')}")
        images = b["items_per_second"]
        gflops = b.get("GFLOP")
        per_image = gflops * 1e9 / images if gflops is not None else None
        results[case_name(b["name"])] = (images, gflops, per_image)
    return results


def run_python(script, min_time, case_filter):
    command = ["/usr/bin/python3", script, "--min_time", str(min_time)]
    if case_filter:
        command += ["--filter", case_filter]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    results = {}
    for line in out.splitlines():
        if line.startswith("{"):  # {"name": ..., "images_per_second": ...}
            record = json.loads(line)
            results[record["name"]] = (record["images_per_second"], None, None)
            continue
        m = re.match(r"^(\S+)\s.*?([\d.]+) images/s$", line)
        if not m:
            continue
        flops = re.search(r"([\d,]+) FLOP/image\s+([\d.]+) GFLOP/s", line)
        results[m.group(1)] = (float(m.group(2)),
                               float(flops.group(2)) if flops else None,
                               int(flops.group(1).replace(",", "")) if flops else None)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min_time", type=float, default=2.0)
    parser.add_argument("--filter", default="", help="regex selecting model-benchmark cases")
    parser.add_argument("--pairs", default="models,pgd,input",
                        help="comma-separated: models, pgd, input")
    args = parser.parse_args()
    pair_names = args.pairs.split(",")
    pairs = [PAIRS[name] for name in pair_names]
    subprocess.run(["bazel", "build", "-c", "opt"] + [p[0] for p in pairs], check=True, cwd=ROOT)
    bin_dir = subprocess.run(["bazel", "info", "-c", "opt", "bazel-bin"], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout.strip()
    cpp, py = {}, {}
    for r in range(args.rounds):
        for pair_name, (target, binary, script) in zip(pair_names, pairs):
            case_filter = args.filter if pair_name == "models" else ""
            cpp_case_filter = FIXED_FILTER.get(pair_name, case_filter)
            for side, results in ((cpp, run_cpp(os.path.join(bin_dir, binary), args.min_time,
                                                cpp_case_filter)),
                                  (py, run_python(script, args.min_time, case_filter))):
                for name, value in results.items():
                    side.setdefault(name, []).append(value)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    def median(values, i):
        present = [v[i] for v in values if v[i] is not None]
        return statistics.median(present) if present else None

    mismatches = []
    print("| case | C++ images/s | Python images/s | C++ / Python | C++ GFLOP/s | Python GFLOP/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    # A twin case "<C++ case>[variant]" compares with that C++ case.
    rows = [(name, name) for name in cpp if name in py]
    rows += [(name, name.split("[")[0]) for name in py if "[" in name and name.split("[")[0] in cpp]
    for name, cpp_name in rows:
        c, p = median(cpp[cpp_name], 0), median(py[name], 0)
        cg, pg = median(cpp[cpp_name], 1), median(py[name], 1)
        cf, pf = cpp[cpp_name][0][2], py[name][0][2]
        if cf is not None and pf is not None and abs(cf - pf) > 1e-6 * pf:
            mismatches.append(f"{name}: C++ {cf:,.0f} vs Python {pf:,} FLOP/image")
        gflops = (f"{cg:.1f} | {pg:.1f}" if cg is not None and pg is not None else "- | -")
        print(f"| {name} | {c:.1f} | {p:.1f} | {c / p:.2f} | {gflops} |")
    if mismatches:
        sys.exit("the twins count different FLOPs (not the same architecture?):\n  " +
                 "\n  ".join(mismatches))


if __name__ == "__main__":
    main()
