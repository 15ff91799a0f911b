"""A webgpu-nn network as a PyTorch module, with the engine's exact objective.

Written by `wgnn export --format pytorch`; depends on torch only (and the Python
standard library). The definitions follow the engine's float64 CPU reference
(src/cpu/network.ts in webgpu-nn), which is the specification:

  layers      z(l+1) = W(l) a(l) + b(l),  a(l+1) = f(z(l+1)); W(l) is n_{l+1} x n_l
  tied        autoencoders with mirror-image layers: decoder W(L-l) = W(l)^T, only
              the encoder matrices are parameters
  k-sparse    per example, the k largest activations of a layer are kept (ties to
              the lower index) and the rest set to 0; gradients flow through the kept
  cost        J = data + weightDecay + sparsity + l1 + contractive, see cost()
  vae         a variational autoencoder (spec "vae": {beta, seed}): the weight layer
              into the latent layer c is a head pair mu, logvar (d x n_c each);
              z = mu + exp(logvar/2) * eps with eps the engine's counter-based normals
              (normal_matrix), and J = reconstruction NLL + beta KL + weight decay

Model files are this engine's safetensors files ("webgpu-nn/1": tensors W1, b1,
W2, ... in theta order, the spec and preprocessing as JSON metadata); load() also
accepts a state_dict saved as safetensors (keys layers.K.weight / layers.K.bias;
a VAE's heads mu.weight, mu.bias, logvar.weight, logvar.bias, the engine's W<c>_mu,
W<c>_logvar, b<c>_mu, b<c>_logvar) with the spec in its metadata, and save() writes
the engine's format back.

Denoising (spec "corruption") is a training-time transform of the input, not part
of the module: corrupt() reproduces the engine's counter-based noise bit for bit,
and cost(module, X, input=corrupt(...)) compares the output on the corrupted
input with the clean X, as the engine does.
"""

import ctypes
import json
import math
import struct
import sys

import torch
from torch import nn

MODEL_FORMAT = "webgpu-nn/1"
ACTIVATIONS = ("sigmoid", "tanh", "identity", "relu", "prelu", "elu", "softplus",
               "softsign", "hardtanh", "softmax", "step")
DEFAULT_ALPHA = {"prelu": 0.25, "elu": 1.0}

# The network this package was exported for (None: take the spec from the model file).
SPEC = None  # @SPEC@


# ---------------------------------------------------------------------------
# The spec, with the engine's defaults filled in (src/spec.ts resolveSpec).

def resolve_spec(spec):
    """A dict with every field of the engine's Network: activations as (name, alpha)
    per weight layer, loss, lambda, and per-weight-layer masks for the options."""
    layers = [int(n) for n in spec["layers"]]
    L = len(layers)
    if L < 2:
        raise ValueError(f"layers must list at least two sizes, got {layers}")
    act = spec["activation"]
    acts = act if isinstance(act, list) else [act] * (L - 1)
    if len(acts) != L - 1:
        raise ValueError(f"activation lists {len(acts)} entries but the network has {L - 1} non-input layers")
    activations = []
    for a in acts:
        name = a if isinstance(a, str) else a["name"]
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
        alpha = DEFAULT_ALPHA.get(name, 0.0) if isinstance(a, str) or a.get("alpha") is None else float(a["alpha"])
        activations.append((name, alpha))

    def hidden_mask(sel):
        mask = [False] * (L - 1)
        for l in (sel if sel is not None else range(2, L)):
            mask[int(l) - 2] = True
        return mask

    sp = spec.get("sparsity")
    l1 = spec.get("l1")
    ks = spec.get("kSparse")
    con = spec.get("contractive")
    return {
        "layers": layers,
        "activations": activations,
        "loss": spec.get("loss") or "squared",
        "autoencoder": bool(spec.get("autoencoder", False)),
        "lambda": float(spec.get("lambda") or 0.0),
        "tied": bool(spec.get("tied", False)),
        "sparsity": None if not sp else {"rho": float(sp["rho"]), "beta": float(sp["beta"]), "on": hidden_mask(sp.get("layers"))},
        "l1": None if not l1 else {"weight": float(l1["weight"]), "on": hidden_mask(l1.get("layers"))},
        "contractive": None if not con else {"weight": float(con["weight"])},
        "kSparse": None if not ks else {"k": int(ks["k"]), "on": hidden_mask(ks.get("layers"))},
        "corruption": spec.get("corruption"),
        "vae": None if spec.get("vae") is None else _resolve_vae(spec["vae"], layers),
    }


