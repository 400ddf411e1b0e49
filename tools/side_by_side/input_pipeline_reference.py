#!/usr/bin/python3
"""The Python twin of BM_InputPipeline_JpegRrcFlipRandAugment (robustness/augmentation/
augmentation_benchmark.cc): torchvision 0.14 on PIL, one thread, the same JPEG photograph.

  /usr/bin/python3 tools/side_by_side/input_pipeline_reference.py [--min_time 3]

Per image: PIL decode (Image.open + convert RGB) -> RandomResizedCrop(224, bicubic) ->
RandomHorizontalFlip -> RandAugment (2 ops) -> ToTensor. Two RandAugments, each timed:
  timm:        the same work as the C++ side, DeiT's rand-m9-mstd0.5-inc1: 2 ops drawn with
               replacement from timm 0.3.2's increasing list, each applied with p 0.5, magnitude
               N(9, 0.5) clipped to [0, 10], random sign, bicubic, fill (124, 116, 104). The ops
               are Pillow calls written from shared/research/timm_recipes.md (the ones
               robustness/augmentation/testdata/make_pil_fixtures.py checks the C++ ops against);
               timm itself is not a Debian package.
  torchvision: torchvision's own RandAugment(num_ops=2, magnitude=9), its defaults (another op
               list, both ops always applied, nearest-neighbour geometric ops): less work per op.
Prints one JSON line per mode: {"name": ..., "images_per_second": ...}.
"""
import argparse
import json
import os
import random
import sys
import time

import torch
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "robustness", "augmentation", "testdata"))
import make_pil_fixtures  # noqa: E402  (apply_op: timm's ops as Pillow calls)

PHOTO = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
TIMM_INCREASING = ["AutoContrast", "Equalize", "Invert", "Rotate", "PosterizeIncreasing",
                   "SolarizeIncreasing", "SolarizeAdd", "ColorIncreasing", "ContrastIncreasing",
                   "BrightnessIncreasing", "SharpnessIncreasing", "ShearX", "ShearY",
                   "TranslateXRel", "TranslateYRel"]
FILL = (124, 116, 104)


class TimmRandAugment:
    """rand-m9-mstd0.5-inc1 with timm 0.3.2's semantics (see the module docstring)."""

    def __init__(self, rng):
        self.rng = rng

    def __call__(self, img):
        for op in [self.rng.choice(TIMM_INCREASING) for _ in range(2)]:
            if self.rng.random() > 0.5:
                continue
            level = min(10.0, max(0.0, self.rng.gauss(9.0, 0.5)))
            sign = -1 if self.rng.random() < 0.5 else 1
            img = make_pil_fixtures.apply_op(img, op, level, sign, "bicubic", FILL)
        return img


def pipeline(mode):
    ra = (TimmRandAugment(random.Random(0)) if mode == "timm"
          else transforms.RandAugment(num_ops=2, magnitude=9))
    return transforms.Compose([
        transforms.RandomResizedCrop(224, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        ra,
        transforms.ToTensor(),
    ])


def rate(mode, min_time):
    p = pipeline(mode)

    def one():
        with open(PHOTO, "rb") as f:
            image = Image.open(f).convert("RGB")
        out = p(image)
        assert out.shape == (3, 224, 224)
        return out

    for _ in range(5):  # warm-up and check
        one()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        one()
        n += 1
    return n / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--min_time", type=float, default=3.0)
    p.add_argument("--mode", choices=["timm", "torchvision", "both"], default="both")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for mode in (["timm", "torchvision"] if args.mode == "both" else [args.mode]):
        print(json.dumps({"name": f"InputPipeline_JpegRrcFlipRandAugment[{mode}]",
                          "images_per_second": rate(mode, args.min_time)}), flush=True)


if __name__ == "__main__":
    main()
