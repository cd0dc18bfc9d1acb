#!/usr/bin/env python3
"""PyTorch training the reference CNN on the Kaggle images, epoch by epoch with wall-clock time, for
the README's "time to 85% validation accuracy" against `nn-train --config configs/cnn.json`. Run by
hand only; the project never needs Python.

    flock /tmp/bench.lock /usr/bin/python3 src/bench/pytorch_train_cnn.py --data DIR [--epochs 15]
        [--threads N] [--lr 0.001] [--shift 4] [--seed 1] [--stop-at 0.85]

The recipe of issue 14's PyTorch anchor: input 64x64x3; 4 blocks of [conv 3x3 same, no bias ->
batch norm -> ReLU -> max pool 2x2] with 32, 64, 128, 256 filters; flatten; dense 256 -> ReLU ->
dropout 0.5 -> dense 1; BCE with logits; Adam with a one-cycle schedule (OneCycleLR, max_lr --lr)
over --epochs; batch 64; horizontal flips and random shifts of up to --shift pixels (the image is
decoded at 64 + 2 shift and a 64x64 window cropped at random; validation takes the centre);
inputs standardised per channel with the training split's mean and std. --stop-at ends the run
after the first epoch that reaches that validation accuracy (the schedule stays that of --epochs). The labelled images of
DIR (cat.N / dog.N names) are split 80/20 at random (seeded), like nn-train's validation: 0.2.

Decoding (Pillow, draft() then BILINEAR, one process) happens first and is timed apart; the
clock starts at the first batch and counts each epoch's training and validation, as nn-train's
epoch lines do. Each epoch line (stderr) gives the validation loss and accuracy and the seconds so
far; the last line on stdout is one JSON object:
    {"threads":N,"decodeSeconds":S,"epochs":[{"epoch","trainLoss","valLoss","valAccuracy","seconds"}],
     "secondsTo85":S or null}
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image

SIZE = 64


def say(line):
    print(line, file=sys.stderr, flush=True)


def load(folder, size):
    names = sorted(n for n in os.listdir(folder) if n.lower().split('.')[0] in ('cat', 'dog'))
    pixels = np.zeros((len(names), size, size, 3), dtype=np.uint8)
    labels = np.zeros(len(names), dtype=np.float32)
    for i, name in enumerate(names):
        with Image.open(os.path.join(folder, name)) as img:
            img.draft('RGB', (size, size))
            pixels[i] = np.asarray(img.convert('RGB').resize((size, size), Image.BILINEAR))
        labels[i] = 1.0 if name.lower().startswith('dog') else 0.0
    return pixels, labels


def network():
    layers, channels = [], 3
    for filters in (32, 64, 128, 256):
        layers += [
            torch.nn.Conv2d(channels, filters, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(filters),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        ]
        channels = filters
    layers += [torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 256, 256), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(256, 1)]
    return torch.nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True)
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--shift', type=int, default=4)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--stop-at', type=float, default=None, help='stop after the first epoch with this validation accuracy')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    t0 = time.perf_counter()
    decoded = SIZE + 2 * args.shift
    pixels, labels = load(args.data, decoded)
    decode_seconds = time.perf_counter() - t0
    say(f'decoded {len(labels)} images to {decoded}x{decoded} in {decode_seconds:.1f} s')

    order = list(range(len(labels)))
    rng.shuffle(order)
    n_val = round(0.2 * len(order))
    val_idx, train_idx = np.array(order[:n_val]), np.array(order[n_val:])
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255)  # N, C, H, W
    y = torch.from_numpy(labels)
    mean = x[train_idx].mean(dim=(0, 2, 3), keepdim=True)
    std = x[train_idx].std(dim=(0, 2, 3), keepdim=True)
    x = (x - mean) / std
    s = args.shift
    x_val = x[val_idx][:, :, s:s + SIZE, s:s + SIZE].contiguous()
    y_val = y[val_idx]

    net = network()
    batch = 64
    steps_per_epoch = math.ceil(len(train_idx) / batch)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(args.seed)
    epochs, seconds, to85 = [], 0.0, None
    for epoch in range(1, args.epochs + 1):
        net.train()
        t_epoch = time.perf_counter()
        perm = torch.from_numpy(train_idx)[torch.randperm(len(train_idx), generator=gen)]
        total, count = 0.0, 0
        for b in range(steps_per_epoch):
            idx = perm[b * batch:(b + 1) * batch]
            n = len(idx)
            offsets = torch.randint(0, 2 * s + 1, (n, 2), generator=gen).tolist()
            xb = torch.stack([x[i, :, dy:dy + SIZE, dx:dx + SIZE] for i, (dy, dx) in zip(idx.tolist(), offsets)])
            flip = torch.rand(n, generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            opt.zero_grad()
            loss = loss_fn(net(xb).squeeze(1), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * n
            count += n
        net.eval()
        with torch.no_grad():
            logits = torch.cat([net(x_val[i:i + 256]).squeeze(1) for i in range(0, len(y_val), 256)])
            val_loss = loss_fn(logits, y_val).item()
            val_acc = ((logits > 0).float() == y_val).float().mean().item()
        seconds += time.perf_counter() - t_epoch  # as nn-train counts an epoch: its training and its validation
        epochs.append({'epoch': epoch, 'trainLoss': total / count, 'valLoss': val_loss, 'valAccuracy': val_acc, 'seconds': seconds})
        if to85 is None and val_acc >= 0.85:
            to85 = seconds
        say(f'epoch {epoch}/{args.epochs}: train loss {total / count:.4f}, val loss {val_loss:.4f}, val acc {100 * val_acc:.1f}%, {seconds:.1f} s so far')
        if args.stop_at is not None and val_acc >= args.stop_at:
            break
    print(json.dumps({'threads': args.threads, 'decodeSeconds': decode_seconds, 'epochs': epochs, 'secondsTo85': to85}))


if __name__ == '__main__':
    main()
