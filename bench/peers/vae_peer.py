#!/usr/bin/env python3
"""The PyTorch peer of examples/mnist-vae.json (PyTorch examples/vae): 784-400-20-400-784,
ReLU, Bernoulli decoder, Adam lr 1e-3, batch 128, shuffled each epoch, on the split the
engine trains on (exported by bench/peers/export-split.ts). Reports the test −ELBO and the
importance-weighted −log p(x) (Burda et al. 2015) in nats per example, and seconds per epoch.

  npx vite-node bench/peers/export-split.ts --config examples/mnist-vae.json --out /tmp/split
  python3 bench/peers/vae_peer.py --data /tmp/split --epochs 10 --samples 1000
  # evaluate a model the engine trained (same estimators, PyTorch's own ε):
  python3 bench/peers/vae_peer.py --data /tmp/split --eval-model runs/mnist-vae/model.safetensors --samples 1000

The loss is PyTorch's example's: BCE summed over pixels + KL, summed over the batch (the
engine averages over the batch; Adam's step does not depend on that scale, up to its ε).
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self, n=784, h=400, d=20):
        super().__init__()
        self.fc1 = nn.Linear(n, h)
        self.fc21 = nn.Linear(h, d)
        self.fc22 = nn.Linear(h, d)
        self.fc3 = nn.Linear(d, h)
        self.fc4 = nn.Linear(h, n)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode_logits(z), mu, logvar


def rec_nll(logits, x):
    """−log p(x|z) per example (Bernoulli), summed over pixels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1)


def kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


@torch.no_grad()
def evaluate(model, X, samples, chunk=500):
    neg_elbo = 0.0
    nll = 0.0
    for i in range(0, X.shape[0], chunk):
        x = X[i:i + chunk]
        mu, logvar = model.encode(x)
        std = torch.exp(0.5 * logvar)
        z = mu + std * torch.randn_like(mu)
        neg_elbo += (rec_nll(model.decode_logits(z), x) + kl(mu, logvar)).sum().item()
        if samples:
            lw = []
            for _ in range(samples):
                eps = torch.randn_like(mu)
                z = mu + std * eps
                # log w = log p(x|z) + log p(z) − log q(z|x); the ½ log 2π terms cancel
                lw.append(-rec_nll(model.decode_logits(z), x) + (-0.5 * z.pow(2) + 0.5 * logvar + 0.5 * eps.pow(2)).sum(1))
            lw = torch.stack(lw)  # k × rows
            nll -= (torch.logsumexp(lw, 0) - math.log(samples)).sum().item()
    n = X.shape[0]
    return neg_elbo / n, (nll / n if samples else None)


def load_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        dtype = {'F32': np.float32, 'F64': np.float64}[t['dtype']]
        a, b = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dtype).reshape(t['shape']).astype(np.float32))
    return out


def load_engine_model(path):
    """θ of a webgpu-nn VAE file (W1, b1, W2_mu, W2_logvar, b2_mu, b2_logvar, W3, b3, W4, b4) in the peer's layers."""
    t = load_safetensors(path)
    model = VAE(n=t['W1'].shape[1], h=t['W1'].shape[0], d=t['W2_mu'].shape[0])
    names = {'fc1': ('W1', 'b1'), 'fc21': ('W2_mu', 'b2_mu'), 'fc22': ('W2_logvar', 'b2_logvar'), 'fc3': ('W3', 'b3'), 'fc4': ('W4', 'b4')}
    with torch.no_grad():
        for layer, (w, b) in names.items():
            getattr(model, layer).weight.copy_(t[w])
            getattr(model, layer).bias.copy_(t[b])
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='folder written by bench/peers/export-split.ts')
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--samples', type=int, default=1000, help='importance samples k (0: −ELBO only)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: PyTorch default)')
    p.add_argument('--eval-model', help='evaluate this engine model file instead of training')
    p.add_argument('--report-every', type=int, default=0, help='also evaluate after every N epochs')
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.data, 'meta.json')))
    n = meta['features']
    X_train = torch.from_numpy(np.fromfile(os.path.join(a.data, 'X_train.f32'), dtype='<f4').reshape(-1, n).copy())
    X_test = torch.from_numpy(np.fromfile(os.path.join(a.data, 'X_test.f32'), dtype='<f4').reshape(-1, n).copy())
    result = {'peer': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'train': X_train.shape[0], 'test': X_test.shape[0], 'samples': a.samples}
    if a.eval_model:
        model = load_engine_model(a.eval_model)
        t0 = time.perf_counter()
        result['model'] = a.eval_model
        result['testNegElbo'], result['testNll'] = evaluate(model, X_test, a.samples)
        result['evalSeconds'] = time.perf_counter() - t0
        print(json.dumps(result))
        return
    model = VAE(n=n)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    m = X_train.shape[0]
    epoch_seconds = []
    history = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(m)
        total = 0.0
        for i in range(0, m, a.batch_size):
            x = X_train[perm[i:i + a.batch_size]]
            opt.zero_grad()
            logits, mu, logvar = model(x)
            loss = (rec_nll(logits, x) + kl(mu, logvar)).sum()
            loss.backward()
            total += loss.item()
            opt.step()
        epoch_seconds.append(time.perf_counter() - t0)
        line = {'epoch': epoch, 'trainLoss': total / m, 'seconds': epoch_seconds[-1]}
        if a.report_every and epoch % a.report_every == 0 and epoch != a.epochs:
            model.eval()
            line['testNegElbo'], line['testNll'] = evaluate(model, X_test, a.samples)
        history.append(line)
        print(json.dumps(line), flush=True)
    model.eval()
    t0 = time.perf_counter()
    result['epochs'] = a.epochs
    result['testNegElbo'], result['testNll'] = evaluate(model, X_test, a.samples)
    result['evalSeconds'] = time.perf_counter() - t0
    result['secondsPerEpoch'] = sum(epoch_seconds) / len(epoch_seconds)
    result['history'] = history
    print(json.dumps(result))


if __name__ == '__main__':
    main()
