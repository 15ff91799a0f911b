"""Test driver: the exported model.py's VAE cost, parts and gradient for each case folder.

usage: torch_vae_cost.py PACKAGE_DIR CASES.json OUT.json
Each case: {"dir": ..., "m": rows, "noiseSeed": int, "corruptSeed": int or null}; the
folder holds model.safetensors and X.bin (raw little-endian float64). The case's
state_dict (model.py's module names) is written to DIR/state_dict.safetensors.
"""
import json
import sys

import torch

sys.path.insert(0, sys.argv[1])
import model as wg  # noqa: E402


def read_matrix(path, rows):
    with open(path, "rb") as f:
        t = torch.frombuffer(bytearray(f.read()), dtype=torch.float64)
    return t.reshape(rows, -1)


out = []
for case in json.load(open(sys.argv[2])):
    net = wg.load(f"{case['dir']}/model.safetensors")
    X = read_matrix(f"{case['dir']}/X.bin", case["m"])
    inp = None
    if case["corruptSeed"] is not None:
        inp = wg.corrupt(X, net.net["corruption"], case["corruptSeed"])
    J, parts = wg.cost(net, X, input=inp, noise_seed=case["noiseSeed"])
    J.backward()
    with torch.no_grad():
        mu, logvar, z, output = net(X, noise_seed=case["noiseSeed"])
    wg.write_safetensors(f"{case['dir']}/state_dict.safetensors", net.state_dict(), {"spec": json.dumps(net.spec)})
    out.append({
        "cost": J.item(),
        "parts": {k: float(v) for k, v in parts.items() if k != "rhoHat"},
        "rhoHat": [r.tolist() for r in parts["rhoHat"]],
        "grad": wg.grad_theta(net).tolist(),
        "theta": wg.theta(net).tolist(),
        "eps": wg.normal_matrix(case["noiseSeed"], case["m"], mu.shape[1]).reshape(-1).tolist(),
        "mu": mu.reshape(-1).tolist(),
        "logvar": logvar.reshape(-1).tolist(),
        "output": output.reshape(-1).tolist(),
        "stateDictKeys": list(net.state_dict().keys()),
    })
json.dump(out, open(sys.argv[3], "w"))
