#!/usr/bin/python3
"""Plain-PyTorch twins of the C++ model benchmarks, timed the same way.

Builds the models of robustness/models/model_benchmark.cc in plain PyTorch (Debian's
python3-torch 1.13.1 and python3-torchvision 0.14.1), with the same case names, shapes and 2
intra-op threads, and prints per case: ms/iter, GFLOP/s and images/s.

  /usr/bin/python3 tools/side_by_side/models_reference.py [--min_time 3] [--filter REGEX]

Zoo cases, <Model>_<Mode>_B<batch>:
  224 px, 1000 classes, batch 1 and 64: ResNet50 (torchvision.models.resnet50), DeiTS (DeiT
  below: patch 16, dim 384, depth 12, 6 heads), HybridDeiT (torchvision resnet18 up to layer3,
  flattened to 196 tokens, Linear(256, 256), the DeiT-Mini encoder: dim 256, depth 12, 4 heads);
  28 px Fashion-MNIST, 10 classes, batch 1 and 128: FmnistResNet (ResNet below), FmnistDeiT
  (DeiT below with dim 96, 3 heads).
  Forward = eval() mode under torch.no_grad(); FwdBwd = train() mode, zero_grad(set_to_none=True),
  forward + cross-entropy + backward, no optimizer step. The 224 px batch-64 cases time exactly
  one iteration after the check step, as the C++ side does.
Legacy cases (batch 128, the twins of pgd_reference.py's models): ResNet_TrainStep,
ResNet_Forward, DeiT_TrainStep, DeiT_Forward (DeiT with dim 128, 4 heads); TrainStep adds an SGD
(momentum 0.9) step.

FLOPs are 2 x the multiply-accumulates of convolutions and matrix products, the convention of
robustness/models/flop_counter.h, but counted independently: a TorchDispatchMode sees the aten
ops below autograd (where linear and matmul have decomposed into mm / addmm / bmm) during one
batch-1 forward; the rate uses that x batch, x 3 for FwdBwd. compare.py checks that both sides
count the same FLOPs per image, i.e. that the twins are the same architectures.
Every model normalises inside forward() as the C++ models do. Initialisation is PyTorch's default
(plus trunc-normal tokens); it does not change the timing.
"""
import argparse
import ctypes
import math
import os
import re
import time

# Idle OpenMP threads sleep instead of spinning, as in every C++ binary of the project
# (robustness/base/openmp_wait_policy.h); libgomp reads this once, when torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def use_tensor_friendly_malloc():
    """glibc malloc keeps freed blocks below 32 MiB for reuse instead of returning them to the OS,
    as every C++ binary of the project does (robustness/base/malloc_policy.h: same thresholds,
    same respect for a user's MALLOC_* / GLIBC_TUNABLES). Runs on import of this module, which
    pgd_reference.py imports too."""
    if any(v in os.environ for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                                     "GLIBC_TUNABLES")):
        return False
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return (libc.mallopt(m_mmap_threshold, 32 << 20) == 1
            and libc.mallopt(m_trim_threshold, (2 << 30) - 1) == 1)


use_tensor_friendly_malloc()


def fix_openblas_fallback_core():
    """Where OpenBLAS does not know the CPU and falls back to its Prescott (SSE3) kernels, give it
    the AVX2 / AVX-512 kernels the CPU has, by the rule of every C++ binary of the project
    (robustness/base/kernel_isa.h, ApplyOpenBlasCoreFallbackFix). OpenBLAS reads
    OPENBLAS_CORETYPE when it is loaded, so the detection runs in a child process, before torch
    is imported here."""
    if "OPENBLAS_CORETYPE" in os.environ or os.environ.get("ROBUSTNESS_PORTABLE_KERNELS") == "1":
        return None
    import subprocess
    probe = ("import ctypes; lib = ctypes.CDLL('libopenblas.so.0'); "
             "lib.openblas_get_corename.restype = ctypes.c_char_p; "
             "print(lib.openblas_get_corename().decode())")
    try:
        core = subprocess.run(["/usr/bin/python3", "-c", probe], capture_output=True, text=True,
                              check=True, env={k: v for k, v in os.environ.items()}).stdout.strip()
        flags = set()
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except (OSError, subprocess.CalledProcessError):
        return None
    if core != "Prescott" or not {"avx2", "fma"} <= flags:
        return None
    choice = "Haswell"
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= flags:
        choice = "Cooperlake" if "avx512_bf16" in flags else "SkylakeX"
    os.environ["OPENBLAS_CORETYPE"] = choice
    return choice


