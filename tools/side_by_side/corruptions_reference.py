#!/usr/bin/python3
"""Our corruptions beside bethgelab's imagecorruptions 1.1.2 on the same images.

Not part of the build or the tests: it needs the user's own checkout of the reference and
Debian's python3-skimage, python3-opencv and python3-numba (apt-get install them first), which
the project never installs.

  bazel build -c opt //tools/corrupt //robustness/corruptions:corruptions_benchmark
  /usr/bin/python3 tools/side_by_side/corruptions_reference.py \
      --reference=/path/to/imagecorruptions --work=/tmp/corruptions_vs_reference

Images: crops of the photograph python-matplotlib-data ships (224 x 224, RGB) and Fashion-MNIST
test images zero-padded to 32 x 32 (grey, replicated to RGB: the reference refuses < 32 px).
Both sides use the imagecorruptions table and the reference's frost photographs.

Deterministic corruptions are compared value by value (mean and 99th percentile of |ours -
reference| in grey levels); random ones by the distribution of the per-value change (out - in):
its mean, its standard deviation and its mean absolute value, each as ours / reference.
Timing: the reference's corrupt() images/s on one core (OMP/MKL/OpenCV threads 1) beside our
corruptions_benchmark at the same size on one thread, on the same content (the benchmark reads
the same photograph crops and Fashion-MNIST images; its label says so), each side for at least
--min_time seconds per corruption and round. --rounds N alternates
the two sides N times (a shared machine's speed drifts) and reports medians and the lowest
per-round ratio; --only restricts everything to some corruptions.
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
from PIL import Image

N32 = 300  # default number of Fashion-MNIST images in the 32 px set (--images32)
DETERMINISTIC = {"defocus_blur", "zoom_blur", "brightness", "contrast", "pixelate",
                 "jpeg_compression", "saturate", "gaussian_blur"}
NAMES = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
         "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
         "elastic_transform", "pixelate", "jpeg_compression", "speckle_noise", "gaussian_blur",
         "spatter", "saturate"]


def make_images(work, n32):
    sets = {}
    photo = np.array(Image.open(
        "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg").convert("RGB"))
    crops = []
    h, w = photo.shape[:2]
    for top, left in [(0, 0), (0, w - 224), (h - 224, 0), (h - 224, w - 224),
                      ((h - 224) // 2, (w - 224) // 2), (100, 150)]:
        c = photo[top:top + 224, left:left + 224]
        crops += [c, c[:, ::-1].copy()]
    sets["224"] = crops
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        fm = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)[:n32]
    sets["32"] = [np.stack([np.pad(x, 2)] * 3, axis=-1) for x in fm]
    for name, images in sets.items():
        d = os.path.join(work, "in_" + name, "class0")
        os.makedirs(d, exist_ok=True)
        for i, x in enumerate(images):
            Image.fromarray(x).save(os.path.join(d, "img%05d.png" % i))
    return sets


def run_ours(args, name):
    frost = os.path.join(args.reference, "imagecorruptions", "frost")
    config = os.path.join(args.work, "config_%s.pbtxt" % name)
    with open(config, "w") as f:
        f.write(f'''corruption {{ severity_table: IMAGECORRUPTIONS
  frost {{ folder: "{frost}" files: ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg",
  "frost5.jpg"] scale_override: 0 }} }}
image_folder {{ root: "{args.work}/in_{name}" num_classes: 1 }}
all {{ include_extras: true }}
severities: [1, 2, 3, 4, 5]
seed: 0 threads: 2 output_format: PNG_FOLDER on_unreadable: FAIL max_images: 0
''')
    out = os.path.join(args.work, "ours_" + name)
    shutil.rmtree(out, ignore_errors=True)  # fresh: the tool would resume from an older run
    subprocess.run([args.corrupt_bin, "--config=" + config, "--output_dir=" + out], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="checkout of imagecorruptions")
    parser.add_argument("--work", default="/tmp/corruptions_vs_reference")
    parser.add_argument("--corrupt_bin", default="bazel-bin/tools/corrupt/corrupt")
    parser.add_argument("--benchmark_bin",
                        default="bazel-bin/robustness/corruptions/corruptions_benchmark")
    parser.add_argument("--timing_images", type=int, default=20)
    parser.add_argument("--min_time", type=float, default=1.0,
                        help="timing: seconds per corruption and round, each side (the reference "
                             "repeats whole passes over its images until then)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="timing: alternate both sides this many times, report medians")
    parser.add_argument("--only", default="",
                        help="comma-separated corruption names: time / compare only these")
    parser.add_argument("--timing_only", action="store_true",
                        help="only the images/s table (run it on an otherwise idle machine)")
    parser.add_argument("--images32", type=int, default=N32,
                        help="Fashion-MNIST test images in the 32 px set (at most 10000); the "
                             "accuracy drop's sampling error shrinks as 1 / sqrt(images)")
    parser.add_argument("--weights", default="",
                        help="exported Fashion-MNIST ResNet-18 w16 (autoattack_reference.py's "
                             "docstring shows the export): adds the accuracy-drop check")
    args = parser.parse_args()
    names = [c for c in args.only.split(",") if c] or NAMES
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        parser.error("--only: unknown corruption(s) %s; known: %s" % (unknown, ", ".join(NAMES)))
    sys.path.insert(0, args.reference)
    import cv2
    cv2.setNumThreads(1)
    from imagecorruptions import corrupt

    os.makedirs(args.work, exist_ok=True)
    sets = make_images(args.work, args.images32)
    results = {"value": [], "distribution": [], "timing": [], "accuracy": []}
    model = None
    if args.weights:
        import torch
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from autoattack_reference import FashionResNet18
        torch.set_num_threads(2)
        model = FashionResNet18()
        model.load_state_dict(torch.load(args.weights))
        model.eval()
        with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as f:
            labels = torch.tensor(np.frombuffer(f.read()[8:], np.uint8)[:args.images32].astype(np.int64))

    def correct(batch):
        """Per image, whether the model is right on 32 px RGB images cropped back to 28 x 28,
        channel 0 (the grey input)."""
        import torch
        x = torch.tensor(batch[:, 2:30, 2:30, 0] / 255.0, dtype=torch.float32)[:, None]
        with torch.no_grad():
            return np.concatenate([(model(x[i:i + 500]).argmax(1) == labels[i:i + 500]).numpy()
                                   for i in range(0, len(x), 500)]).astype(np.float64)

    def accuracy_row(row, src, ours, ref):
        """Accuracies in %, and the standard error of (drop ours - drop reference) in points:
        the two sides draw independently, so per image the outcome difference ours - ref has
        variance var(ours) + var(ref) (no pairing within a draw)."""
        c0, co, cr = correct(src), correct(ours), correct(ref)
        se = 100.0 * np.sqrt((co.var() + cr.var()) / len(co))
        return dict(row, clean=100.0 * c0.mean(), ours=100.0 * co.mean(), ref=100.0 * cr.mean(),
                    se_diff=float(se))
    for set_name, images in sets.items():
        ours_dir = None if args.timing_only else run_ours(args, set_name)
        for c in names if not args.timing_only else []:
            for s in range(1, 6):
                ours, ref, src = [], [], []
                np.random.seed(s)
                for i, x in enumerate(images):
                    p = os.path.join(ours_dir, c, str(s), "class0", "img%05d.png" % i)
                    ours.append(np.array(Image.open(p).convert("RGB")).astype(np.float64))
                    ref.append(corrupt(x, corruption_name=c, severity=s).astype(np.float64))
                    src.append(x.astype(np.float64))
                ours, ref, src = np.stack(ours), np.stack(ref), np.stack(src)
                row = {"size": set_name, "corruption": c, "severity": s}
                if c in DETERMINISTIC:
                    d = np.abs(ours - ref)
                    row.update(mean=float(d.mean()), p99=float(np.percentile(d, 99)),
                               max=float(d.max()))
                    results["value"].append(row)
                    if model is not None and set_name == "32":
                        results["accuracy"].append(accuracy_row(row, src, ours, ref))
                else:
                    if model is not None and set_name == "32":
                        results["accuracy"].append(accuracy_row(row, src, ours, ref))
                    do, dr = ours - src, ref - src
                    row.update(mean_ours=float(do.mean()), mean_ref=float(dr.mean()),
                               std_ours=float(do.std()), std_ref=float(dr.std()),
                               abs_ours=float(np.abs(do).mean()), abs_ref=float(np.abs(dr).mean()))
                    results["distribution"].append(row)
        # Timing: severity 3, one core; --rounds alternations of both sides, medians.
        size = 224 if set_name == "224" else 32
        ours_rates, ref_rates = {c: [] for c in names}, {c: [] for c in names}
        contents = {}
        for _ in range(args.rounds):
            if os.path.exists(args.benchmark_bin):
                out = subprocess.run(
                    [args.benchmark_bin, "--benchmark_format=json",
                     "--benchmark_min_time=%g" % args.min_time,
                     "--benchmark_filter=BM_Corrupt/.*/%d/" % size],
                    check=True, capture_output=True, text=True).stdout
                for b in json.loads(out)["benchmarks"]:
                    # label: "<corruption> (<content>)", the content the benchmark timed on
                    name, _, content = b["label"].partition(" ")
                    if name in ours_rates:
                        ours_rates[name].append(b["items_per_second"])
                        contents[name] = content.strip("()")
            for c in names:
                xs = images[:args.timing_images]
                corrupt(xs[0], corruption_name=c, severity=3)  # numba's JIT, frost's first read
                # Whole passes over the images until --min_time has passed (12 photo crops take
                # milliseconds for the fast corruptions: one pass alone was noise).
                t, done = time.perf_counter(), 0
                while True:
                    for x in xs:
                        corrupt(x, corruption_name=c, severity=3)
                    done += len(xs)
                    if time.perf_counter() - t >= args.min_time:
                        break
                ref_rates[c].append(done / (time.perf_counter() - t))
        for c in names:
            ours = float(np.median(ours_rates[c])) if ours_rates[c] else None
            ratios = [o / r for o, r in zip(ours_rates[c], ref_rates[c])]
            results["timing"].append({
                "size": set_name, "corruption": c, "reference": float(np.median(ref_rates[c])),
                "ours": ours, "ours_content": contents.get(c),
                "reference_rounds": ref_rates[c], "ours_rounds": ours_rates[c],
                "ratio_median": float(np.median(ratios)) if ratios else None,
                "ratio_min": float(min(ratios)) if ratios else None})
    with open(os.path.join(args.work, "timing.json" if args.timing_only else "comparison.json"),
              "w") as f:
        json.dump(results, f, indent=1)
    print("## Deterministic corruptions: |ours - reference| in grey levels\n")
    print("| size | corruption | severity | mean | p99 | max |\n| --- | --- | ---: | ---: | ---: | ---: |")
    for r in results["value"]:
        print("| %s | %s | %d | %.3f | %.0f | %.0f |" % (r["size"], r["corruption"], r["severity"],
                                                       r["mean"], r["p99"], r["max"]))
    print("\n## Random corruptions: per-value change out - in (grey levels), ours / reference\n")
    print("| size | corruption | severity | mean | std | mean abs |\n| --- | --- | ---: | ---: | ---: | ---: |")
    for r in results["distribution"]:
        print("| %s | %s | %d | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f |" % (
            r["size"], r["corruption"], r["severity"], r["mean_ours"], r["mean_ref"],
            r["std_ours"], r["std_ref"], r["abs_ours"], r["abs_ref"]))
    if results["accuracy"]:
        print("\n## Accuracy of a fixed model (Fashion-MNIST ResNet-18 w16, %d images at 32 px)\n"
              % args.images32)
        print("| corruption | severity | clean | ours | reference | drop ours / reference | s.e. |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in results["accuracy"]:
            dro, drr = r["clean"] - r["ours"], r["clean"] - r["ref"]
            print("| %s | %d | %.1f | %.1f | %.1f | %.1f / %.1f | %.2f |" % (
                r["corruption"], r["severity"], r["clean"], r["ours"], r["ref"], dro, drr,
                r["se_diff"]))
        print("\n## Accuracy drop averaged over the 5 severities, ours / reference (points)\n")
        print("| corruption | drop ours | drop reference | relative gap | s.e. of the gap |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for c in NAMES:
            rows = [r for r in results["accuracy"] if r["corruption"] == c]
            if not rows:
                continue
            dro = np.mean([r["clean"] - r["ours"] for r in rows])
            drr = np.mean([r["clean"] - r["ref"] for r in rows])
            se = np.sqrt(np.sum([r["se_diff"] ** 2 for r in rows])) / len(rows)
            print("| %s | %.2f | %.2f | %+.1f%% | %.2f |" % (
                c, dro, drr, 100.0 * (dro - drr) / drr if drr else 0.0, se))
    print("\n## Images/s on one core, severity 3 (medians over %d round(s); ratio: median and "
          "lowest of the per-round ratios)\n" % args.rounds)
    print("| size | corruption | reference | ours | ours timed on | ratio | lowest |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: |")
    for r in results["timing"]:
        ours = r["ours"]
        print("| %s | %s | %.0f | %s | %s | %s | %s |" % (
            r["size"], r["corruption"], r["reference"], "%.0f" % ours if ours else "-",
            r["ours_content"] or "-",
            "%.1fx" % r["ratio_median"] if ours else "-",
            "%.1fx" % r["ratio_min"] if ours else "-"))

if __name__ == "__main__":
    main()
