#!/usr/bin/env python3
"""Pillow's rate for the first pass over a folder of photos, side by side with nn-train's decoder
(`npm run bench:data -- --pillow` runs this script between nn-train's rounds). Run by hand only;
the project never needs Python.

    flock /tmp/bench.lock /usr/bin/python3 src/bench/pillow_reference.py --data DIR [--runs R]
        [--width 64 --height 64] [--mode plain|draft|both] [--list FILE]

What a Python user's loader does, in one process, one image after the other:
    plain:  Image.open(path).convert('RGB').resize((W, H), Image.BILINEAR)
    draft:  the same with img.draft('RGB', (W, H)) first: for a JPEG, libjpeg decodes at 1/2, 1/4
            or 1/8 scale (the largest reduction that keeps the image at least W x H), as sharp's
            shrink-on-load does
and the pixels are copied into one preallocated (N, H, W, 3) byte array, as nn-train's cache holds
them. The images are those of DIR (recursively: .jpg .jpeg .png .webp, no dot files, sorted), or the
paths listed one per line in FILE (the bench passes the exact images nn-train decoded).

Timing: wall time from the first open to the last copy, per run; images/s is the median of R runs.
Human-readable lines on stderr; last line on stdout, one JSON object:
    {"images":N,"plain":{"imagesPerSecond":X,"cpuMsPerImage":Y},"draft":{...}}
"""
import argparse
import json
import os
import statistics
import sys
import time

from PIL import Image

EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp')


def say(line):
    print(line, file=sys.stderr, flush=True)


def list_images(folder):
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if not name.startswith('.') and name.lower().endswith(EXTENSIONS):
                paths.append(os.path.join(root, name))
    return paths


def one_pass(paths, width, height, draft):
    size = width * height * 3
    out = bytearray(len(paths) * size)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i, path in enumerate(paths):
        with Image.open(path) as img:
            if draft:
                img.draft('RGB', (width, height))
            small = img.convert('RGB').resize((width, height), Image.BILINEAR)
            out[i * size:(i + 1) * size] = small.tobytes()
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return seconds, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', help='folder of images')
    parser.add_argument('--list', help='file with one image path per line (instead of --data)')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--width', type=int, default=64)
    parser.add_argument('--height', type=int, default=64)
    parser.add_argument('--mode', choices=('plain', 'draft', 'both'), default='both')
    args = parser.parse_args()
    if (args.data is None) == (args.list is None):
        parser.error('give --data DIR or --list FILE')
    if args.list is not None:
        with open(args.list, encoding='utf-8') as f:
            paths = [line.rstrip('\n') for line in f if line.strip()]
    else:
        paths = list_images(args.data)
    if not paths:
        parser.error('no images')
    modes = ('plain', 'draft') if args.mode == 'both' else (args.mode,)
    result = {'images': len(paths)}
    rates = {m: [] for m in modes}
    cpus = {m: [] for m in modes}
    for r in range(args.runs):
        for m in modes:  # interleaved, so that both see the same machine
            seconds, cpu = one_pass(paths, args.width, args.height, m == 'draft')
            rates[m].append(len(paths) / seconds)
            cpus[m].append(1000 * cpu / len(paths))
            say(f'run {r + 1}/{args.runs} pillow {m}: {len(paths) / seconds:.0f} images/s, {1000 * cpu / len(paths):.2f} CPU ms/image')
    import PIL
    say(f'{len(paths)} images -> {args.width}x{args.height}x3, Pillow {PIL.__version__}, one process, medians of {args.runs} runs:')
    for m in modes:
        rate = statistics.median(rates[m])
        cpu = statistics.median(cpus[m])
        say(f'  pillow {m:5s} {rate:8.0f} images/s  {cpu:.2f} CPU ms/image')
        result[m] = {'imagesPerSecond': round(rate), 'cpuMsPerImage': round(cpu, 3)}
    print(json.dumps(result, separators=(',', ':')))


if __name__ == '__main__':
    main()
