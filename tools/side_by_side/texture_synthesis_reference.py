#!/usr/bin/python3
"""Plain-PyTorch twin of robustness/textures/texture_synthesis_benchmark.cc, timed the same way.

Gram-matching texture synthesis as the reference does it (research/patch_attack.md section 1):
VGG features with every max-pool replaced by a 2x2 average pool, style layers = each stage's
first ReLU, plain Gram matrices, loss 1e6 / L * sum ||G - T||^2 / (4 C^2 N^2), Adam lr 0.01 on the
normalised image, clamped after every step (to a fixed [-2, 2] here: the bounds do not change
the cost). Prints texture-iterations/s (one texture, one step)
for the same cases as the C++ benchmark (random weights, 2 threads):

  /usr/bin/python3 tools/side_by_side/texture_synthesis_reference.py [--min_time 1]

Compare with items_per_second of BM_Synthesis_Fashion and BM_Synthesis_VGG19/{1,4} from
  bazel run -c opt //robustness/textures:texture_synthesis_benchmark -- --benchmark_min_time=1
"""
import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_reference  # noqa: E402


def features(in_channels, stage_convs, widths):
    """torchvision's VGG `features` with average pools; returns (Sequential, style indices)."""
    layers, style, c = [], [], in_channels
    for convs, w in zip(stage_convs, widths):
        for i in range(convs):
            layers.append(nn.Conv2d(c, w, 3, padding=1))
            layers.append(nn.ReLU())
            if i == 0:
                style.append(len(layers) - 1)
            c = w
        layers.append(nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers[:style[-1] + 1]).eval(), style


def grams(net, style, x):
    out = []
    for i, layer in enumerate(net):
        x = layer(x)
        if i in style:
            f = x.flatten(2)
            out.append(torch.bmm(f, f.transpose(1, 2)))
    return out, None


def synthesize(net, style, targets, spatial, k, channels, size, iterations, gen):
    z = torch.randn(k, channels, size, size, generator=gen).clamp(-2, 2).requires_grad_(True)
    adam = torch.optim.Adam([z], lr=0.01)
    for _ in range(iterations):
        g, _ = grams(net, style, z)
        loss = sum(((a - b) ** 2).sum((1, 2)) / (4 * a.shape[1] ** 2 * n ** 2)
                   for a, b, n in zip(g, targets, spatial)) * (1e6 / len(g))
        adam.zero_grad()
        loss.sum().backward()
        adam.step()
        with torch.no_grad():
            z.clamp_(-2, 2)
    return z


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min_time", type=float, default=1.0, help="seconds per case")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    cases = [("Synthesis_Fashion", 1, (2, 2, 4), (16, 32, 64), 28, 10, 50),
             ("Synthesis_VGG19/1", 3, (2, 2, 4, 4, 4), (64, 128, 256, 512, 512), 224, 1, 2),
             ("Synthesis_VGG19/4", 3, (2, 2, 4, 4, 4), (64, 128, 256, 512, 512), 224, 4, 2)]
    for name, channels, convs, widths, size, k, iterations in cases:
        torch.manual_seed(0)
        net, style = features(channels, convs, widths)
        for p in net.parameters():
            p.requires_grad_(False)
        data = torch.Generator().manual_seed(0)
        with torch.no_grad():
            targets, _ = grams(net, style, torch.rand(k, channels, size, size, generator=data))
        spatial = [(size >> i) ** 2 for i in range(len(style))]
        gen = torch.Generator().manual_seed(1)
        n, t = models_reference.time_loop(
            lambda: synthesize(net, style, targets, spatial, k, channels, size, iterations, gen),
            args.min_time)
        print(f"{name:<20} {1000 * t / n:9.1f} ms/iter  {n * k * iterations / t:9.2f} "
              f"texture-iterations/s")


if __name__ == "__main__":
    main()