def _resolve_vae(v, layers):
    """beta (default 1), seed of the eps stream (default 1) and latent = the middle layer's
    index c (layers [n, h..., d, ...h, n]; the engine validates the rest)."""
    L = len(layers)
    if L < 3 or L % 2 == 0 or layers != layers[::-1]:
        raise ValueError(f"a VAE needs mirror-image layers with an odd count, got {layers}")
    return {"beta": float(v.get("beta", 1)), "seed": int(v.get("seed", 1)), "latent": (L - 1) // 2}


# ---------------------------------------------------------------------------
# Activations, exactly as src/cpu/activations.ts (values and derivatives).

def softplus(z):
    """log(1 + e^z) = max(z, 0) + log1p(e^(-|z|)): no overflow, no threshold."""
    return torch.clamp(z, min=0) + torch.log1p(torch.exp(-torch.abs(z)))


def activate(name, alpha, z):
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "identity":
        return z
    if name == "relu":
        return torch.relu(z)  # f'(0) = 0
    if name == "prelu":
        return torch.where(z > 0, z, alpha * z)  # f'(0) = alpha, as the engine
    if name == "elu":
        return torch.where(z >= 0, z, alpha * torch.expm1(torch.clamp(z, max=0)))
    if name == "softplus":
        return softplus(z)
    if name == "softsign":
        return z / (1 + torch.abs(z))
    if name == "hardtanh":
        return torch.clamp(z, -1.0, 1.0)  # f' = 1 on [-1, 1], ends included
    if name == "step":
        return (z >= 0).to(z.dtype)  # inference only
    if name == "softmax":
        return torch.softmax(z, dim=1)
    raise ValueError(f"unknown activation {name!r}")


def keep_top_k(a, k):
    """The k largest of each row kept, the rest 0; ties go to the lower index (a
    stable descending sort), as keepTopK in the engine. Returns (a*mask, mask)."""
    order = torch.sort(a.detach(), dim=1, descending=True, stable=True).indices[:, :k]
    mask = torch.zeros_like(a).scatter_(1, order, 1.0)
    return a * mask, mask


# ---------------------------------------------------------------------------
# The module.

class Layer(nn.Module):
    """One weight layer W(l), b(l). A tied decoder layer has no weight of its own."""

    def __init__(self, n_in, n_out, stored=True, dtype=torch.float64):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.weight = nn.Parameter(torch.zeros(n_out, n_in, dtype=dtype)) if stored else None
        self.bias = nn.Parameter(torch.zeros(n_out, dtype=dtype))


class Net(nn.Module):
    """The network of a webgpu-nn spec. forward(x) gives the output layer;
    forward(x, all_layers=True) gives (Z, A), the pre-activations and activations of
    layers 2 ... L; encode(x, layer) the activations of one layer (notes' numbering).
    A VAE (spec "vae"): forward(x, eps=None, noise_seed=None) gives (mu, logvar, z, output);
    the head pair is self.mu, self.logvar (see slot_params for theta's order)."""

    def __init__(self, spec, preprocessing=None, dtype=torch.float64):
        super().__init__()
        self.spec = dict(spec)
        self.net = resolve_spec(spec)
        self.preprocessing = preprocessing
        sizes = self.net["layers"]
        Lw = len(sizes) - 1
        if self.net["tied"] and (Lw % 2 != 0 or sizes != sizes[::-1]):
            raise ValueError(f"tied weights need mirror-image layers with an even number of weight layers, got {sizes}")
        # mirror[k]: the encoder layer whose W, transposed, is W of tied decoder layer k.
        self.mirror = [Lw - 1 - k if self.net["tied"] and k >= Lw / 2 else None for k in range(Lw)]
        vae = self.net["vae"]
        c = vae["latent"] if vae else None
        # A VAE's weight layer c-1 is the head pair self.mu, self.logvar; its place in
        # self.layers holds a module without parameters, so layers.K keeps K = weight layer.
        self.layers = nn.ModuleList(
            nn.Module() if vae and k == c - 1 else Layer(sizes[k], sizes[k + 1], stored=self.mirror[k] is None, dtype=dtype)
            for k in range(Lw))
        if vae:
            self.mu = Layer(sizes[c - 1], sizes[c], dtype=dtype)
            self.logvar = Layer(sizes[c - 1], sizes[c], dtype=dtype)

    def slot_params(self):
        """The parameters of each weight layer in theta order: W, b (tied: b); a VAE's
        head pair W_mu, W_logvar, b_mu, b_logvar (src/params.ts)."""
        out = []
        for k, layer in enumerate(self.layers):
            if self.net["vae"] and k == self.net["vae"]["latent"] - 1:
                out.append([self.mu.weight, self.logvar.weight, self.mu.bias, self.logvar.bias])
            else:
                out.append(([layer.weight] if layer.weight is not None else []) + [layer.bias])
        return out

    def W(self, k):
        """W(k+1), n_{k+2} x n_{k+1} (a tied decoder's: the mirror encoder's W transposed)."""
        m = self.mirror[k]
        return self.layers[k].weight if m is None else self.layers[m].weight.t()

    def forward(self, x, all_layers=False, eps=None, noise_seed=None, row_offset=0):
        """Not a VAE: the output layer, or (Z, A) with all_layers. A VAE: (mu, logvar, z,
        output), or with all_layers a dict of those and Z, A (the decoder's pre-activations
        and activations, weight layers c ... L-2), H (the trunk's activations) and eps.
        eps (m x d) defaults to normal_matrix(noise_seed, m, d, row_offset), noise_seed
        to the engine's model.cost default evaluation_seed(vae seed, 0)."""
        if self.net["vae"]:
            return self._vae_forward(x, all_layers, eps, noise_seed, row_offset)
        Z, A = [], []
        a = x
        ks = self.net["kSparse"]
        for k, (name, alpha) in enumerate(self.net["activations"]):
            z = a @ self.W(k).t() + self.layers[k].bias  # z(l+1) = W(l) a(l) + b(l)
            a = activate(name, alpha, z)
            if ks and ks["on"][k]:
                a, _ = keep_top_k(a, ks["k"])
            Z.append(z)
            A.append(a)
        return (Z, A) if all_layers else A[-1]

    def _vae_forward(self, x, all_layers, eps, noise_seed, row_offset):
        vae = self.net["vae"]
        c = vae["latent"]
        acts = self.net["activations"]
        H = []
        a = x
        for k in range(c - 1):  # the encoder trunk
            a = activate(*acts[k], a @ self.W(k).t() + self.layers[k].bias)
            H.append(a)
        mu = a @ self.mu.weight.t() + self.mu.bias  # the heads: identity (the engine requires it)
        logvar = a @ self.logvar.weight.t() + self.logvar.bias
        if eps is None:
            seed = evaluation_seed(vae["seed"], 0) if noise_seed is None else noise_seed
            eps = normal_matrix(seed, x.shape[0], mu.shape[1], row_offset).to(device=x.device, dtype=x.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps  # reparameterization (AEVB 2.4)
        Z, A = [], []
        a = z
        for k in range(c, len(acts)):  # the decoder
            zk = a @ self.W(k).t() + self.layers[k].bias
            a = activate(*acts[k], zk)
            Z.append(zk)
            A.append(a)
        if all_layers:
            return {"mu": mu, "logvar": logvar, "z": z, "output": a, "Z": Z, "A": A, "H": H, "eps": eps}
        return mu, logvar, z, a

    def encode(self, x, layer=2):
        if self.net["vae"]:
            raise ValueError("a VAE's encode is forward(x)[:2] (mu, logvar)")
        if not 2 <= layer <= len(self.net["layers"]):
            raise ValueError(f"layer {layer} does not exist; layers are numbered 2 ... {len(self.net['layers'])}")
        return self.forward(x, all_layers=True)[1][layer - 2]

    def code_layer(self):
        """The layer exported as an autoencoder's code: the middle layer, ceil(L/2)."""
        return (len(self.net["layers"]) + 1) // 2


def unwrap(module):
    """The Net inside a DistributedDataParallel (or any .module) wrapper."""
    return module.module if hasattr(module, "module") and not isinstance(module, Net) else module


# ---------------------------------------------------------------------------
# The objective, exactly as cpuCost in src/cpu/network.ts.

def kl(rho, rho_hat):
    """KL(rho || rho_hat) = rho log(rho/rho_hat) + (1-rho) log((1-rho)/(1-rho_hat))."""
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def cost(module, X, Y=None, input=None, eps=None, noise_seed=None, row_offset=0):
    """J(theta; X, Y) and its parts, as this engine defines them. X: m x n1 examples;
    Y: m x nL targets (None for an autoencoder: y = x); input: the input fed forward
    when it differs from X (a denoising autoencoder's corrupted x~, see corrupt()).

    Returns (J, parts) with parts = {data, weightDecay, sparsity, l1, contractive, rhoHat}:
      data         squared: (1/m) sum_i 1/2 ||a(L) - y||^2
                   cross-entropy (sigmoid output): (1/m) sum y softplus(-z) + (1-y) softplus(z)
                   softmax-cross-entropy: -(1/m) sum_i sum_k y_k (z_k - logsumexp(z))
      weightDecay  (lambda/2) sum of W^2 over the stored matrices (no biases; tied once)
      sparsity     beta sum_j KL(rho || rho_hat_j), rho_hat = mean activation over this batch
      l1           weight (1/m) sum_i sum_j |a_j| on the listed hidden layers
      contractive  lambda_c (1/m) sum_i sum_j (h_j(1-h_j))^2 sum_k W(1)_jk^2 (first hidden layer)
    Gradients: autograd of J gives the engine's backpropagation (for softmax-cross-entropy
    with one-hot targets, or any targets whose rows sum to 1, as the engine assumes).
    A VAE: see vae_cost (eps, noise_seed, row_offset choose its eps)."""
    net = unwrap(module)
    s = net.net
    if s["vae"]:
        return vae_cost(module, X, Y, input, eps, noise_seed, row_offset)
    T = X if Y is None else Y
    if Y is None and not s["autoencoder"]:
        raise ValueError("Y is required: the network is not an autoencoder")
    m = X.shape[0]
    Z, A = module(X if input is None else input, all_layers=True)
    z_out, a_out = Z[-1], A[-1]
    if s["loss"] == "squared":
        data = 0.5 * ((a_out - T) ** 2).sum() / m
    elif s["loss"] == "cross-entropy":
        data = (T * softplus(-z_out) + (1 - T) * softplus(z_out)).sum() / m
    elif s["loss"] == "softmax-cross-entropy":
        data = -(T * (z_out - torch.logsumexp(z_out, dim=1, keepdim=True))).sum() / m
    else:
        raise ValueError(f"unknown loss {s['loss']!r}")
    zero = torch.zeros((), dtype=X.dtype)
    weight_decay = zero
    if s["lambda"]:
        weight_decay = (s["lambda"] / 2) * sum((l.weight ** 2).sum() for l in net.layers if l.weight is not None)
    rho_hat = [a.mean(dim=0) for a in A[:-1]]
    sparsity = zero
    if s["sparsity"]:
        for k, on in enumerate(s["sparsity"]["on"][:-1]):
            if on:
                sparsity = sparsity + s["sparsity"]["beta"] * kl(s["sparsity"]["rho"], rho_hat[k]).sum()
    l1 = zero
    if s["l1"]:
        for k, on in enumerate(s["l1"]["on"][:-1]):
            if on:
                l1 = l1 + s["l1"]["weight"] * A[k].abs().sum() / m
    contractive = zero
    if s["contractive"]:
        h = A[0]
        slope_sq = ((h * (1 - h)) ** 2).mean(dim=0)  # q_j
        row_sq = (net.W(0) ** 2).sum(dim=1)  # S_j
        contractive = s["contractive"]["weight"] * (slope_sq * row_sq).sum()
    J = data + weight_decay + sparsity + l1 + contractive
    parts = {"data": data, "weightDecay": weight_decay, "sparsity": sparsity, "l1": l1,
             "contractive": contractive, "rhoHat": rho_hat}
    return J, parts


def _weight_decay(net, dtype):
    """(lambda/2) sum of W^2 over the stored matrices (a VAE's two heads included; no biases)."""
    if not net.net["lambda"]:
        return torch.zeros((), dtype=dtype)
    weights = [p for ps in net.slot_params() for p in ps if p.dim() == 2]
    return (net.net["lambda"] / 2) * sum((W ** 2).sum() for W in weights)


def vae_cost(module, X, Y=None, input=None, eps=None, noise_seed=None, row_offset=0):
    """A VAE's J and parts, exactly as cpuVaeCost in src/cpu/vae.ts, eps held fixed:
      data         (1/m) sum_i -log p(x|z): Bernoulli sum x softplus(-zeta) + (1-x) softplus(zeta)
                   (zeta the output logits), Gaussian 1/2 ||x^ - x||^2 (the constant left out)
      kl           (1/m) sum_i -1/2 sum_j (1 + logvar - mu^2 - exp(logvar)), unweighted
      weightDecay  (lambda/2) sum W^2 (both heads included)
    J = data + beta kl + weightDecay; parts also hold sparsity, l1, contractive = 0 and
    rhoHat (the trunk's activations, z for the latent layer, the decoder's). input: the
    encoder's input when it differs from X (a denoising VAE's x~). eps: m x d; default
    normal_matrix(noise_seed, m, d, row_offset), noise_seed by default evaluation_seed(seed, 0)."""
    net = unwrap(module)
    s = net.net
    if Y is not None and Y is not X:
        raise ValueError("a VAE is an autoencoder and takes no targets (y = x)")
    m = X.shape[0]
    f = module(X if input is None else input, all_layers=True, eps=eps, noise_seed=noise_seed, row_offset=row_offset)
    z_out, a_out = f["Z"][-1], f["A"][-1]
    if s["loss"] == "cross-entropy":
        data = (X * softplus(-z_out) + (1 - X) * softplus(z_out)).sum() / m
    elif s["loss"] == "squared":
        data = 0.5 * ((a_out - X) ** 2).sum() / m
    else:
        raise ValueError(f"a VAE's loss is cross-entropy or squared, got {s['loss']!r}")
    mu, logvar = f["mu"], f["logvar"]
    kl_mean = -0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar)).sum() / m
    weight_decay = _weight_decay(net, X.dtype)
    zero = torch.zeros((), dtype=X.dtype)
    J = data + s["vae"]["beta"] * kl_mean + weight_decay
    rho_hat = [a.mean(dim=0) for a in f["H"] + [f["z"]] + f["A"][:-1]]
    parts = {"data": data, "weightDecay": weight_decay, "sparsity": zero, "l1": zero,
             "contractive": zero, "kl": kl_mean, "rhoHat": rho_hat}
    return J, parts


