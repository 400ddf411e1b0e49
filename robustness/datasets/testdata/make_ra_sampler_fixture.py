"""Writes DeiT's RASampler order for a few (n, epoch, replicas, rank), with Debian's python3-torch.

The sampler is written here from the fact sheet (shared/research/timm_recipes.md section 4); what
the C++ test checks against it is PyTorch's own randperm stream and the sampler's length rule.
Output: one line per case, "n epoch repeats multiple replicas rank: i0 i1 ...".
"""
import math
import sys

import torch


def deit_order(n, epoch, repeats, multiple, replicas, rank):
    num_samples = int(math.ceil(n * repeats / replicas))
    total = num_samples * replicas
    num_selected = int(math.floor(n // multiple * multiple / replicas))
    g = torch.Generator()
    g.manual_seed(epoch)
    indices = torch.randperm(n, generator=g).tolist()
    indices = [i for i in indices for _ in range(repeats)]
    indices += indices[: total - len(indices)]
    return indices[rank:total:replicas][:num_selected]


with open(sys.argv[1], "w") as out:
    for case in [(1000, 0, 3, 256, 1, 0), (1000, 3, 3, 256, 2, 1), (700, 5, 3, 16, 3, 2),
                 (50, 1, 2, 1, 4, 3)]:
        order = deit_order(*case)
        out.write(" ".join(map(str, case)) + ": " + " ".join(map(str, order)) + "\n")
