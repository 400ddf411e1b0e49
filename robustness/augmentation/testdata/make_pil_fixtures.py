"""Writes pil_fixtures.bin: Pillow's result for every RandAugment op of timm 0.3.2 at chosen levels.

Run at build time by Debian's /usr/bin/python3 with python3-pil (BUILD: pil_fixtures). The level ->
argument mapping below is written from the fact sheet (shared/research/timm_recipes.md 1.4), not
taken from timm, so the C++ test checks both the mapping and the op against Pillow itself.

File format (little-endian): b"PILFIX1\\n", then records of
  u32 name length, name (ASCII), u32 channels, u32 height, u32 width, uint8 planar pixels.
Records named "input <image>" hold the inputs; every other name is "key=value ..." pairs:
  op=<timm op name> level=<float> sign=<+1|-1> resample=<bilinear|bicubic> image=<image>
  or kind=<pil function> arg=<float> image=<image> for direct Pillow calls,
  or kind=resized_crop box=<top>,<left>,<height>,<width> size=<height>,<width> resample=<filter>
  image=<image>: img.crop(box).resize(size, resample), torchvision's RandomResizedCrop on PIL.
The input "photo" is the whole photograph as PIL decodes it (Image.open(...).convert("RGB")).
"""
import argparse
import gzip
import struct

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

MAX_LEVEL = 10.0
FILL = {"grey": 128, "grey_rect": 128, "rgb": (124, 116, 104)}  # timm img_mean for ImageNet


def load_inputs(fashion_images, photo):
    with gzip.open(fashion_images, "rb") as f:
        raw = f.read()
    grey = np.frombuffer(raw, dtype=np.uint8, offset=16, count=28 * 28).reshape(28, 28)
    rgb = Image.open(photo).convert("RGB").resize((61, 47), Image.BILINEAR)
    return {
        "photo": Image.open(photo).convert("RGB"),
        "grey": Image.fromarray(grey.copy(), "L"),
        "grey_rect": rgb.convert("L").resize((33, 20), Image.BILINEAR),
        "rgb": rgb,
    }


def solarize_add(img, add, thresh=128):
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    if img.mode == "RGB":
        lut = lut * 3
    return img.point(lut)


def posterize(img, bits):
    return img if bits >= 8 else ImageOps.posterize(img, bits)


RESAMPLE = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def apply_op(img, op, level, sign, resample, fill):
    """timm's op at `level` in [0, 10], `sign` the outcome of its random negation."""
    f = level / MAX_LEVEL
    kw = dict(resample=RESAMPLE[resample], fillcolor=fill)
    enhance = {"Color": ImageEnhance.Color, "Contrast": ImageEnhance.Contrast,
               "Brightness": ImageEnhance.Brightness, "Sharpness": ImageEnhance.Sharpness}
    if op == "AutoContrast":
        return ImageOps.autocontrast(img)
    if op == "Equalize":
        return ImageOps.equalize(img)
    if op == "Invert":
        return ImageOps.invert(img)
    if op == "Rotate":
        return img.rotate(sign * 30.0 * f, **kw)
    if op == "Posterize":
        return posterize(img, int(f * 4))
    if op == "PosterizeIncreasing":
        return posterize(img, 4 - int(f * 4))
    if op == "Solarize":
        return ImageOps.solarize(img, int(f * 256))
    if op == "SolarizeIncreasing":
        return ImageOps.solarize(img, 256 - int(f * 256))
    if op == "SolarizeAdd":
        return solarize_add(img, int(f * 110))
    if op in enhance:
        return enhance[op](img).enhance(f * 1.8 + 0.1)
    if op.endswith("Increasing") and op[: -len("Increasing")] in enhance:
        return enhance[op[: -len("Increasing")]](img).enhance(1.0 + sign * f * 0.9)
    if op == "ShearX":
        return img.transform(img.size, Image.AFFINE, (1, sign * 0.3 * f, 0, 0, 1, 0), **kw)
    if op == "ShearY":
        return img.transform(img.size, Image.AFFINE, (1, 0, 0, sign * 0.3 * f, 1, 0), **kw)
    if op == "TranslateXRel":
        px = sign * 0.45 * f * img.size[0]
        return img.transform(img.size, Image.AFFINE, (1, 0, px, 0, 1, 0), **kw)
    if op == "TranslateYRel":
        px = sign * 0.45 * f * img.size[1]
        return img.transform(img.size, Image.AFFINE, (1, 0, 0, 0, 1, px), **kw)
    raise ValueError(op)