# ---------------------------------------------------------------------------
# Denoising: the engine's counter-based corruption (src/noise.ts), bit for bit.

_M32 = 0xFFFFFFFF


def _pcg(v):
    s = (v * 747796405 + 2891336453) & _M32
    w = (((s >> ((s >> 28) + 4)) ^ s) * 277803737) & _M32
    return (w >> 22) ^ w


def _noise_uniform(seed, index, stream):
    """Uniform in [0, 1) on a grid of 2^-24, for int64 tensor `index` (mod 2^32)."""
    key = _pcg(torch.tensor((seed ^ ((stream * 0x9E3779B9) & _M32)) & _M32, dtype=torch.int64))
    u = _pcg((key + (index & _M32)) & _M32)
    return (u >> 8).to(torch.float64) / 16777216.0


def _f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def corrupt(X, corruption, seed, row_offset=0):
    """The corrupted copy of X that the engine's corruptMatrix(X, corruption, seed,
    row_offset) gives: mask (u0 < nu: 0), gaussian (x + sigma sqrt(-2 ln(1-u0)) cos(2 pi u1)),
    salt-pepper (u0 < nu: u1 < 1/2 ? low : high). Element (r, c) uses the global index
    (row_offset + r) * cols + c, so each row's noise does not depend on the batch."""
    rows, cols = X.shape
    index = torch.arange(rows * cols, dtype=torch.int64).reshape(rows, cols) + row_offset * cols
    u0 = _noise_uniform(seed, index, 0).to(X.dtype)
    kind, level = corruption["kind"], float(corruption["level"])
    if kind == "mask":
        return torch.where(u0 < _f32(level), torch.zeros_like(X), X)
    u1 = _noise_uniform(seed, index, 1).to(X.dtype)
    if kind == "gaussian":
        return X + level * torch.sqrt(-2 * torch.log(1 - u0)) * torch.cos(2 * math.pi * u1)
    if kind == "salt-pepper":
        low, high = float(corruption.get("low", 0)), float(corruption.get("high", 1))
        pick = torch.where(u1 < 0.5, torch.full_like(X, low), torch.full_like(X, high))
        return torch.where(u0 < _f32(level), pick, X)
    raise ValueError(f"unknown corruption kind {kind!r}")


