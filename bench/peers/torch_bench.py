#!/usr/bin/env python3
"""PyTorch peer of the GPU suite (src/bench/gpu-suite.ts): the same GEMMs and the
same sparse-autoencoder SGD step, fp32, TF32 off, CUDA when available else CPU.

Request (JSON on stdin): {"gemm": [{"M","N","K","transA","transB"}...],
  "step": [{"layers": [784, 200, 784], "batch": 256, "steps": 50}...], "quick": bool}
Answer (JSON on stdout): {"torch", "device", "tf32", "gemm": [... "seconds", "gflops"],
  "step": [... "samplesPerSec", "secondsPerStep", "cost0"]}

The step is J = (1/m) sum_i 1/2 ||h(x_i) - x_i||^2 + (lambda/2) sum W^2 + beta sum_j KL(rho || rho_hat_j),
sigmoid layers, lambda 3e-3, rho 0.1, beta 3, SGD with learning rate 0.1 on seeded
uniform [0, 1) batches, UFLDL initialisation (W ~ U(-r, r), r = sqrt(6 / (n_in + n_out + 1)), b = 0).
"""
import json
import sys
import time

import torch


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def time_gemm(g, dev, quick):
    M, N, K = g["M"], g["N"], g["K"]
    gen = torch.Generator(device="cpu").manual_seed(M * 31 + N * 7 + K)
    a = (torch.rand(K, M, generator=gen) if g["transA"] else torch.rand(M, K, generator=gen)).to(dev) * 2 - 1
    b = (torch.rand(N, K, generator=gen) if g["transB"] else torch.rand(K, N, generator=gen)).to(dev) * 2 - 1
    opa = a.t() if g["transA"] else a
    opb = b.t() if g["transB"] else b
    flop = 2.0 * M * N * K
    per = 1 if quick or dev.type != "cuda" else max(1, min(64, int(2e10 // flop) + 1))
    c = opa @ opb  # warm-up (cuBLAS handle, heuristics)
    sync(dev)
    times = []
    for _ in range(1 if quick else 3):
        t0 = time.perf_counter()
        for _ in range(per):
            c = opa @ opb
        sync(dev)
        times.append((time.perf_counter() - t0) / per)
    times.sort()
    s = times[len(times) // 2]
    return {**g, "seconds": s, "gflops": flop / s / 1e9}


def sae_cost(params, x, lam=3e-3, rho=0.1, beta=3.0):
    a = x
    kl = x.new_zeros(())
    L = len(params)
    for l, (W, b) in enumerate(params):
        a = torch.sigmoid(a @ W.t() + b)
        if l < L - 1:
            rh = a.mean(0)
            kl = kl + (rho * torch.log(rho / rh) + (1 - rho) * torch.log((1 - rho) / (1 - rh))).sum()
    m = x.shape[0]
    data = 0.5 / m * ((a - x) ** 2).sum()
    wd = sum((W ** 2).sum() for W, _ in params)
    return data + lam / 2 * wd + beta * kl


def time_step(s, dev, quick):
    layers, batch, steps = s["layers"], s["batch"], s["steps"]
    gen = torch.Generator(device="cpu").manual_seed(1)
    params = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        r = (6.0 / (n_in + n_out + 1)) ** 0.5
        W = ((torch.rand(n_out, n_in, generator=gen) * 2 - 1) * r).to(dev).requires_grad_()
        b = torch.zeros(n_out, device=dev, requires_grad=True)
        params.append((W, b))
    X = [torch.rand(batch, layers[0], generator=gen).to(dev) for _ in range(2)]
    flat = [p for pair in params for p in pair]
    opt = torch.optim.SGD(flat, lr=0.1)
    with torch.no_grad():
        cost0 = float(sae_cost(params, X[0]))

    def step(i):
        opt.zero_grad(set_to_none=True)
        sae_cost(params, X[i % 2]).backward()
        opt.step()

    for i in range(1 if quick else 3):
        step(i)
    sync(dev)
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    sync(dev)
    dt = (time.perf_counter() - t0) / steps
    return {"layers": layers, "batch": batch, "samplesPerSec": batch / dt, "secondsPerStep": dt, "cost0": cost0}


def main():
    req = json.load(sys.stdin)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    quick = bool(req.get("quick"))
    out = {
        "torch": torch.__version__,
        "device": name,
        "tf32": torch.backends.cuda.matmul.allow_tf32,
        "gemm": [time_gemm(g, dev, quick) for g in req.get("gemm", [])],
        "step": [time_step(s, dev, quick) for s in req.get("step", [])],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
