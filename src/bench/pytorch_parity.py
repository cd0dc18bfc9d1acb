#!/usr/bin/env python3
"""PyTorch's side of the step-for-step parity bench (src/bench/parity.ts, `npm run bench:parity`):
reads the problem nn-train wrote to OUT (manifest.json, images.f32, labels.f32, order.i32,
init.f32), trains the same network from the same weights on the same batches with each run's
optimizer, and writes torch-<run>.json ({"losses": [...]}), torch-<run>-params.f32 and
torch-<run>-stats.f32 in nn-train's flat layout. With the manifest's "precision" float64 it trains
in double and writes .f64 files instead. Run by hand or by the bench; the project never needs Python.

    python3 src/bench/pytorch_parity.py OUT            (2 threads; PARITY_THREADS to change)

The network is built from the manifest's layer list. nn-train is channels-last: its conv weights are
(F, k, k, C), PyTorch's (F, C, k, k); its flatten reads H, W, C, so the network here flattens an
NHWC view (FlattenHWC) and the dense weights need no reordering. Batch norm: momentum and epsilon
from the layer; training mode for every step (the running statistics are compared too).
Optimizers, as nn-train's config describes them:
  adam                     torch.optim.Adam(lr, betas=(beta1, beta2), eps); weight decay as L2 on the
                           weight tensors only (conv and dense weights; not biases, gamma, beta)
  momentum, form classic   torch.optim.SGD(lr, momentum=beta, dampening=0): v = beta v + g, w -= lr v
  schedule one-cycle       torch.optim.lr_scheduler.OneCycleLR(max_lr=lr, total_steps=steps,
                           pct_start=warmup, div_factor, final_div_factor, anneal cosine, momentum
                           cycled from maxMomentum to baseMomentum and back), stepped after each step
Little-endian, C-order files, as the bench writes them.
"""
import json
import os
import sys

import numpy as np
import torch


