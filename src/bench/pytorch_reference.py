#!/usr/bin/env python3
"""PyTorch's figures for the same measurements as `npm run bench` (src/bench/core.ts), for the
side-by-side comparison in src/bench/README.md. Run by hand only; the project never needs Python.

    ../shared/tools/modern-pytorch.sh run python3 src/bench/pytorch_reference.py [--threads N] [--blas-threads M] [--runs R]
    ../shared/tools/modern-pytorch.sh run python3 src/bench/pytorch_reference.py --model cnn [--threads N] [--runs R]
        [--memory-format channels_last|contiguous] [--skip-layers]
(each under `flock /tmp/bench.lock`). The script runs under any PyTorch 2.x; the figures of
src/bench/README.md are Debian 13's python3-torch 2.6 (oneDNN 3.7) with tcmalloc preloaded, which
`modern-pytorch.sh run` does. The first line of the output names the PyTorch, the allocator, the
memory format and the thread counts of the run. Without tcmalloc (or jemalloc) PyTorch's glibc malloc
hands every activation back to the system after each step and takes it again with page faults,
which on a virtual machine costs more than the arithmetic: the script says so when it sees no such
allocator in the process.

Threads: PyTorch's own (intra-op, OpenMP) and OpenBLAS's pool are separate; torch.set_num_threads
does not limit OpenBLAS. The products are measured with both at 1, then both at the CPU count.
Training and inference run with --threads (default: PyTorch's default) and --blas-threads
(default: OpenBLAS's default, the CPU count): the defaults are PyTorch as installed.
Same shapes and method as the TypeScript benchmark: first-layer products (B=64, D=12288, H=256,
dense dZ) on 1 and N threads; training images/s of 12288-256-64-1 (ReLU, BCE with logits, batch 64)
per optimizer, each step copying a batch into the input buffer, random pixels in [0, 1); inference
images/s. Medians of R runs. Human-readable lines on stderr, one JSON object on stdout.

--model cnn: the reference CNN of `npm run bench -- --model cnn` (input 64x64x3; 4 blocks of
[conv 3x3 same, no bias -> batch norm -> ReLU -> max pool 2x2] with 32, 64, 128, 256 filters;
flatten; dense 256 -> ReLU -> dense 1; BCE), batch 64, random pixels: per layer, forward and
backward milliseconds of the layer alone (GFLOP/s for convolutions and dense layers, counted as
the TypeScript benchmark counts them), on 1 thread and on --threads (--skip-layers leaves this
out); training images/s per optimizer; inference images/s (eval mode). Convolutions run through
oneDNN. --threads defaults to the CPU count. --memory-format: channels_last (default; NHWC, the
layout nn-train uses and the one oneDNN's convolutions run fastest in) or contiguous (NCHW).
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import sys
import time

import torch

B, D, H = 64, 64 * 64 * 3, 256
FLOP = 2 * B * D * H
BATCHES = 8


def say(line):
    print(line, file=sys.stderr, flush=True)


def allocator():
    """The malloc this process runs on: tcmalloc or jemalloc when one is loaded (LD_PRELOAD), else glibc's."""
    try:
        with open('/proc/self/maps') as f:
            maps = f.read()
    except OSError:
        return 'unknown'
    for name in ('tcmalloc', 'jemalloc', 'mimalloc'):
        if f'lib{name}' in maps:
            return name
    return 'glibc malloc'


def environment(threads, memory_format):
    """What decides the figures: PyTorch, oneDNN, CPU kernels, allocator, memory format, threads."""
    config = torch.__config__.show()
    onednn = re.search(r'(?:oneDNN|MKL-DNN) v?([0-9][0-9.]*)', config)
    capability = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, 'cpu') else 'unknown'
    return {
        'torch': torch.__version__,
        'onednn': onednn.group(1) if onednn else None,
        'cpuCapability': capability,
        'allocator': allocator(),
        'memoryFormat': memory_format,
        'threads': threads,
        'interopThreads': torch.get_num_interop_threads(),
        'cpus': os.cpu_count(),
        'python': sys.version.split()[0],
    }


