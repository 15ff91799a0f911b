"""Test driver: the exported model.py's cost and gradient for each case folder.

usage: torch_cost.py PACKAGE_DIR CASES.json OUT.json
Each case: {"dir": ..., "m": rows, "targets": bool, "corruptSeed": int or null}; the
folder holds model.safetensors, X.bin (and Y.bin), raw little-endian float64.
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
    Y = read_matrix(f"{case['dir']}/Y.bin", case["m"]) if case["targets"] else None
    inp = None
    if case["corruptSeed"] is not None:
        inp = wg.corrupt(X, net.net["corruption"], case["corruptSeed"])
    J, parts = wg.cost(net, X, Y, input=inp)
    J.backward()
    with torch.no_grad():
        pred = net(X)
    out.append({
        "cost": J.item(),
        "parts": {k: float(v) for k, v in parts.items() if k != "rhoHat"},
        "rhoHat": [r.tolist() for r in parts["rhoHat"]],
        "grad": wg.grad_theta(net).tolist(),
        "theta": wg.theta(net).tolist(),
        "predict": pred.reshape(-1).tolist(),
        "input": None if inp is None else inp.reshape(-1).tolist(),
    })
json.dump(out, open(sys.argv[3], "w"))
