#!/usr/bin/env bash
# Installs every dependency of the project from Debian 12's archive, pinned by upstream version.
#
# Idempotent: packages already installed at an accepted version are left alone. Stops with a clear
# message naming the package and the version it wanted when it cannot get one.
#
# Why upstream-version pins and not exact Debian revisions: the mirror keeps only the current build of
# each package, so `pkg=1.13.1+dfsg-4` stops installing on the next security rebuild. We pin the
# upstream version (the part that changes behaviour) and record the exact installed versions in every
# run's provenance (robustness/config/provenance.cc).
set -euo pipefail

# package  upstream-version-prefix  (what it is for)
PINS=(
  "bazel-bootstrap 4.2.3"            # Bazel itself (offline recipe: shared BAZEL_OFFLINE.md)
  "bazel-platforms 0.0.2"
  "bazel-rules-java 4.0.0"
  "bazel-rules-proto 4.0.0"
  "bazel-skylib 1.0.3"
  "libtorch-dev 1.13.1"              # LibTorch, CPU build
  "libabsl-dev 20220623"             # Abseil
  "libgoogle-glog-dev 0.6.0"
  "libgflags-dev 2.2.2"
  "libprotobuf-dev 3.21.12"
  "protobuf-compiler 3.21.12"
  "libgtest-dev 1.12.1"
  "libgmock-dev 1.12.1"
  "libbenchmark-dev 1.7.1"
  "libpng-dev 1.6.39"                # image codec for ImageFolder data (PNG)
  "libjpeg62-turbo-dev 1:2.1.5"      # image codec for ImageFolder data (JPEG)
  "libopencv-imgproc-dev 4.6.0"      # OpenCV imgproc: the corruptions' Canny, resize, warpAffine (ood_suite.md 5)
  "libgloo-dev 0.0~git20220518"     # Gloo headers: c10d's ProcessGroupGloo (robustness/distributed)
  "zlib1g-dev 1:1.2.13"              # gzip IDX files
  "libopenblas0-pthread 0.3.21"      # fast GEMM: takes over the libblas.so.3 alternative
  "dataset-fashion-mnist 0.0~git20200523"  # the embedded default data set
  "gimp-data-extras 1:2.0.2"         # ice textures: the embedded frost substitute (robustness/corruptions)
  "python3-torch 1.13.1"             # Python reference for equivalence tests and speed comparisons
  "python3-torchvision 0.14.1"
  "python3-numpy 1:1.24"
  "python3-pil 9.4.0"                # Pillow: RandAugment op fixtures (robustness/augmentation)
  "python-matplotlib-data 3.6"       # ships the JPEG photograph of the fixtures and speed runs
  "python3-matplotlib 3.6"           # optional PNG renderings of plots (SVG is written natively)
)

die() { echo "setup.sh: ERROR: $*" >&2; exit 1; }

if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive

installed_version() { { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || true; } \
  | awk '$1=="install" && $3=="installed" {print $4}'; }

missing=()
for pin in "${PINS[@]}"; do
  read -r pkg want <<<"$pin"
  have=$(installed_version "$pkg")
  if [[ -n "$have" && "$have" == "$want"* ]]; then continue; fi
  missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -q >/dev/null || die "apt-get update failed (is Debian's archive reachable?)"
  for pin in "${PINS[@]}"; do
    read -r pkg want <<<"$pin"
    [[ " ${missing[*]} " == *" $pkg "* ]] || continue
    cand=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
    [[ -n "$cand" && "$cand" != "(none)" ]] \
      || die "package '$pkg' is not available from apt (wanted version $want*)"
    [[ "$cand" == "$want"* ]] \
      || die "package '$pkg': apt offers version $cand, but this project pins $want* (edit PINS in tools/setup.sh only after checking the new version)"
  done
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/robustness-setup-apt.log 2>&1 \
    || { tail -20 /tmp/robustness-setup-apt.log >&2; die "apt-get install failed (log: /tmp/robustness-setup-apt.log)"; }
fi

# Verify after install: every pin holds.
for pin in "${PINS[@]}"; do
  read -r pkg want <<<"$pin"
  have=$(installed_version "$pkg")
  [[ "$have" == "$want"* ]] || die "package '$pkg' is at version '${have:-not installed}', expected $want*"
done

[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] \
  || die "Fashion-MNIST files not found under /usr/share/datasets/fashion-mnist"
command -v bazel >/dev/null || die "bazel not on PATH after installing bazel-bootstrap"
echo "setup.sh: all ${#PINS[@]} pinned packages present"