def say_environment(env, blas=None):
    say(f"PyTorch {env['torch']} (oneDNN {env['onednn']}, {env['cpuCapability']} kernels), allocator {env['allocator']}, "
        f"memory format {env['memoryFormat']}, {env['threads']} intra-op thread(s) of {env['cpus']} CPUs"
        + (f', BLAS {blas}' if blas else '') + f", Python {env['python']}")
    if env['allocator'] == 'glibc malloc':
        say('  warning: no tcmalloc or jemalloc in this process: PyTorch\'s steps pay page faults for every activation '
            '(run through modern-pytorch.sh run, or LD_PRELOAD=libtcmalloc_minimal.so.4)')


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
    return training_rate(model(), make_optimizer, torch.empty(B, D), inputs, labels, runs, steps, warm=5)


def training_rate(net, make_optimizer, x, inputs, labels, runs, steps, warm):
    """Training images/s of `net`: whole steps, each copying a batch into the input buffer x; median of runs."""
    opt = make_optimizer(net.parameters())
    loss_fn = torch.nn.BCEWithLogitsLoss()
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

    for _ in range(warm):
        step()
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * B / (time.perf_counter() - t0))
    return statistics.median(rates)


def inference(inputs, runs, steps):
    return inference_rate(model(), torch.empty(B, D), inputs, runs, steps)


def inference_rate(net, x, inputs, runs, steps):
    """Inference images/s of `net` (forward and sigmoid, no gradients), each batch copied into x; median of runs after one warm-up run."""
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


