"""Writes the weight-interop test fixtures with Python's torch.save (run by Bazel genrules).

  make_fixtures.py --set=NAME --out_dir=DIR

Every set is seeded and deterministic (torch.save's zip entries carry no timestamps), so the
genrule outputs are reproducible and cacheable. Sets and their files:

  resnet18, resnet50 (torchvision, 1000 classes), deit_tiny (timm 0.3.2 layout, DeiT-Ti),
  deit_tiny_distilled (facebookresearch/deit DistilledVisionTransformer, DeiT-Ti),
  hybrid_deit_mini (PAPER.md 3.12: ResNet-18 to layer3 + DeiT-Mini, dim 256, depth 12, 4 heads):
    NAME.pth     the randomised model's state dict (reference_models.randomize_), as released:
                 resnet18/resnet50/deit_tiny a bare state dict (torchvision / timm hub files);
                 deit_tiny_distilled {"model": sd} (the DeiT release files); hybrid_deit_mini the
                 full checkpoint that DeiT's main.py (and the paper's code built on it) writes:
                 model, optimizer, lr_scheduler, epoch, args (an argparse.Namespace).
    NAME_io.pth  {"input": float32 [2, 3, 224, 224] in [0, 1], "logits": float32 [2, 1000]}: the
                 eval-mode logits of the reference model on (input - mean) / std with the ImageNet
                 statistics. The C++ models normalise inside forward() with the same statistics,
                 so they take `input` itself; the normalisation buffers are not in NAME.pth (as in
                 every torchvision / timm file).

  interop: small files for the reader's tests (robustness/weights/state_dict_io_test.cc); see
    write_interop() for each file.
"""

import argparse
import collections
import copy
import os
import pickle

import torch
from torch import nn

import reference_models

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

MODEL_SETS = {
    # name: (seed, reference_models.build kwargs)
    'resnet18': (18, dict(arch='resnet18')),
    'resnet50': (50, dict(arch='resnet50')),
    'deit_tiny': (192, dict(arch='deit', embed_dim=192, depth=12, num_heads=3)),
    'deit_tiny_distilled': (193, dict(arch='deit_distilled', embed_dim=192, depth=12,
                                      num_heads=3)),
    'hybrid_deit_mini': (256, dict(arch='hybrid_deit', embed_dim=256, depth=12, num_heads=4)),
}


def write_model_set(name, out_dir):
    seed, kwargs = MODEL_SETS[name]
    torch.manual_seed(seed)  # initialisation draws from the default generator
    generator = torch.Generator().manual_seed(seed)
    model = reference_models.build(**kwargs)
    reference_models.randomize_(model, generator)
    model.eval()
    images = torch.rand(2, 3, 224, 224, generator=generator)
    with torch.no_grad():
        logits = model((images - IMAGENET_MEAN) / IMAGENET_STD)
    state_dict = model.state_dict()
    if name == 'deit_tiny_distilled':
        payload = {'model': state_dict}
    elif name == 'hybrid_deit_mini':
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05)
        payload = {
            'model': state_dict,
            'optimizer': optimizer.state_dict(),
            'lr_scheduler': {'t_initial': 300, 'lr_min': 1e-5, 'warmup_t': 5},
            'epoch': 299,
            'args': argparse.Namespace(model='hybrid_deit_mini', lr=5e-4, epochs=300),
        }
    else:
        payload = state_dict
    torch.save(payload, os.path.join(out_dir, name + '.pth'))
    torch.save({'input': images, 'logits': logits}, os.path.join(out_dir, name + '_io.pth'))