fix_openblas_fallback_core()

import torch  # noqa: E402
from torch import nn
import torch.nn.functional as F
import torchvision
from torch.utils._python_dispatch import TorchDispatchMode

BATCH, CLASSES = 128, 10
FMNIST_MEAN, FMNIST_STD = [0.286], [0.353]
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


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
        self.normalize = Normalize(FMNIST_MEAN, FMNIST_STD)
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
    """Pre-norm ViT with a learned position embedding; defaults: patch 7 on 28x28 (16 tokens +
    CLS), dim 128, depth 6, 4 heads. With `backbone` (a CNN whose output stride is `patch` and
    whose output has `backbone_channels` channels), timm 0.3.2's HybridEmbed replaces the patch
    conv: the feature map is flattened to tokens and projected by a Linear."""

    def __init__(self, image=28, patch=7, dim=128, depth=6, heads=4, mlp_ratio=4.0,
                 in_channels=1, num_classes=CLASSES, mean=FMNIST_MEAN, std=FMNIST_STD,
                 backbone=None, backbone_channels=0):
        super().__init__()
        self.normalize = Normalize(mean, std)
        self.backbone = backbone
        if backbone is None:
            self.patch_embed = nn.Conv2d(in_channels, dim, patch, patch)
        else:
            self.patch_embed = nn.Linear(backbone_channels, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.normalize(x)
        if self.backbone is None:
            x = self.patch_embed(x).flatten(2).transpose(1, 2)
        else:
            x = self.patch_embed(self.backbone(x).flatten(2).transpose(1, 2))
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(x)[:, 0]))


def resnet50():
    return nn.Sequential(Normalize(IMAGENET_MEAN, IMAGENET_STD), torchvision.models.resnet50())


def deit_s():
    return DeiT(image=224, patch=16, dim=384, depth=12, heads=6, in_channels=3,
                num_classes=1000, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def hybrid_deit():
    r = torchvision.models.resnet18()
    trunk = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3)
    return DeiT(image=224, patch=16, dim=256, depth=12, heads=4, in_channels=3,
                num_classes=1000, mean=IMAGENET_MEAN, std=IMAGENET_STD, backbone=trunk,
                backbone_channels=256)


def fmnist_deit():
    return DeiT(dim=96, heads=3)


# (name, constructor, image size, channels, classes, small batch, large batch, one iteration at
# the large batch); the same table as kZooCases in model_benchmark.cc.
ZOO = [
    ("ResNet50", resnet50, 224, 3, 1000, 1, 64, True),
    ("DeiTS", deit_s, 224, 3, 1000, 1, 64, True),
    ("HybridDeiT", hybrid_deit, 224, 3, 1000, 1, 64, True),
    ("FmnistResNet", ResNet, 28, 1, 10, 1, 128, False),
    ("FmnistDeiT", fmnist_deit, 28, 1, 10, 1, 128, False),
]


