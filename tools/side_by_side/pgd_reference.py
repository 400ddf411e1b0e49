#!/usr/bin/python3
"""Plain-PyTorch twin of robustness/attacks/pgd_benchmark.cc, timed the same way.

Runs the same PGD-10 L-inf attack (eps 4/255, step 1/255, per-image uniform random start,
untargeted cross-entropy, gradients w.r.t. the input only, model in eval mode) on batch 128 of
[1, 28, 28] images with 10 classes and 2 intra-op threads, with Debian's python3-torch 1.13.1,
and prints attacked images/s per model:

  /usr/bin/python3 tools/side_by_side/pgd_reference.py [--min_time 3]

Models: ToyModel mirrors attacks_internal::SmallConvNet (robustness/attacks/internal/
toy_models.h); ResNet and DeiT are the twins in models_reference.py (the architectures of
robustness/models/model_benchmark.cc). Compare with items_per_second of BM_Pgd_<Model> from
  bazel run -c opt //robustness/attacks:pgd_benchmark -- --benchmark_min_time=3
"""
import argparse
import os
import sys

# Idle OpenMP threads sleep instead of spinning, as in every C++ binary of the project
# (robustness/base/openmp_wait_policy.h); libgomp reads this once, when torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_reference  # noqa: E402  (ResNet / DeiT twins of the C++ model benchmark)

BATCH, CLASSES = 128, 10
EPS, STEP, STEPS = 4 / 255, 1 / 255, 10


class SmallConvNet(nn.Module):
    """conv3x3(1->16)-BN-ReLU-maxpool2 -> conv3x3(16->32)-BN-ReLU-maxpool2 -> linear(32*7*7->10)."""

    def __init__(self, channels=1, image=28, num_classes=CLASSES):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * (image // 4) ** 2, num_classes)

    def forward(self, x):
        h = (x - 0.286) / 0.353
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(h))), 2)
        h = F.max_pool2d(F.relu(self.bn2(self.conv2(h))), 2)
        return self.fc(h.flatten(1))


def pgd_linf(model, images, labels, gen):
    """Same steps as robustness/attacks/pgd.cc for LINF, UNTARGETED, random start, 1 restart."""
    was_training = model.training
    model.eval()
    x = images + (torch.rand(images.shape, generator=gen) * 2 - 1) * EPS
    x = torch.min(torch.max(x, images - EPS), images + EPS).clamp(0, 1)
    for _ in range(STEPS):
        x = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(x), labels, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
        x = x.detach() + STEP * grad.sign()
        x = torch.min(torch.max(x, images - EPS), images + EPS).clamp(0, 1)
    model.train(was_training)
    return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min_time", type=float, default=3.0, help="seconds per case")
    parser.add_argument("--models", default="ToyModel,ResNet,DeiT",
                        help="comma-separated subset of ToyModel,ResNet,DeiT")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {BATCH}, "
          f"PGD-{STEPS} Linf eps 4/255 step 1/255")
    data = torch.Generator().manual_seed(0)
    images = torch.rand(BATCH, 1, 28, 28, generator=data)
    labels = torch.randint(CLASSES, (BATCH,), generator=data)
    makers = {"ToyModel": SmallConvNet, "ResNet": models_reference.ResNet,
              "DeiT": models_reference.DeiT}
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = makers[name]()
        gen = torch.Generator().manual_seed(1)
        # Check (and warm up) before timing, like the C++ benchmark.
        x = pgd_linf(model, images, labels, gen)
        linf = (x - images).abs().max().item()
        assert x.shape == images.shape and 0.5 * EPS <= linf <= EPS + 1e-6, linf
        assert x.min().item() >= 0 and x.max().item() <= 1
        n, t = models_reference.time_loop(lambda: pgd_linf(model, images, labels, gen),
                                          args.min_time)
        print(f"Pgd_{name:<9} {1000 * t / n:8.1f} ms/iter  {n * BATCH / t:8.1f} images/s")


if __name__ == "__main__":
    main()