NORMAL_STREAM = 2  # noise.ts: a VAE's eps uses streams 2 and 3; corruption 0 and 1


def normal_matrix(seed, rows, d, row_offset=0):
    """rows x d standard normals, the engine's normalMatrix (noise.ts noiseNormal):
    eps = sqrt(-2 ln(1 - u0)) cos(2 pi u1), u0, u1 from streams 2 and 3, element (r, j)
    at global index (row_offset + r) * d + j (mod 2^32), so rows do not depend on the batch."""
    index = torch.arange(rows * d, dtype=torch.int64).reshape(rows, d) + row_offset * d
    u0 = _noise_uniform(seed, index, NORMAL_STREAM)
    u1 = _noise_uniform(seed, index, NORMAL_STREAM + 1)
    return torch.sqrt(-2 * torch.log(1 - u0)) * torch.cos(2 * math.pi * u1)


def evaluation_seed(seed, n):
    """The noise seed of training evaluation n under a corruption seed (noise.ts evaluationSeed)."""
    key = _pcg(torch.tensor((seed ^ ((0x5EED * 0x9E3779B9) & _M32)) & _M32, dtype=torch.int64))
    return int(_pcg((key + (n & _M32)) & _M32))


# ---------------------------------------------------------------------------
# Preprocessing saved with the model: whitening (src/data/whitening.ts).