class _FlopCount(TorchDispatchMode):
    """2 x MACs of aten.convolution / mm / addmm / bmm / baddbmm, as seen below autograd."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        aten = torch.ops.aten
        packet = func.overloadpacket
        if packet is aten.convolution:
            weight, transposed = args[1], args[6]
            per_row = weight.numel() // weight.shape[0]
            self.flops += 2 * (args[0].numel() if transposed else out.numel()) * per_row
        elif packet in (aten.mm, aten.bmm):
            self.flops += 2 * out.numel() * args[0].shape[-1]
        elif packet in (aten.addmm, aten.baddbmm):
            self.flops += 2 * out.numel() * args[1].shape[-1]
        return out


def forward_flops_per_image(model, image, channels):
    was_training = model.training
    model.eval()
    with torch.no_grad(), _FlopCount() as count:
        model(torch.rand(1, channels, image, image))
    model.train(was_training)
    return count.flops


def time_loop(fn, min_time, iterations=None, warm_up=True):
    """Times fn: one untimed warm-up call (skip it with warm_up=False when a check step already
    warmed up), then calls until min_time seconds have passed, or exactly `iterations` calls.
    Returns (calls, seconds)."""
    if warm_up:
        fn()  # allocations, oneDNN primitives, like the C++ check step
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if (n >= iterations) if iterations is not None else (elapsed >= min_time):
            return n, elapsed


def report(name, params, n, t, batch, flops_per_image):
    """One line per case; compare.py parses the FLOPs per image, GFLOP/s and images/s."""
    flops = ""
    if flops_per_image is not None:
        flops = (f"{flops_per_image:>15,} FLOP/image  "
                 f"{n * batch * flops_per_image / t / 1e9:7.1f} GFLOP/s  ")
    print(f"{name:<26} params {params:>11,}  {1000 * t / n:9.1f} ms/iter  {flops}"
          f"{n * batch / t:9.1f} images/s", flush=True)


def run_zoo(selected, min_time):
    for name, make, image, channels, classes, small, large, one_at_large in ZOO:
        for batch in (small, large):
            for mode in ("Forward", "FwdBwd"):
                case = f"{name}_{mode}_B{batch}"
                if not selected(case):
                    continue
                torch.manual_seed(0)
                model = make()
                params = sum(p.numel() for p in model.parameters())
                flops = forward_flops_per_image(model, image, channels)
                images = torch.rand(batch, channels, image, image)
                labels = torch.randint(classes, (batch,))
                iterations = 1 if (one_at_large and batch == large) else None
                if mode == "Forward":
                    model.eval()
                    with torch.no_grad():
                        logits = model(images)  # check, and warm up
                        assert logits.shape == (batch, classes), logits.shape
                        assert torch.isfinite(logits).all()
                        n, t = time_loop(lambda: model(images), min_time, iterations, warm_up=False)
                    report(case, params, n, t, batch, flops)
                else:
                    model.train()

                    def step():
                        model.zero_grad(set_to_none=True)
                        loss = F.cross_entropy(model(images), labels)
                        loss.backward()
                        return loss

                    assert math.isfinite(step().item())  # check, and warm up
                    assert all(p.grad is not None and torch.isfinite(p.grad).all()
                               for p in model.parameters())
                    n, t = time_loop(step, min_time, iterations, warm_up=False)
                    report(case, params, n, t, batch, 3 * flops)


def run_legacy(selected, min_time):
    images = torch.rand(BATCH, 1, 28, 28)
    labels = torch.randint(CLASSES, (BATCH,))
    for name, make in (("ResNet", ResNet), ("DeiT", DeiT)):
        if not (selected(f"{name}_TrainStep") or selected(f"{name}_Forward")):
            continue
        torch.manual_seed(0)
        model = make()
        params = sum(p.numel() for p in model.parameters())
        if selected(f"{name}_TrainStep"):
            model.train()
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

            def step():
                opt.zero_grad()
                loss = F.cross_entropy(model(images), labels)
                loss.backward()
                opt.step()
                return loss

            assert model(images).shape == (BATCH, CLASSES) and math.isfinite(step().item())
            n, t = time_loop(step, min_time)
            report(f"{name}_TrainStep", params, n, t, BATCH, None)
        if selected(f"{name}_Forward"):
            model.eval()
            with torch.no_grad():
                n, t = time_loop(lambda: model(images), min_time)
            report(f"{name}_Forward", params, n, t, BATCH, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min_time", type=float, default=5.0, help="seconds per case")
    parser.add_argument("--filter", default="", help="regex; only cases whose name it matches "
                        "(re.search), like --benchmark_filter")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    pattern = re.compile(args.filter)

    def selected(case):
        return pattern.search(case) is not None

    run_zoo(selected, args.min_time)
    run_legacy(selected, args.min_time)


if __name__ == "__main__":
    main()