class TinyNet(nn.Module):
    """conv -> bn -> fc: every kind of entry a torchvision state dict has, in 9 small tensors."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


def write_interop(out_dir):
    torch.manual_seed(7)
    model = TinyNet()
    reference_models.randomize_(model, torch.Generator().manual_seed(7))
    sd = copy.deepcopy(model.state_dict())  # a snapshot: the optimizer step below moves weights
    ema = collections.OrderedDict((k, v * 2 if v.is_floating_point() else v) for k, v in sd.items())

    def save(obj, name, **kwargs):
        torch.save(obj, os.path.join(out_dir, name), **kwargs)

    # The plain state dict (an OrderedDict with _metadata, as model.state_dict() returns).
    save(sd, 'tiny_plain.pth')
    # The same under pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE opcodes).
    save(sd, 'tiny_protocol4.pth', pickle_protocol=4)
    # DistributedDataParallel's "module." prefix.
    save(collections.OrderedDict(('module.' + k, v) for k, v in sd.items()), 'tiny_ddp.pth')
    # What DeiT's main.py writes (and the paper's code, built on it): model + training state.
    model(torch.rand(2, 3, 8, 8)).sum().backward()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05)
    optimizer.step()
    save({'model': sd, 'optimizer': optimizer.state_dict(),
          'lr_scheduler': {'t_initial': 300, 'lr_min': 1e-5, 'cycle_mul': 1.0},
          'epoch': 7, 'model_ema': ema,
          'scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                     'growth_interval': 2000, '_growth_tracker': 0},
          'args': argparse.Namespace(model='deit_tiny_patch16_224', lr=5e-4, seed=0,
                                     smoothing=0.1, data_set='IMNET')},
         'tiny_deit_checkpoint.pth')
    # What timm's train.py writes.
    save({'epoch': 3, 'arch': 'tiny', 'state_dict': sd, 'optimizer': optimizer.state_dict(),
          'version': 2, 'args': argparse.Namespace(model='tiny'), 'metric': 12.5,
          'state_dict_ema': ema}, 'tiny_timm_checkpoint.pth')
    # Pre-1.6 (non-zip) serialisation.
    save(sd, 'tiny_legacy.pth', _use_new_zipfile_serialization=False)
    # Not a dict of tensors.
    save(list(sd.values()), 'tiny_list.pth')
    save({'weight': sd['fc.weight'], 'config': {'depth': 3}}, 'tiny_mixed.pth')
    # A plain pickle (not a torch.save archive). TorchScript / LibTorch archives are tested from
    # C++ (torch.jit.save output embeds source paths, so it would not be reproducible).
    with open(os.path.join(out_dir, 'tiny_plain_pickle.pkl'), 'wb') as f:
        pickle.dump({'fc.weight': [[1.0, 2.0]]}, f, protocol=2)
    # Every dtype and layout a state dict can carry; the values are arange-based so the C++ test
    # can spell them out.
    big = torch.arange(10, dtype=torch.float32)
    save(collections.OrderedDict([
        ('f32', torch.arange(6, dtype=torch.float32).view(2, 3)),
        ('f64', torch.arange(6, dtype=torch.float64).view(2, 3)),
        ('f16', torch.arange(6, dtype=torch.float16).view(2, 3)),
        ('bf16', torch.arange(6, dtype=torch.bfloat16).view(2, 3)),
        ('i64', torch.arange(6, dtype=torch.int64).view(2, 3) - 3),
        ('i32', torch.arange(6, dtype=torch.int32).view(2, 3) - 3),
        ('i16', torch.arange(6, dtype=torch.int16).view(2, 3) - 3),
        ('i8', torch.arange(6, dtype=torch.int8).view(2, 3) - 3),
        ('u8', torch.arange(6, dtype=torch.uint8).view(2, 3)),
        ('bool', torch.arange(6).view(2, 3) % 2 == 1),
        ('transposed', torch.arange(6, dtype=torch.float32).view(2, 3).t()),
        ('big', big),
        ('view_at_offset', big[2:5]),
        ('scalar', torch.tensor(7, dtype=torch.int64)),
        ('empty', torch.zeros(0, 3)),
        ('parameter', nn.Parameter(torch.arange(3, dtype=torch.float32))),
    ]), 'tensor_kinds.pth')
    save({'q': torch.quantize_per_tensor(torch.arange(4.0), 0.5, 0, torch.quint8)},
         'tiny_quantized.pth')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--set', required=True, choices=sorted(MODEL_SETS) + ['interop'])
    parser.add_argument('--out_dir', required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the same reductions on every machine
    os.makedirs(args.out_dir, exist_ok=True)
    if args.set == 'interop':
        write_interop(args.out_dir)
    else:
        write_model_set(args.set, args.out_dir)


if __name__ == '__main__':
    main()