def _f64_base64(s):
    import base64
    raw = bytearray(base64.b64decode(s))
    return torch.frombuffer(raw, dtype=torch.float64) if raw else torch.zeros(0, dtype=torch.float64)


def whiten(module, X):
    """Applies the whitening saved with the model (if any) to raw examples X:
    ZCA: (x - mu) U diag(1/sqrt(S+eps)) U^T; PCA: the first k of (x - mu) U diag(1/sqrt(S+eps))."""
    pre = unwrap(module).preprocessing
    w = (pre or {}).get("whitening") if isinstance(pre, dict) else None
    if not w:
        return X
    n, k, eps = int(w["n"]), int(w["k"]), float(w["epsilon"])
    mean = _f64_base64(w["mean"])
    U = _f64_base64(w["U"]).reshape(n, n)
    S = _f64_base64(w["S"])
    scale = 1 / torch.sqrt(S + eps)
    rot = (X.to(torch.float64) - mean) @ U  # x_rot
    if w["kind"] == "zca":
        return ((rot * scale) @ U.t()).to(X.dtype)
    return (rot[:, :k] * scale[:k]).to(X.dtype)


# ---------------------------------------------------------------------------
# safetensors files, without the safetensors package.

_DTYPES = {"F64": torch.float64, "F32": torch.float32}
_NAMES = {torch.float64: "F64", torch.float32: "F32"}


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file (F32 and F64 tensors)."""
    if sys.byteorder != "little":
        raise RuntimeError("safetensors files are little-endian; this reader needs a little-endian machine")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path} is {len(data)} bytes long: too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} does not fit in {len(data)} bytes")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    body = data[8 + n:]
    for name, e in header.items():
        if e["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {e['dtype']}; only F32 and F64 are supported")
        b, end = e["data_offsets"]
        buf = bytearray(body[b:end])
        t = torch.frombuffer(buf, dtype=_DTYPES[e["dtype"]]) if buf else torch.zeros(0, dtype=_DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> CPU tensor, F32/F64) and string metadata, atomically."""
    import os
    if sys.byteorder != "little":
        raise RuntimeError("safetensors files are little-endian; this writer needs a little-endian machine")
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    chunks, off = [], 0
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        nbytes = t.numel() * t.element_size()
        chunks.append(ctypes.string_at(t.data_ptr(), nbytes) if nbytes else b"")
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + nbytes]}
        off += nbytes
    head = json.dumps(header, separators=(",", ":"))
    head += " " * ((8 - (8 + len(head.encode("utf-8"))) % 8) % 8)  # data 8-byte aligned
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head.encode("utf-8"))))
        f.write(head.encode("utf-8"))
        for c in chunks:
            f.write(c)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path, dtype=torch.float64):
    """A Net from a webgpu-nn model file (W1, b1, ... with the spec in the metadata) or
    from a state_dict saved as safetensors (layers.K.weight, layers.K.bias) whose
    metadata holds the spec (or with SPEC set in this file)."""
    tensors, meta = read_safetensors(path)
    spec = json.loads(meta["spec"]) if "spec" in meta else SPEC
    if spec is None:
        raise ValueError(f"{path} holds no spec in its metadata, and this model.py has none")
    pre = json.loads(meta["preprocessing"]) if "preprocessing" in meta else None
    net = Net(spec, pre, dtype=dtype)
    engine = meta.get("format") == MODEL_FORMAT
    with torch.no_grad():
        for key, p in tensor_names(net, engine):
            if key not in tensors:
                raise ValueError(f"{path}: tensor {key} is missing")
            if list(tensors[key].shape) != list(p.shape):
                raise ValueError(f"{path}: tensor {key} should have shape {list(p.shape)}, found {list(tensors[key].shape)}")
            p.copy_(tensors[key].to(dtype))
    net.metadata = {k: v for k, v in meta.items() if k not in ("format", "spec", "preprocessing")}
    # The file's own JSON text, written back verbatim by save() while spec and
    # preprocessing are unchanged (the engine checks the metadata byte for byte).
    net.metadata_json = {"spec": meta.get("spec"), "preprocessing": meta.get("preprocessing")}
    return net


