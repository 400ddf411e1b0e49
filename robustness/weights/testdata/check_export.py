"""Loads a state dict exported from C++ into the Python reference model and compares logits.

  check_export.py --arch=resnet18|resnet50|deit|deit_distilled|hybrid_deit --weights=W --io=IO
                  [--num_classes=N --img_size=S --patch_size=P --embed_dim=D --depth=L
                   --num_heads=H]

W is the exported file (robustness/weights/module_state_dict.h ExportWeightsFile); IO a file with
"input" (float32 [N, 3, S, S] in [0, 1]), "logits" (the C++ model's eval-mode output), "mean" and
"std" (the C++ model's normalisation buffers, [1, 3, 1, 1]). The model is built with
reference_models.build (torchvision for ResNets), loaded with load_state_dict(strict=True), run
in eval mode on (input - mean) / std, and compared: exit status 0 iff
max |python - C++| / max |C++| <= --tolerance. Any failure (unreadable file, missing or unexpected
keys, wrong dtypes, different numbers) exits non-zero with the reason on stderr.
"""

import argparse
import sys

import torch

import reference_models


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', required=True)
    parser.add_argument('--weights', required=True)
    parser.add_argument('--io', required=True)
    parser.add_argument('--num_classes', type=int, default=1000)
    parser.add_argument('--img_size', type=int, default=224)
    parser.add_argument('--patch_size', type=int, default=16)
    parser.add_argument('--embed_dim', type=int, default=192)
    parser.add_argument('--depth', type=int, default=12)
    parser.add_argument('--num_heads', type=int, default=3)
    parser.add_argument('--tolerance', type=float, default=1e-5)
    args = parser.parse_args()
    torch.set_num_threads(1)

    state_dict = torch.load(args.weights)
    for name, tensor in state_dict.items():
        if name.endswith('num_batches_tracked') and tensor.dtype != torch.int64:
            sys.exit('%s is %s, torchvision keeps it int64' % (name, tensor.dtype))
    model = reference_models.build(args.arch, num_classes=args.num_classes,
                                   img_size=args.img_size, patch_size=args.patch_size,
                                   embed_dim=args.embed_dim, depth=args.depth,
                                   num_heads=args.num_heads)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    io = torch.load(args.io)
    with torch.no_grad():
        logits = model((io['input'] - io['mean']) / io['std'])
    reference = io['logits']
    if logits.shape != reference.shape:
        sys.exit('logits shape %s, C++ %s' % (tuple(logits.shape), tuple(reference.shape)))
    relative = ((logits - reference).abs().max() / reference.abs().max()).item()
    print('%s: %d tensors loaded strictly; max |python - C++| / max |C++| = %.3g'
          % (args.arch, len(state_dict), relative))
    if not relative <= args.tolerance:
        sys.exit('logits differ: relative difference %.3g > %.3g' % (relative, args.tolerance))


if __name__ == '__main__':
    main()