def cnn():
    torch.manual_seed(1)
    layers, channels = [], 3
    for filters in (32, 64, 128, 256):
        layers += [
            torch.nn.Conv2d(channels, filters, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(filters, eps=1e-5, momentum=0.1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        ]
        channels = filters
    layers += [torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1)]
    return torch.nn.Sequential(*layers)


def describe(layer):
    if isinstance(layer, torch.nn.Conv2d):
        return f'conv {layer.out_channels} filters {layer.kernel_size[0]}x{layer.kernel_size[1]}'
    if isinstance(layer, torch.nn.Linear):
        return f'dense {layer.out_features} units'
    return {torch.nn.BatchNorm2d: 'batchnorm', torch.nn.ReLU: 'relu', torch.nn.MaxPool2d: 'maxpool 2x2', torch.nn.Flatten: 'flatten'}[type(layer)]


def multiply_adds(layer, y):
    """Multiply-adds of the layer's forward pass over the batch (None for layers without products)."""
    if isinstance(layer, torch.nn.Conv2d):
        return y.numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
    if isinstance(layer, torch.nn.Linear):
        return y.numel() * layer.in_features
    return None


def cnn_layers(net, channels_last, runs):
    """Per layer of the network: forward and backward ms of the layer alone, and GFLOP/s.
    Backward: the gradients of the layer's parameters and, except for the first layer, of its input."""
    net.train()
    x = torch.rand(B, 3, 64, 64)
    rows = []
    for i, layer in enumerate(net):
        if channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        x = x.detach().requires_grad_(i > 0)
        y = layer(x)
        dy = torch.rand_like(y) - 0.5
        inputs = ([x] if i > 0 else []) + list(layer.parameters())
        fwd = time_ms(lambda: layer(x), runs)
        bwd = time_ms(lambda: torch.autograd.grad(y, inputs, dy, retain_graph=True), runs) if inputs else 0.0
        work = multiply_adds(layer, y)
        gflops = lambda factor, ms: None if work is None or ms <= 0 else factor * work / ms / 1e6
        rows.append({'layer': describe(layer), 'forwardMs': fwd, 'backwardMs': bwd,
                     'forwardGflops': gflops(2, fwd), 'backwardGflops': gflops(2 if i == 0 else 4, bwd)})
        x = y.detach()
    return rows


def cnn_training(make_optimizer, inputs, labels, channels_last, runs, steps):
    net = cnn()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    net.train()
    x = torch.empty(B, 3, 64, 64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return training_rate(net, make_optimizer, x, inputs, labels, runs, steps, warm=3)


def cnn_inference(inputs, channels_last, runs, steps):
    net = cnn()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    net.eval()
    x = torch.empty(B, 3, 64, 64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return inference_rate(net, x, inputs, runs, steps)


def main_cnn(args):
    threads = args.threads or os.cpu_count()
    channels_last = args.memory_format == 'channels_last'
    torch.set_num_threads(threads)
    env = environment(threads, args.memory_format)
    say_environment(env)
    say(f'reference CNN, batch {B}')
    net = cnn()
    one = all_ = None
    if not args.skip_layers:
        torch.set_num_threads(1)
        one = cnn_layers(net, channels_last, args.runs)
        torch.set_num_threads(threads)
        all_ = cnn_layers(net, channels_last, args.runs)
        say(f'per layer alone, batch {B}, median of {args.runs} calls: GFLOP/s on 1 thread and {threads} threads, ms on {threads}')
        cell = lambda v: '     -' if v is None else f'{v:6.1f}'
        for i, (a, b) in enumerate(zip(one, all_)):
            say(f'  [{i:2}] {a["layer"]:24} forward 1 thread {cell(a["forwardGflops"])}  {threads} threads {cell(b["forwardGflops"])}'
                f'   backward 1 thread {cell(a["backwardGflops"])}  {threads} threads {cell(b["backwardGflops"])} GFLOP/s'
                f'   {threads} threads: {b["forwardMs"]:7.2f} + {b["backwardMs"]:7.2f} ms')
    g = torch.Generator().manual_seed(7)
    inputs = [torch.rand(B, 3, 64, 64, generator=g) for _ in range(BATCHES)]
    labels = [(torch.rand(B, generator=g) < 0.5).float() for _ in range(BATCHES)]
    steps = 4
    say(f'training the reference CNN, batch {B}, {threads} threads, random pixels in memory, median of {args.runs} runs of {steps} steps')
    train = {}
    for name, make in OPTIMIZERS:
        train[name] = cnn_training(make, inputs, labels, channels_last, args.runs, steps)
        say(f'  {name:10} {train[name]:6.0f} images/s   {B * 1000 / train[name]:7.2f} ms per batch')
    infer = cnn_inference(inputs, channels_last, args.runs, 2 * steps)
    say(f'inference (eval mode, forward and sigmoid), batch {B}: {infer:.0f} images/s')
    r = lambda v: None if v is None else round(v, 1)
    layers = {} if all_ is None else {
        'layerGflops': {'forward': [r(x['forwardGflops']) for x in all_], 'backward': [r(x['backwardGflops']) for x in all_]},
        'layerGflopsOneThread': {'forward': [r(x['forwardGflops']) for x in one], 'backward': [r(x['backwardGflops']) for x in one]},
        'layerMs': {'forward': [round(x['forwardMs'], 2) for x in all_], 'backward': [round(x['backwardMs'], 2) for x in all_]},
    }
    print(json.dumps({
        'model': 'cnn',
        'workers': threads,
        'kernel': 'pytorch',
        'environment': env,
        **layers,
        'trainImagesPerSecond': {k: round(v) for k, v in train.items()},
        'inferenceImagesPerSecond': round(infer),
    }))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', choices=['mlp', 'cnn'], default='mlp')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--blas-threads', type=int, default=os.cpu_count())
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--memory-format', choices=['channels_last', 'contiguous'], default='channels_last',
                        help='the CNN\'s memory format (NHWC or NCHW)')
    parser.add_argument('--skip-layers', action='store_true', help='CNN: training and inference rates only')
    args = parser.parse_args()
    if args.model == 'cnn':
        return main_cnn(args)
    if args.threads is None:
        args.threads = torch.get_num_threads()
    cpus = os.cpu_count()
    env = environment(args.threads, 'contiguous')
    say_environment(env, blas_name())
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
        'environment': env,
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
