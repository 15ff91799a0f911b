"""Data-parallel training of a webgpu-nn network with torch.distributed.

Written by `wgnn export --format pytorch`. Launch with torchrun (or run it as
a plain script for one process), e.g.

    torchrun --nproc_per_node=8 train_ddp.py --model model.safetensors \
        --data train-images.idx3-ubyte --labels train-labels.idx1-ubyte \
        --epochs 10 --batch-size 256 --lr 0.1 --out trained.safetensors

Each process trains a DistributedDataParallel copy of the module of model.py on
its shard of the data (DistributedSampler); gradients of the engine's objective
(model.cost) are averaged across processes after every step. Backend: nccl when
CUDA is available, gloo on CPUs (--backend overrides). Rank 0 finally evaluates
J on the whole (clean) training set, prints it as JSON and writes a model file
that webgpu-nn loads (wgnn eval, wgnn import, the demo's Load).

Data: IDX (images scaled by 1/255, as the engine does; .gz accepted), CSV
(numbers; --header, --label-column) or .npy (float or integer arrays, C order).
Labels (IDX, .npy or a CSV label column) become one-hot targets for a classifier;
--targets gives regression targets; an autoencoder needs neither. The whitening
saved with the model is applied to the examples unless --no-preprocess.

Notes on the objective under data parallelism: each process's J is the engine's
J on its local mini-batch, so the KL sparsity term uses rho-hat of the local
batch, and denoising draws fresh noise per step (model.corrupt, the engine's
noise function, seeded per step and offset per rank). A variational autoencoder
draws its eps the same way: step n uses noise seed evaluation_seed(vae seed, n), as
the engine's trainer does, with rows offset by rank * batch size so every process
gets its own eps. The final report's J uses the engine's model.cost default eps
(evaluation_seed(vae seed, 0)), so `wgnn eval` / model.cost give the same number.
"""

import argparse
import ast
import csv
import gzip
import json
import os
import struct
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as wg  # noqa: E402


# ---------------------------------------------------------------------------
# Data files.

def _read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


_IDX_TYPES = {0x08: (torch.uint8, 1), 0x09: (torch.int8, 1), 0x0B: (torch.int16, 2),
              0x0C: (torch.int32, 4), 0x0D: (torch.float32, 4), 0x0E: (torch.float64, 8)}


def read_idx(path):
    """An IDX file as a tensor of its shape (big-endian values, gzip or not)."""
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (magic {data[:4].hex()})")
    dtype, size = _IDX_TYPES[data[2]]
    ndim = data[3]
    shape = list(struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim]))
    count = 1
    for d in shape:
        count *= d
    body = bytearray(data[4 + 4 * ndim:4 + 4 * ndim + count * size])
    if len(body) != count * size:
        raise ValueError(f"{path}: shape {shape} needs {count * size} bytes, the file holds {len(body)}")
    if size > 1 and sys.byteorder == "little":
        body = _swap(body, size)
    t = torch.frombuffer(body, dtype=dtype) if body else torch.zeros(0, dtype=dtype)
    return t.reshape(shape)


def _swap(body, size):
    out = bytearray(len(body))
    for i in range(0, len(body), size):
        out[i:i + size] = body[i:i + size][::-1]
    return out


_NPY_TYPES = {"f8": torch.float64, "f4": torch.float32, "u1": torch.uint8, "i1": torch.int8,
              "i2": torch.int16, "i4": torch.int32, "i8": torch.int64}


def read_npy(path):
    """A .npy array (little-endian or byte-sized numbers, C order), without numpy."""
    data = _read_bytes(path)
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path} is not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    descr, fortran, shape = header["descr"], header["fortran_order"], list(header["shape"])
    if fortran:
        raise ValueError(f"{path}: Fortran-order arrays are not supported; save with C order")
    if descr[0] not in "<|" or descr[1:] not in _NPY_TYPES:
        raise ValueError(f"{path}: dtype {descr} is not supported (little-endian float64/32 or integers)")
    body = bytearray(data[start + hlen:])
    t = torch.frombuffer(body, dtype=_NPY_TYPES[descr[1:]]) if body else torch.zeros(0)
    count = 1
    for d in shape:
        count *= d
    return t[:count].reshape(shape)


def read_csv(path, header=False, label_column=None):
    """(X, labels or None) from a CSV file of numbers, as the engine's parseCsv: blank
    lines skipped, the first non-blank line a header with --header, cells may be
    quoted, a negative label column counts from the end."""
    rows, labels = [], []
    skip_header = header
    with open(path, newline="") as f:
        for lineno, row in enumerate(csv.reader(f), start=1):
            cells = [c.strip().strip('"').strip() for c in row]
            if not cells or all(c == "" for c in cells):
                continue
            if skip_header:
                skip_header = False
                continue
            try:
                if label_column is not None:
                    labels.append(int(cells.pop(label_column)))
                rows.append([float(c) for c in cells])
            except (ValueError, IndexError) as e:
                raise ValueError(f"{path}: line {lineno}: {e}") from None
    X = torch.tensor(rows, dtype=torch.float64)
    return X, (torch.tensor(labels, dtype=torch.int64) if label_column is not None else None)


