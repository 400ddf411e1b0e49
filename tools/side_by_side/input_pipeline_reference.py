#!/usr/bin/python3
"""The Python twin of BM_InputPipeline_JpegRrcFlipRandAugment (robustness/augmentation/
augmentation_benchmark.cc): torchvision 0.14 on PIL, one thread, the same JPEG photograph.

  /usr/bin/python3 tools/side_by_side/input_pipeline_reference.py [--min_time 3]

Per image: PIL decode (Image.open + convert RGB) -> RandomResizedCrop(224, bicubic) ->
RandomHorizontalFlip -> torchvision's RandAugment(num_ops=2, magnitude=9) -> ToTensor.
torchvision's RandAugment is not timm's (other op list and magnitudes), but it does the same
kind of work per op on the same PIL images; it is the RandAugment Debian's torchvision ships.
Prints one JSON line: {"name": ..., "images_per_second": ...}.
"""
import argparse
import json
import time

import torch
from PIL import Image
from torchvision import transforms

PHOTO = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--min_time", type=float, default=3.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    pipeline = transforms.Compose([
        transforms.RandomResizedCrop(224, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        transforms.RandAugment(num_ops=2, magnitude=9),
        transforms.ToTensor(),
    ])

    def one():
        with open(PHOTO, "rb") as f:
            image = Image.open(f).convert("RGB")
        out = pipeline(image)
        assert out.shape == (3, 224, 224)
        return out

    for _ in range(5):  # warm-up and check
        one()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.min_time:
        one()
        n += 1
    rate = n / (time.perf_counter() - start)
    print(json.dumps({"name": "InputPipeline_JpegRrcFlipRandAugment", "images_per_second": rate}))


if __name__ == "__main__":
    main()
