#!/usr/bin/python3
"""Plain-PyTorch twins of the C++ benchmark models, timed the same way.

Builds the two architectures of robustness/models/model_benchmark.cc in plain PyTorch
(Debian's python3-torch 1.13.1) and times a train step (forward + cross-entropy + backward +
SGD step, train mode) and an inference forward (eval mode, no_grad) at batch 128 of
[1, 28, 28] images with 10 classes and 2 intra-op threads. Prints images/s per case.

  /usr/bin/python3 tools/side_by_side/models_reference.py [--min_time 5]

The models follow robustness/models/{resnet,deit}.h: same layout, widths, activations and
parameter counts (printed), normalisation inside forward. Initialisation is PyTorch's default; it
does not change the timing.
"""
import argparse
import math
import time

import torch
from torch import nn
import torch.nn.functional as F

BATCH, CLASSES = 128, 10


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class BasicBlock(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False),
                                            nn.BatchNorm2d(width))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity, inplace=True)


class ResNet(nn.Module):
    """torchvision ResNet-18 layout (BASIC 2-2-2-2) with the SMALL stem (3x3/1 conv, no pool)."""

    def __init__(self, depths=(2, 2, 2, 2), width=16, in_channels=1, num_classes=CLASSES):
        super().__init__()
        self.normalize = Normalize([0.286], [0.353])
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages, cin = [], width
        for i, depth in enumerate(depths):
            w = width * 2 ** i
            blocks = []
            for b in range(depth):
                blocks.append(BasicBlock(cin, w, 2 if (i > 0 and b == 0) else 1))
                cin = w
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(self.normalize(x))), inplace=True)
        return self.fc(self.stages(x).mean((2, 3)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = ((q * (d // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class DeiT(nn.Module):
    """Pre-norm ViT: patch 7 on 28x28 (16 tokens + CLS), learned position embedding."""

    def __init__(self, image=28, patch=7, dim=128, depth=6, heads=4, mlp_ratio=4.0,
                 in_channels=1, num_classes=CLASSES):
        super().__init__()
        self.normalize = Normalize([0.286], [0.353])
        self.patch_embed = nn.Conv2d(in_channels, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(self.normalize(x)).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(x)[:, 0]))


def time_loop(fn, min_time):
    fn()  # warm-up (allocations, oneDNN primitives), like the C++ check step
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return n, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min_time", type=float, default=5.0, help="seconds per case")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {BATCH}")
    images = torch.rand(BATCH, 1, 28, 28)
    labels = torch.randint(CLASSES, (BATCH,))

    for name, make in (("ResNet", ResNet), ("DeiT", DeiT)):
        model = make()
        params = sum(p.numel() for p in model.parameters())
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            opt.step()
            return loss

        assert model(images).shape == (BATCH, CLASSES) and math.isfinite(step().item())
        n, t = time_loop(step, args.min_time)
        print(f"{name}_TrainStep  params {params:>9,}  {1000 * t / n:8.1f} ms/iter  "
              f"{n * BATCH / t:8.1f} images/s")

        model.eval()
        with torch.no_grad():
            n, t = time_loop(lambda: model(images), args.min_time)
        print(f"{name}_Forward    params {params:>9,}  {1000 * t / n:8.1f} ms/iter  "
              f"{n * BATCH / t:8.1f} images/s")


if __name__ == "__main__":
    main()