def tensor_names(net, engine=True):
    """(name, parameter) pairs in theta order: the engine's names (W1, b1, ...; a VAE's
    head W<c>_mu, W<c>_logvar, b<c>_mu, b<c>_logvar) or the state_dict's (layers.K.weight,
    layers.K.bias; mu.weight, logvar.weight, mu.bias, logvar.bias)."""
    out = []
    for k, ps in enumerate(net.slot_params()):
        l = k + 1
        if len(ps) == 4:
            names = ([f"W{l}_mu", f"W{l}_logvar", f"b{l}_mu", f"b{l}_logvar"] if engine
                     else ["mu.weight", "logvar.weight", "mu.bias", "logvar.bias"])
        elif len(ps) == 2:
            names = [f"W{l}", f"b{l}"] if engine else [f"layers.{k}.weight", f"layers.{k}.bias"]
        else:
            names = [f"b{l}"] if engine else [f"layers.{k}.bias"]
        out.extend(zip(names, ps))
    return out


def _json_text(net, key, value):
    """JSON of value as the engine writes it (JSON.stringify: no spaces, no ASCII escapes):
    the loaded file's own text when value is unchanged, else compact json.dumps."""
    raw = (getattr(net, "metadata_json", None) or {}).get(key)
    if raw is not None and json.loads(raw) == value:
        return raw
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def save(module, path, dtype=torch.float64):
    """Writes the engine's model file: W1, b1, ... (tied decoders: b only; a VAE's heads
    W<c>_mu, W<c>_logvar, b<c>_mu, b<c>_logvar), row-major, with format, spec and
    preprocessing in the metadata (other metadata kept)."""
    net = unwrap(module)
    tensors = {name: p.detach().to(dtype) for name, p in tensor_names(net)}
    meta = dict(getattr(net, "metadata", {}) or {})
    meta.update({"format": MODEL_FORMAT, "spec": _json_text(net, "spec", net.spec),
                 "preprocessing": _json_text(net, "preprocessing", net.preprocessing)})
    write_safetensors(path, tensors, meta)


def theta(module):
    """The engine's flat parameter vector: W(1), b(1), W(2), b(2), ... (tied: biases only)."""
    net = unwrap(module)
    return torch.cat([p.reshape(-1) for ps in net.slot_params() for p in ps])


def grad_theta(module):
    """The gradients of theta(module)'s entries, in the same order."""
    net = unwrap(module)
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for ps in net.slot_params() for p in ps])


def build(dtype=torch.float64):
    """A zero-initialized Net of SPEC (the network this package was exported for)."""
    if SPEC is None:
        raise ValueError("this model.py was written without a spec; use load(path)")
    return Net(SPEC, dtype=dtype)
