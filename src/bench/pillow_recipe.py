#!/usr/bin/env python3
"""The Python recipe of src/export/README.md: an image decoded with Pillow as nn-train decodes it for
a model with `resize: linear` (the default), ready for the model's ONNX file. Run by hand, and by
`npm run bench:onnx-python` (src/bench/onnx-python.ts), which checks the answers against nn-eval's.
The project never needs Python.

    python3 src/bench/pillow_recipe.py --width 72 --height 72 [--channels 3] [--fit fill] \\
        --list PATHS.txt --out PIXELS.u8 [--recipe nn-train|naive]

writes the images listed in PATHS.txt (one path per line), each height x width x channels bytes
(rows, columns, channels), one after the other, into PIXELS.u8: the ONNX input `image` of N images.
An image Pillow cannot read stops the script (exit 1, its path on stderr).

nn-train's decoding (src/data/decode.ts, src/data/resize.ts) and the Pillow call for each step:
 1. a JPEG at least twice as large as needed is decoded by libjpeg at 1/2, 1/4 or 1/8 scale, the
    largest that keeps both stored sides at least max(width, height): img.draft('RGB', (m, m)) with
    m = max(width, height) picks the same factor (Pillow's rule: min(W // m, H // m) >= factor);
 2. turned upright by its EXIF orientation: ImageOps.exif_transpose;
 3. an embedded colour profile converted to sRGB (perceptual intent): ImageCms;
 4. transparency composited on white, then RGB (or grey): Image.alpha_composite, convert;
 5. an image other than a JPEG more than twice as large as needed is first brought to twice the
    size by libvips, whose reduction Pillow's BILINEAR only approaches (answers within about 0.01);
 6. the antialiased bilinear filter over the fit's window: Image.resize(size, Image.BILINEAR,
    box=window, reducing_gap=None), a triangle widened by the reduction factor as in resize.ts, on
    each channel in floats (mode 'F') and rounded once, as resize.ts does (an 8-bit resize rounds
    after each pass). A few bytes still differ by 1: float rounding at a half.
--recipe naive is the two-line version people write (Image.resize((w, h)): bicubic on the whole
image, no DCT scaling), for comparison.
"""
import argparse
import io
import sys

import numpy as np
from PIL import Image, ImageCms, ImageOps


def fit_window(sw, sh, width, height, fit):
    """The source box and the output rectangle of `fit` (resize.ts's fitImage): (box, left, top, w, h)."""
    if fit == 'fill':
        return (0, 0, sw, sh), 0, 0, width, height
    if fit == 'cover':  # the largest centred window with the output's aspect ratio
        if sw * height > sh * width:
            w = sh * width / height
            return ((sw - w) / 2, 0, (sw + w) / 2, sh), 0, 0, width, height
        h = sw * height / width
        return (0, (sh - h) / 2, sw, (sh + h) / 2), 0, 0, width, height
    # contain: the whole image, scaled by the smaller ratio, centred in black bars
    scale = min(width / sw, height / sh)
    w = min(width, max(1, round(sw * scale)))
    h = min(height, max(1, round(sh * scale)))
    return (0, 0, sw, sh), (width - w) >> 1, (height - h) >> 1, w, h


def decode_like_nn_train(path, width, height, channels=3, fit='fill'):
    """The image at `path` as nn-train decodes it (resize 'linear'): uint8 (height, width, channels)."""
    img = Image.open(path)
    jpeg = img.format == 'JPEG'
    m = max(width, height)
    room = min(img.size) // m
    s = 8 if room >= 8 else 4 if room >= 4 else 2 if room >= 2 else 1
    if jpeg and s > 1:
        w0, h0 = img.size
        img.draft('RGB', (w0 // s, h0 // s))  # libjpeg decodes at 1/s: ceil(w0 / s) x ceil(h0 / s)
        img = img.crop((0, 0, w0 // s, h0 // s))  # libvips keeps floor(w0 / s) x floor(h0 / s)
    img = ImageOps.exif_transpose(img)
    icc = img.info.get('icc_profile')
    if icc and img.mode in ('RGB', 'RGBA', 'CMYK'):
        srgb = ImageCms.createProfile('sRGB')
        mode = 'RGBA' if img.mode == 'RGBA' else 'RGB'
        img = ImageCms.profileToProfile(img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb,
                                        renderingIntent=0, outputMode=mode)  # 0: perceptual
    if img.mode in ('RGBA', 'LA', 'PA') or 'transparency' in img.info:
        img = Image.alpha_composite(Image.new('RGBA', img.size, 'white'), img.convert('RGBA'))
    img = img.convert('RGB' if channels == 3 else 'L')
    if not jpeg and min(img.size) > 2 * m:  # libvips first brings it to twice the size needed
        k = min(img.size) / (2 * m)
        img = img.resize((round(img.width / k), round(img.height / k)), Image.BILINEAR, reducing_gap=None)
    box, left, top, w, h = fit_window(img.width, img.height, width, height, fit)
    # Each channel resized in floats (mode 'F'), rounded once at the end, as resize.ts does: an 8-bit
    # image would be rounded after each pass, and a pixel in six would end one level off.
    bands = [np.asarray(band.convert('F').resize((w, h), Image.BILINEAR, box=box, reducing_gap=None)) for band in img.split()]
    out = np.zeros((height, width, channels), dtype=np.uint8)  # contain: black bars around the picture
    out[top:top + h, left:left + w] = np.clip(np.floor(np.stack(bands, axis=-1) + 0.5), 0, 255)
    return out


def decode_naive(path, width, height, channels=3, fit='fill'):
    """What most Python code does: bicubic resize of the whole decoded image (fit 'fill' only)."""
    img = ImageOps.exif_transpose(Image.open(path)).convert('RGB' if channels == 3 else 'L')
    return np.asarray(img.resize((width, height)), dtype=np.uint8).reshape(height, width, channels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--width', type=int, required=True, help='the ONNX metadata\'s width (the decoded size)')
    parser.add_argument('--height', type=int, required=True)
    parser.add_argument('--channels', type=int, choices=(1, 3), default=3)
    parser.add_argument('--fit', choices=('fill', 'cover', 'contain'), default='fill')
    parser.add_argument('--list', required=True, help='file with one image path per line')
    parser.add_argument('--out', required=True, help='file for the pixels (N x height x width x channels bytes)')
    parser.add_argument('--recipe', choices=('nn-train', 'naive'), default='nn-train')
    args = parser.parse_args()
    decode = decode_like_nn_train if args.recipe == 'nn-train' else decode_naive
    with open(args.list, encoding='utf-8') as f:
        paths = [line.rstrip('\n') for line in f if line.strip()]
    with open(args.out, 'wb') as out:
        for path in paths:
            try:
                out.write(decode(path, args.width, args.height, args.channels, args.fit).tobytes())
            except (OSError, ValueError) as err:
                print(f'pillow_recipe: {path}: {err}', file=sys.stderr)
                sys.exit(1)
    import PIL
    print(f'pillow_recipe: {len(paths)} images -> {args.width}x{args.height}x{args.channels} ({args.fit}, recipe {args.recipe}), Pillow {PIL.__version__}', file=sys.stderr)


if __name__ == '__main__':
    main()