def read_examples(path, header=False, label_column=None):
    """(X as m x n float64, labels or None) from an IDX, CSV or .npy file."""
    lower = path.lower()
    if lower.endswith(".csv"):
        return read_csv(path, header, label_column)
    if lower.endswith(".npy"):
        t = read_npy(path)
    else:
        t = read_idx(path)
        if t.dtype == torch.uint8:
            t = t.to(torch.float64) / 255  # pixels to [0, 1], as imagesToMatrix
    t = t.to(torch.float64)
    return t.reshape(t.shape[0], -1), None


def read_labels(path):
    t = read_npy(path) if path.lower().endswith(".npy") else read_idx(path)
    return t.reshape(-1).to(torch.int64)


def one_hot(labels, classes):
    if labels.numel() and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels range over {int(labels.min())} ... {int(labels.max())} but the output layer has {classes} units")
    Y = torch.zeros(labels.numel(), classes, dtype=torch.float64)
    Y[torch.arange(labels.numel()), labels] = 1.0
    return Y


# ---------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.safetensors"),
                   help="start model (webgpu-nn model file or state_dict safetensors); default: the exported one")
    p.add_argument("--data", required=True, help="examples: IDX, CSV or .npy")
    p.add_argument("--labels", help="class labels (IDX or .npy) for a classifier")
    p.add_argument("--targets", help="regression targets (CSV or .npy), examples x outputs")
    p.add_argument("--header", action="store_true", help="CSV: the first row is a header")
    p.add_argument("--label-column", type=int, help="CSV: the column holding the class label")
    p.add_argument("--no-preprocess", action="store_true", help="do not apply the whitening saved with the model")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64, help="examples per process and step")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--backend", choices=["nccl", "gloo"], help="default: nccl with CUDA, else gloo")
    p.add_argument("--out", required=True, help="model file to write (webgpu-nn format)")
    p.add_argument("--report", help="also write the final cost as JSON here")
    return p.parse_args(argv)


def _single_process_defaults():
    """Run as a plain script (no torchrun): one process, rendezvous on the loopback."""
    if "RANK" in os.environ:
        return
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})


def main(argv=None):
    args = parse_args(argv)
    _single_process_defaults()
    cuda = torch.cuda.is_available() and args.backend != "gloo"
    backend = args.backend or ("nccl" if cuda else "gloo")
    dist.init_process_group(backend=backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    torch.manual_seed(args.seed)

    net = wg.load(args.model, dtype=torch.float64)
    spec = net.net
    X, labels = read_examples(args.data, args.header, args.label_column)
    if not args.no_preprocess:
        X = wg.whiten(net, X)
    if X.shape[1] != spec["layers"][0]:
        raise ValueError(f"{args.data} has {X.shape[1]} features per example but the input layer has {spec['layers'][0]} units")
    nL = spec["layers"][-1]
    if args.labels:
        labels = read_labels(args.labels)
    if spec["autoencoder"]:
        Y = None
    elif args.targets:
        Y = read_examples(args.targets)[0]
    elif labels is not None:
        Y = one_hot(labels, nL)
    else:
        raise ValueError("the network is not an autoencoder: give --labels, --label-column or --targets")
    if Y is not None and Y.shape[0] != X.shape[0]:
        raise ValueError(f"{X.shape[0]} examples but {Y.shape[0]} targets")

    net = net.to(device=device, dtype=dtype)
    ddp = DDP(net, device_ids=[local_rank] if cuda else None)
    params = [p for p in ddp.parameters()]
    opt = (torch.optim.SGD(params, lr=args.lr, momentum=args.momentum) if args.optimizer == "sgd"
           else torch.optim.Adam(params, lr=args.lr))
    index = torch.arange(X.shape[0])
    sampler = DistributedSampler(TensorDataset(index), num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(TensorDataset(index), batch_size=args.batch_size, sampler=sampler)
    corruption = spec["corruption"]
    step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for (batch,) in loader:
            xb = X[batch].to(device=device, dtype=dtype)
            yb = None if Y is None else Y[batch].to(device=device, dtype=dtype)
            inp = None
            if corruption:
                seed = wg.evaluation_seed(int(corruption.get("seed", 1)), step)
                inp = wg.corrupt(xb.cpu(), corruption, seed, row_offset=rank * args.batch_size).to(device)
            if spec["vae"]:
                noise = wg.evaluation_seed(spec["vae"]["seed"], step)
                J, _ = wg.cost(ddp, xb, input=inp, noise_seed=noise, row_offset=rank * args.batch_size)
            else:
                J, _ = wg.cost(ddp, xb, yb, input=inp)
            opt.zero_grad()
            J.backward()
            opt.step()
            step += 1
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: J(batch) = {J.item():.6g}", flush=True)

    if rank == 0:
        final = net.to(device="cpu", dtype=torch.float64)
        with torch.no_grad():
            J, parts = wg.cost(final, X, Y)
        report = {"cost": J.item(), "parts": {k: float(v) for k, v in parts.items() if k != "rhoHat"},
                  "examples": X.shape[0], "processes": world, "backend": backend, "steps": step, "out": args.out}
        wg.save(final, args.out)
        if args.report:
            with open(args.report, "w") as f:
                json.dump(report, f)
        print(json.dumps(report), flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:  # bad data or options: one line, exit status 1
        print(f"train_ddp.py: {e}", file=sys.stderr)
        sys.exit(1)
