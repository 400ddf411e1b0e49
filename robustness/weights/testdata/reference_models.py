"""Plain-PyTorch reference models with the parameter names of torchvision and timm 0.3.2.

The C++ zoo (robustness/models) loads state dicts written by these models, and these models load
state dicts exported from C++. timm is not installed here, so the transformer side is written out
in plain PyTorch, matching timm 0.3.2 (the version the paper pins) and facebookresearch/deit:

  * VisionTransformer: timm 0.3.2 vision_transformer.VisionTransformer as registered for DeiT
    (qkv_bias=True, norm_layer=LayerNorm(eps=1e-6)): PatchEmbed conv (kernel = stride = patch),
    flatten(2).transpose(1, 2) to row-major tokens, cls_token prepended, pos_embed added, pre-norm
    blocks x = x + attn(norm1(x)); x = x + mlp(norm2(x)), attention softmax((q k^T) * hd^-0.5) v
    with one qkv Linear laid out (q|k|v, head, head_dim), Mlp fc1 -> exact nn.GELU -> fc2, final
    norm, head on token 0. Dropout and drop path are 0 (the paper turns them off), so they are
    omitted.
  * distilled=True: facebookresearch/deit DistilledVisionTransformer: dist_token after cls_token,
    pos_embed with num_patches + 2 rows, head_dist on token 1, eval output (head + head_dist) / 2.
  * hybrid_backbone: timm 0.3.2 HybridEmbed: backbone feature map [N, C, h, w] -> flatten(2)
    .transpose(1, 2) -> proj = nn.Linear(C, D) (later timm versions use a 1x1 conv; 0.3.2 uses a
    Linear, so the key patch_embed.proj.weight is [D, C]). The paper's Hybrid-DeiT (PAPER.md 3.12)
    uses torchvision's ResNet-18 up to layer3 as the backbone: resnet_trunk(3).

Inputs of every model here are already normalised; the C++ models normalise inside forward().
"""

import collections

import torch
from torch import nn
import torchvision


class Attention(nn.Module):

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):

    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):

    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class HybridEmbed(nn.Module):

    def __init__(self, backbone, img_size, in_chans, embed_dim):
        super().__init__()
        self.backbone = backbone
        with torch.no_grad():
            training = backbone.training
            backbone.eval()
            features = backbone(torch.zeros(1, in_chans, img_size, img_size))
            backbone.train(training)
        self.num_patches = features.shape[-2] * features.shape[-1]
        self.proj = nn.Linear(features.shape[1], embed_dim)

    def forward(self, x):
        return self.proj(self.backbone(x).flatten(2).transpose(1, 2))


def resnet_trunk(num_stages):
    """torchvision ResNet-18 from conv1 to layer<num_stages>, with torchvision's names."""
    resnet = torchvision.models.resnet18()
    names = ['conv1', 'bn1', 'relu', 'maxpool'] + ['layer%d' % (i + 1) for i in range(num_stages)]
    return nn.Sequential(collections.OrderedDict((n, getattr(resnet, n)) for n in names))


class VisionTransformer(nn.Module):

    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=192,
                 depth=12, num_heads=3, mlp_ratio=4.0, distilled=False, hybrid_backbone=None):
        super().__init__()
        if hybrid_backbone is not None:
            self.patch_embed = HybridEmbed(hybrid_backbone, img_size, in_chans, embed_dim)
        else:
            self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.distilled = distilled
        num_tokens = 2 if distilled else 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        if distilled:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.patch_embed.num_patches + num_tokens, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)
        if distilled:
            self.head_dist = nn.Linear(embed_dim, num_classes)
        # timm 0.3.2 init: trunc_normal(0.02) (+-2 absolute cut, i.e. a plain normal at this std).
        for p in [self.cls_token, self.pos_embed] + ([self.dist_token] if distilled else []):
            nn.init.trunc_normal_(p, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        b = x.shape[0]
        x = self.patch_embed(x)
        tokens = [self.cls_token.expand(b, -1, -1)]
        if self.distilled:
            tokens.append(self.dist_token.expand(b, -1, -1))
        x = torch.cat(tokens + [x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        if not self.distilled:
            return self.head(x[:, 0])
        cls_logits, dist_logits = self.head(x[:, 0]), self.head_dist(x[:, 1])
        if self.training:
            return cls_logits, dist_logits
        return (cls_logits + dist_logits) / 2


def build(arch, num_classes=1000, img_size=224, patch_size=16, embed_dim=192, depth=12,
          num_heads=3):
    """The reference model for one fixture architecture name."""
    if arch == 'resnet18':
        return torchvision.models.resnet18(num_classes=num_classes)
    if arch == 'resnet50':
        return torchvision.models.resnet50(num_classes=num_classes)
    if arch in ('deit', 'deit_distilled'):
        return VisionTransformer(img_size, patch_size, 3, num_classes, embed_dim, depth, num_heads,
                                 distilled=arch == 'deit_distilled')
    if arch == 'hybrid_deit':
        return VisionTransformer(img_size, 16, 3, num_classes, embed_dim, depth, num_heads,
                                 hybrid_backbone=resnet_trunk(3))
    raise ValueError('unknown architecture %r' % arch)


def randomize_(model, generator):
    """Makes every parameter and BatchNorm statistic non-trivial (in place, deterministic).

    Freshly initialised models have LayerNorm/BatchNorm weights 1, biases 0 and running statistics
    0/1, under which a swapped norm1/norm2 or running_mean/running_var would go unnoticed. BN
    weights become U(0.5, 1.5), BN biases and running means N(0, 0.1), running variances
    U(0.5, 2), num_batches_tracked a distinct count; every other parameter gets N(0, 0.02) noise.
    """
    with torch.no_grad():
        bn_params = set()
        for i, m in enumerate(model.modules()):
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(c, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(1000 + i)
                bn_params.update([id(m.weight), id(m.bias)])
        for p in model.parameters():
            if id(p) not in bn_params:
                p.add_(torch.randn(p.shape, generator=generator) * 0.02)
