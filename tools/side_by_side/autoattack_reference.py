#!/usr/bin/python3
"""The reference AutoAttack (fra31/auto-attack) on a Fashion-MNIST ResNet-18 w16 trained here.

The twin of `tools/evaluate` with `tools/evaluate/fashion_mnist_autoattack_vs_reference.pbtxt`
(README "Full standard AutoAttack against the reference"). Not part of the build or the tests:
it needs a checkout of the reference, which this project never downloads.

  # the model, out of the store (tools/weights/README.md)
  bazel run //tools/weights -- export \\
      --model_config=$PWD/robustness/models/configs/fashion_mnist_resnet18_w16.pbtxt \\
      --checkpoint=$PWD/out/models/resnet-18_4_cnn_recipe-<fp>/checkpoint.pt --output=/tmp/r18.pth
  # the reference at a392200 (research/autoattack.md), e.g. git clone, then:
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 tools/side_by_side/autoattack_reference.py \\
      --autoattack=/path/to/auto-attack --weights=/tmp/r18.pth --num_images=200 --over_255=4

Prints the reference's own log (robust accuracy and time after each stage) and a JSON line.
"""
import argparse
import gzip
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

FASHION = "/usr/share/datasets/fashion-mnist/"


class FashionResNet18(nn.Module):
    """robustness/models/configs/fashion_mnist_resnet18_w16.pbtxt: torchvision's ResNet-18
    layout and parameter names, width 16, a 3x3 stride-1 stem without max-pool, 1 channel, the
    normalisation (x - 0.286) / 0.353 inside (the config's)."""

    def __init__(self, width=16, num_classes=10, mean=0.286, std=0.353):
        super().__init__()
        self.mean, self.std = mean, std
        self.conv1 = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        inplanes = width
        for i, planes in enumerate([width, 2 * width, 4 * width, 8 * width]):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != planes:
                down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes))
            setattr(self, f"layer{i + 1}",
                    nn.Sequential(BasicBlock(inplanes, planes, stride, down),
                                  BasicBlock(planes, planes)))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def fashion_test(n):
    with gzip.open(FASHION + "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(FASHION + "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return torch.tensor(x.copy()).float() / 255.0, torch.tensor(y.copy()).long()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--autoattack", required=True, help="checkout of fra31/auto-attack")
    p.add_argument("--weights", required=True, help="state dict from tools/weights export")
    p.add_argument("--num_images", type=int, default=200)
    p.add_argument("--over_255", type=float, default=4.0, help="epsilon x 255")
    p.add_argument("--norm", default="Linf", choices=["Linf", "L2"])
    p.add_argument("--attacks", default="apgd-ce,apgd-t,fab-t,square",
                   help="the standard version's stages to run, in order")
    p.add_argument("--batch_size", type=int, default=250)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    sys.path.insert(0, a.autoattack)
    from autoattack import AutoAttack  # noqa: E402 (the user's checkout)

    torch.set_num_threads(a.threads)
    model = FashionResNet18()
    model.load_state_dict(torch.load(a.weights))
    model.eval()
    x, y = fashion_test(a.num_images)
    eps = a.over_255 / 255.0
    aa = AutoAttack(model, norm=a.norm, eps=eps, version="standard", seed=a.seed, device="cpu")
    aa.attacks_to_run = a.attacks.split(",")
    start = time.time()
    adv = aa.run_standard_evaluation(x, y, bs=a.batch_size)
    seconds = time.time() - start
    with torch.no_grad():
        robust = int(model(adv).argmax(1).eq(y).sum())
    print(json.dumps({"epsilon": eps, "norm": a.norm, "num_images": a.num_images,
                      "robust_accuracy": 100.0 * robust / a.num_images, "seconds": seconds}))


if __name__ == "__main__":
    main()
