#!/usr/bin/env python3
"""PyTorch's figures for the same measurements as `npm run bench` (src/bench/core.ts), for the
README's side-by-side comparison. Run by hand only; the project never needs Python.

    flock /tmp/bench.lock /usr/bin/python3 src/bench/pytorch_reference.py [--threads N] [--blas-threads M] [--runs R]

Needs Debian's python3-torch and, for a fair comparison, an optimized BLAS (libopenblas0-pthread:
Debian's torch calls the system libblas.so.3, which is the slow reference BLAS otherwise).
Threads: PyTorch's own (intra-op, OpenMP) and OpenBLAS's pool are separate; torch.set_num_threads
does not limit OpenBLAS. The products are measured with both at 1, then both at the CPU count.
Training and inference run with --threads (default: PyTorch's default) and --blas-threads
(default: OpenBLAS's default, the CPU count): the defaults are PyTorch as installed.
Same shapes and method as the TypeScript benchmark: first-layer products (B=64, D=12288, H=256,
dense dZ) on 1 and N threads; training images/s of 12288-256-64-1 (ReLU, BCE with logits, batch 64)
per optimizer, each step copying a batch into the input buffer, random pixels in [0, 1); inference
images/s. Medians of R runs. Human-readable lines on stderr, one JSON object on stdout.
"""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import torch

B, D, H = 64, 64 * 64 * 3, 256
FLOP = 2 * B * D * H
BATCHES = 8


def say(line):
    print(line, file=sys.stderr, flush=True)


def time_ms(f, runs, warm=3):
    for _ in range(warm):
        f()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def set_blas_threads(n):
    """Sets OpenBLAS's thread count through its C API; False if the BLAS is not OpenBLAS."""
    try:
        ctypes.CDLL(blas_name()).openblas_set_num_threads(n)
        return True
    except (OSError, AttributeError):
        return False


def products(threads, runs):
    torch.set_num_threads(threads)
    set_blas_threads(threads)
    g = torch.Generator().manual_seed(3)
    x = torch.rand(B, D, generator=g)
    w = torch.randn(H, D, generator=g) * (6 / D) ** 0.5
    b = torch.zeros(H)
    dz = (torch.rand(B, H, generator=g) - 0.5) * 2e-3
    dw = torch.empty(H, D)
    dx = torch.empty(B, D)
    z = torch.empty(B, H)
    gflops = lambda ms: FLOP / ms / 1e6
    fwd = time_ms(lambda: torch.addmm(b, x, w.t(), out=z), runs)
    wgrad = time_ms(lambda: (torch.mm(dz.t(), x, out=dw), dz.sum(0)), runs)
    igrad = time_ms(lambda: torch.mm(dz, w, out=dx), runs)
    step = time_ms(lambda: (torch.addmm(b, x, w.t(), out=z), torch.mm(dz.t(), x, out=dw), dz.sum(0)), runs)
    return {'forward': gflops(fwd), 'weightGradient': gflops(wgrad), 'inputGradient': gflops(igrad), 'stepMs': step}


def model():
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(D, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 1),
    )


# The learning rates of src/bench/core.ts (there chosen so that the ReLU units stay alive).
OPTIMIZERS = [
    ('sgd', lambda p: torch.optim.SGD(p, lr=1e-3)),
    ('momentum', lambda p: torch.optim.SGD(p, lr=1e-4, momentum=0.9)),
    ('nesterov', lambda p: torch.optim.SGD(p, lr=1e-4, momentum=0.9, nesterov=True)),
    ('rmsprop', lambda p: torch.optim.RMSprop(p, lr=1e-4, alpha=0.9, eps=1e-8)),
    ('adam', lambda p: torch.optim.Adam(p, lr=1e-4, betas=(0.9, 0.999), eps=1e-8)),
]


def training(make_optimizer, inputs, labels, runs, steps):
    net = model()
    opt = make_optimizer(net.parameters())
    loss_fn = torch.nn.BCEWithLogitsLoss()
    x = torch.empty(B, D)
    y = torch.empty(B)
    k = 0

    def step():
        nonlocal k
        x.copy_(inputs[k])
        y.copy_(labels[k])
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x).squeeze(1), y)
        loss.backward()
        opt.step()
        k = (k + 1) % BATCHES

    for _ in range(5):
        step()
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * B / (time.perf_counter() - t0))
    return statistics.median(rates)


def inference(inputs, runs, steps):
    net = model()
    x = torch.empty(B, D)
    rates = []
    with torch.no_grad():
        for r in range(runs + 1):
            t0 = time.perf_counter()
            for i in range(steps):
                x.copy_(inputs[i % BATCHES])
                torch.sigmoid(net(x))
            if r > 0:
                rates.append(steps * B / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--blas-threads', type=int, default=os.cpu_count())
    parser.add_argument('--runs', type=int, default=7)
    args = parser.parse_args()
    cpus = os.cpu_count()
    say(f'PyTorch {torch.__version__} reference, BLAS: {blas_name()}, Python {sys.version.split()[0]}, {cpus} CPUs')
    one = products(1, args.runs + 2)
    all_ = products(cpus, args.runs + 2)
    say(f'first layer, B={B}, D={D}, H={H}: {FLOP / 1e6:.1f} MFLOP per product, dense dZ, median of {args.runs + 2} calls')
    for key, name in [('forward', 'forward'), ('weightGradient', 'weight gradient'), ('inputGradient', 'input gradient')]:
        say(f'  {name:16} 1 thread {one[key]:6.1f} GFLOP/s   {cpus} threads {all_[key]:6.1f} GFLOP/s')
    say(f'  first-layer step (forward, weight and bias gradients): {one["stepMs"]:.2f} ms on 1 thread, {all_["stepMs"]:.2f} ms on {cpus} threads')

    torch.set_num_threads(args.threads)
    blas = set_blas_threads(args.blas_threads)
    say(f'training and inference with {args.threads} PyTorch thread(s) and {args.blas_threads if blas else "default"} OpenBLAS thread(s)')
    g = torch.Generator().manual_seed(7)
    inputs = [torch.rand(B, D, generator=g) for _ in range(BATCHES)]
    labels = [(torch.rand(B, generator=g) < 0.5).float() for _ in range(BATCHES)]
    say(f'training {D}-256-64-1 (ReLU, BCE), batch {B}, random pixels in memory, median of {args.runs} runs of 20 steps')
    train = {}
    for name, make in OPTIMIZERS:
        train[name] = training(make, inputs, labels, args.runs, 20)
        say(f'  {name:10} {train[name]:6.0f} images/s   {B * 1000 / train[name]:7.2f} ms per batch')
    infer = inference(inputs, args.runs, 40)
    say(f'inference (forward and sigmoid), batch {B}: {infer:.0f} images/s')
    r = lambda v: round(v, 1)
    print(json.dumps({
        'workers': cpus,
        'torchThreads': args.threads,
        'blasThreads': args.blas_threads if blas else None,
        'kernel': 'pytorch',
        'gflops': {k: r(all_[k]) for k in ('forward', 'weightGradient', 'inputGradient')},
        'gflopsOneThread': {k: r(one[k]) for k in ('forward', 'weightGradient', 'inputGradient')},
        'firstLayerStepMs': r(all_['stepMs']),
        'trainImagesPerSecond': {k: round(v) for k, v in train.items()},
        'inferenceImagesPerSecond': round(infer),
    }))


def blas_name():
    try:
        return os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3')
    except OSError:
        return 'unknown'


if __name__ == '__main__':
    main()
