"""Test driver: the exported model.py's cost, parts and gradient for each case folder.

usage: torch_cost.py PACKAGE_DIR CASES.json OUT.json
Each case: {"dir": ..., "m": rows, "targets": bool, "corruptSeed": int or null} and, for a
variational autoencoder, "noiseSeed" (the ε seed). The folder holds model.safetensors,
X.bin (and Y.bin), raw little-endian float64. A VAE case's state_dict (model.py's module
names) is written to DIR/state_dict.safetensors.
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
    Y = read_matrix(f"{case['dir']}/Y.bin", case["m"]) if case.get("targets") else None
    vae = "noiseSeed" in case
    inp = None
    if case["corruptSeed"] is not None:
        inp = wg.corrupt(X, net.net["corruption"], case["corruptSeed"])
    if vae:
        J, parts = wg.cost(net, X, input=inp, noise_seed=case["noiseSeed"])
    else:
        J, parts = wg.cost(net, X, Y, input=inp)
    J.backward()
    result = {
        "cost": J.item(),
        "parts": {k: float(v) for k, v in parts.items() if k != "rhoHat"},
        "rhoHat": [r.tolist() for r in parts["rhoHat"]],
        "grad": wg.grad_theta(net).tolist(),
        "theta": wg.theta(net).tolist(),
    }
    with torch.no_grad():
        if vae:
            mu, logvar, z, output = net(X, noise_seed=case["noiseSeed"])
            wg.write_safetensors(f"{case['dir']}/state_dict.safetensors", net.state_dict(), {"spec": json.dumps(net.spec)})
            result.update({
                "eps": wg.normal_matrix(case["noiseSeed"], case["m"], mu.shape[1]).reshape(-1).tolist(),
                "mu": mu.reshape(-1).tolist(),
                "logvar": logvar.reshape(-1).tolist(),
                "output": output.reshape(-1).tolist(),
                "stateDictKeys": list(net.state_dict().keys()),
            })
        else:
            result.update({
                "predict": net(X).reshape(-1).tolist(),
                "input": None if inp is None else inp.reshape(-1).tolist(),
            })
    out.append(result)
json.dump(out, open(sys.argv[3], "w"))