class FlattenHWC(torch.nn.Module):
    """Flattens (N, C, H, W) in H, W, C order: nn-train's flatten of its channels-last tensors."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def build(manifest):
    """The layer list as torch modules, with the module of each nn-train layer index."""
    modules, channels, height, width = [], manifest['input']['channels'], manifest['input']['height'], manifest['input']['width']
    for spec in manifest['layers']:
        t = spec['type']
        if t == 'conv':
            if spec.get('stride', 1) != 1 or spec.get('padding', 'same') != 'same' or spec['kernel'] % 2 != 1:
                raise SystemExit(f'pytorch_parity: conv layers must be stride 1, same padding, odd kernel: {spec}')
            m = torch.nn.Conv2d(channels, spec['filters'], spec['kernel'], padding=spec['kernel'] // 2, bias=spec.get('bias', True))
            channels = spec['filters']
        elif t == 'batchnorm':
            m = torch.nn.BatchNorm2d(channels, eps=spec['epsilon'], momentum=spec['momentum'])
        elif t == 'relu':
            m = torch.nn.ReLU()
        elif t == 'maxpool':
            m = torch.nn.MaxPool2d(spec['size'], spec['stride'])
            height, width = (height - spec['size']) // spec['stride'] + 1, (width - spec['size']) // spec['stride'] + 1
        elif t == 'flatten':
            m = FlattenHWC()
            channels, height, width = channels * height * width, 1, 1
        elif t == 'dense':
            m = torch.nn.Linear(channels * height * width, spec['units'], bias=spec.get('bias', True))
            channels, height, width = spec['units'], 1, 1
        else:
            raise SystemExit(f'pytorch_parity: layer type {t!r} is not supported here')
        modules.append(m)
    return modules


def tensor_of(modules, layers, layer, name):
    """The torch tensor behind nn-train's (layer, name), and a function from nn-train's layout to it."""
    m = modules[layer]
    t = layers[layer]['type']
    if t == 'conv' and name == 'weights':
        return m.weight, lambda a: a.reshape(m.weight.shape[0], m.weight.shape[2], m.weight.shape[3], m.weight.shape[1]).transpose(0, 3, 1, 2)
    if t == 'conv' and name == 'bias':
        return m.bias, lambda a: a
    if t == 'dense':
        p = m.weight if name == 'weights' else m.bias
        return p, lambda a: a.reshape(p.shape)
    if t == 'batchnorm':
        p = {'gamma': m.weight, 'beta': m.bias, 'mean': m.running_mean, 'variance': m.running_var}[name]
        return p, lambda a: a
    raise SystemExit(f'pytorch_parity: no tensor for layer {layer} ({t}) {name}')


def to_flat(tensor, layer_type, name):
    """A torch tensor in nn-train's layout (the inverse of tensor_of's mapping), in double."""
    a = tensor.detach().double().numpy()
    if layer_type == 'conv' and name == 'weights':
        a = a.transpose(0, 2, 3, 1)
    return a.ravel()


def optimizer_for(run, decayed, other, steps):
    o = run['optimizer']
    groups = [{'params': decayed, 'weight_decay': o['weightDecay']}, {'params': other, 'weight_decay': 0.0}]
    if o.get('clipNorm') is not None:
        raise SystemExit(f'pytorch_parity: {run["name"]}: clipNorm is not compared')
    if o['type'] == 'adam':
        opt = torch.optim.Adam(groups, lr=o['lr'], betas=(o['beta1'], o['beta2']), eps=o['epsilon'])
    elif o['type'] == 'momentum' and o['form'] == 'classic' and not o['biasCorrection']:
        opt = torch.optim.SGD(groups, lr=o['lr'], momentum=o['beta'], dampening=0.0)
    elif o['type'] == 'sgd':
        opt = torch.optim.SGD(groups, lr=o['lr'])
    else:
        raise SystemExit(f'pytorch_parity: {run["name"]}: PyTorch has no optimizer like {o}')
    s = o['schedule']
    if o.get('warmupSteps', 0) != 0:
        raise SystemExit(f'pytorch_parity: {run["name"]}: warmupSteps is not compared')
    if s['type'] == 'constant':
        return opt, None
    if s['type'] == 'one-cycle':
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=o['lr'], total_steps=steps, pct_start=s['warmup'], anneal_strategy='cos',
            cycle_momentum=s['cycleMomentum'], base_momentum=s['baseMomentum'], max_momentum=s['maxMomentum'],
            div_factor=s['divFactor'], final_div_factor=s['finalDivFactor'])
        return opt, sched
    raise SystemExit(f'pytorch_parity: {run["name"]}: schedule {s} is not compared')


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: pytorch_parity.py OUT')
    out = sys.argv[1]
    torch.set_num_threads(int(os.environ.get('PARITY_THREADS', '2')))
    torch.use_deterministic_algorithms(True)
    with open(os.path.join(out, 'manifest.json')) as f:
        manifest = json.load(f)
    double = manifest.get('precision', 'float32') == 'float64'
    dtype, kind, suffix = (torch.float64, '<f8', '.f64') if double else (torch.float32, '<f4', '.f32')
    inp = manifest['input']
    n, batch, steps = manifest['images'], manifest['batch'], manifest['steps']
    load = lambda name, kind: np.fromfile(os.path.join(out, name), dtype=np.dtype(kind).newbyteorder('<'))
    images = torch.from_numpy(load('images.f32', np.float32).reshape(n, inp['height'], inp['width'], inp['channels']).transpose(0, 3, 1, 2).copy()).to(dtype)
    labels = torch.from_numpy(load('labels.f32', np.float32)).to(dtype)
    order = torch.from_numpy(load('order.i32', np.int32).reshape(steps, batch).astype(np.int64))
    init = load('init.f32', np.float32)
    layers = manifest['layers']

    for run in manifest['runs']:
        modules = build(manifest)
        net = torch.nn.Sequential(*modules).to(dtype)
        decayed, other = [], []
        with torch.no_grad():
            for p in manifest['params']:
                tensor, reshape = tensor_of(modules, layers, p['layer'], p['name'])
                tensor.copy_(torch.from_numpy(reshape(init[p['offset']:p['offset'] + p['length']]).copy()))
                (decayed if p['decay'] else other).append(tensor)
        opt, sched = optimizer_for(run, decayed, other, steps)
        loss_fn = torch.nn.BCEWithLogitsLoss()  # mean over the batch
        net.train()
        losses = []
        for s in range(steps):
            idx = order[s]
            opt.zero_grad()
            loss = loss_fn(net(images[idx]).squeeze(1), labels[idx])
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            losses.append(loss.item())
        params = np.zeros(sum(p['length'] for p in manifest['params']), dtype=np.float64)
        for p in manifest['params']:
            tensor, _ = tensor_of(modules, layers, p['layer'], p['name'])
            params[p['offset']:p['offset'] + p['length']] = to_flat(tensor, layers[p['layer']]['type'], p['name'])
        stats = np.zeros(sum(s['length'] for s in manifest['stats']), dtype=np.float64)
        for s in manifest['stats']:
            tensor, _ = tensor_of(modules, layers, s['layer'], s['name'])
            stats[s['offset']:s['offset'] + s['length']] = to_flat(tensor, 'batchnorm', s['name'])
        with open(os.path.join(out, f'torch-{run["name"]}.json'), 'w') as f:
            json.dump({'losses': losses}, f)
        params.astype(kind).tofile(os.path.join(out, f'torch-{run["name"]}-params{suffix}'))
        stats.astype(kind).tofile(os.path.join(out, f'torch-{run["name"]}-stats{suffix}'))
        print(f'PyTorch {torch.__version__} {run["name"]} ({dtype}): {steps} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}', file=sys.stderr, flush=True)


if __name__ == '__main__':
    main()