SIGNED = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel", "ColorIncreasing",
          "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing"}
GEOMETRIC = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"}
OPS = ["AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "PosterizeIncreasing",
       "Solarize", "SolarizeIncreasing", "SolarizeAdd", "Color", "ColorIncreasing", "Contrast",
       "ContrastIncreasing", "Brightness", "BrightnessIncreasing", "Sharpness",
       "SharpnessIncreasing", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"]
LEVELS = [0.0, 2.4, 5.0, 7.3, 9.0, 10.0]


def planar(img):
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[None]
    else:
        a = a.transpose(2, 0, 1)
    return np.ascontiguousarray(a)


def record(out, name, img):
    a = planar(img)
    n = name.encode("ascii")
    out.write(struct.pack("<I", len(n)) + n + struct.pack("<III", *a.shape) + a.tobytes())


# (top, left, height, width) crops and output sizes: downscales by 1-3x (wide filter support), an
# upscale, a non-square output, the whole image, and boxes touching every border.
RESIZED_CROPS = {
    "photo": [((0, 0, 600, 512), (224, 224)), ((37, 11, 401, 388), (224, 224)),
              ((250, 300, 350, 212), (224, 224)), ((100, 100, 97, 131), (224, 224)),
              ((5, 9, 480, 503), (224, 160)), ((0, 0, 41, 512), (7, 224)),
              ((599, 511, 1, 1), (3, 3))],
    "grey": [((0, 0, 28, 28), (28, 28)), ((3, 2, 20, 25), (28, 28)), ((0, 0, 28, 28), (11, 13))],
    "rgb": [((1, 2, 40, 55), (32, 32)), ((0, 0, 47, 61), (100, 90))],
}


def write_resized_crops(out, inputs):
    for image_name, crops in RESIZED_CROPS.items():
        img = inputs[image_name]
        for (top, left, height, width), (out_h, out_w) in crops:
            for resample in ("bilinear", "bicubic"):
                res = img.crop((left, top, left + width, top + height)).resize(
                    (out_w, out_h), RESAMPLE[resample])
                record(out, f"kind=resized_crop box={top},{left},{height},{width} "
                            f"size={out_h},{out_w} resample={resample} image={image_name}", res)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fashion_images", required=True)
    p.add_argument("--photo", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    inputs = load_inputs(args.fashion_images, args.photo)
    with open(args.out, "wb") as out:
        out.write(b"PILFIX1\n")
        for image_name, img in inputs.items():
            record(out, "input " + image_name, img)
        write_resized_crops(out, inputs)
        for image_name, img in inputs.items():
            if image_name == "photo":
                continue
            fill = FILL[image_name]
            for op in OPS:
                for level in LEVELS:
                    for sign in ([1, -1] if op in SIGNED else [1]):
                        for resample in (["bilinear", "bicubic"] if op in GEOMETRIC else ["bilinear"]):
                            res = apply_op(img, op, level, sign, resample, fill)
                            record(out, f"op={op} level={level} sign={sign} resample={resample} "
                                        f"image={image_name}", res)
            # Direct calls at the edges: exact right angles, every posterize depth, blend factors 0/1.
            for angle in (90.0, 180.0, 270.0, -45.0, 360.0):
                for resample in ("bilinear", "bicubic"):
                    res = img.rotate(angle, resample=RESAMPLE[resample], fillcolor=fill)
                    record(out, f"kind=rotate arg={angle} resample={resample} image={image_name}", res)
            for bits in range(9):
                record(out, f"kind=posterize arg={bits} resample=bilinear image={image_name}",
                       posterize(img, bits))
            for factor in (0.0, 1.0, 1.9, 0.1):
                record(out, f"kind=sharpness arg={factor} resample=bilinear image={image_name}",
                       ImageEnhance.Sharpness(img).enhance(factor))


if __name__ == "__main__":
    main()
