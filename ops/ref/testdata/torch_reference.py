"""PyTorch float64 reference for package ops/ref (run by torch_test.go).

Reads {"cases": [...]} as JSON from stdin and writes {"results": [...]} to
stdout, one result per case: a dict of output name -> flat list of float64.
Every case names its op; the fields each op reads are listed in its function.
Regenerate nothing: the Go test builds the inputs and compares on the fly.
"""
import json
import sys

import torch
import torch.nn.functional as F

D = torch.float64


def tensor(values, shape=None, grad=False):
    t = torch.tensor(values, dtype=D)
    if shape is not None:
        t = t.reshape(shape)
    return t.requires_grad_(grad)


def flat(t):
    return t.detach().reshape(-1).tolist()


def conv(case, depthwise):
    n, c, h, w = case["xs"]
    k, s = case["k"], case["stride"]
    oc = c if depthwise else case["oc"]
    x = tensor(case["x"], (n, c, h, w), grad=True)
    wt = tensor(case["w"], (oc, 1 if depthwise else c, k, k), grad=True)
    y = F.conv2d(x, wt, stride=s, padding=(k - 1) // 2, groups=c if depthwise else 1)
    y.backward(tensor(case["dy"], y.shape))
    return {"y": flat(y), "ys": list(y.shape), "dx": flat(x.grad), "dw": flat(wt.grad)}


def batch_norm(case):
    n, c, h, w = case["xs"]
    x = tensor(case["x"], (n, c, h, w), grad=True)
    gamma = tensor(case["gamma"], grad=True)
    beta = tensor(case["beta"], grad=True)
    run_mean, run_var = tensor(case["run_mean"]), tensor(case["run_var"])
    eps, momentum = case["eps"], case["momentum"]
    y = F.batch_norm(x, run_mean, run_var, gamma, beta, training=True, momentum=momentum, eps=eps)
    y.backward(tensor(case["dy"], y.shape))
    with torch.no_grad():
        y_eval = F.batch_norm(x, run_mean, run_var, gamma, beta, training=False, eps=eps)
    return {"y": flat(y), "dx": flat(x.grad), "dgamma": flat(gamma.grad), "dbeta": flat(beta.grad),
            "run_mean": flat(run_mean), "run_var": flat(run_var), "y_eval": flat(y_eval)}


def resize(case):
    x = tensor(case["x"], case["xs"])
    y = F.interpolate(x, size=(case["out_h"], case["out_w"]), mode="bilinear", align_corners=False)
    return {"y": flat(y)}


def prepare_input(case):
    n, h, w, c = case["n"], case["h"], case["w"], case["c"]
    img = torch.tensor(case["src"], dtype=torch.uint8).reshape(n, h, w, c).permute(0, 3, 1, 2).to(D) / 255
    if c == 1:
        img = img.expand(n, 3, h, w)
    # Resize first, then normalize: the other order from ref.PrepareInput,
    # which the Go doc claims gives the same values up to rounding.
    img = F.interpolate(img, size=(case["out_h"], case["out_w"]), mode="bilinear", align_corners=False)
    mean = tensor(case["mean"]).reshape(1, 3, 1, 1)
    std = tensor(case["std"]).reshape(1, 3, 1, 1)
    return {"y": flat((img - mean) / std)}


def cross_entropy(case):
    n, k = case["n"], case["k"]
    logits = tensor(case["logits"], (n, k), grad=True)
    if "labels" in case:
        loss = F.cross_entropy(logits, torch.tensor(case["labels"]), label_smoothing=case["smoothing"])
    else:
        loss = F.cross_entropy(logits, tensor(case["soft"], (n, k)))
    loss.backward()
    return {"loss": [loss.item()], "dlogits": flat(logits.grad)}


def elementwise(case, fn):
    x = tensor(case["x"], grad=True)
    y = fn(x)
    y.backward(tensor(case["dy"]))
    return {"y": flat(y), "dx": flat(x.grad)}


def linear(case):
    n, i, o = case["n"], case["in"], case["out"]
    x = tensor(case["x"], (n, i), grad=True)
    w = tensor(case["w"], (o, i), grad=True)
    b = tensor(case["b"], grad=True)
    y = F.linear(x, w, b)
    y.backward(tensor(case["dy"], (n, o)))
    return {"y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad)}


OPS = {
    "conv2d": lambda c: conv(c, depthwise=False),
    "depthwise": lambda c: conv(c, depthwise=True),
    "batch_norm": batch_norm,
    "resize": resize,
    "prepare_input": prepare_input,
    "cross_entropy": cross_entropy,
    "silu": lambda c: elementwise(c, F.silu),
    "sigmoid": lambda c: elementwise(c, torch.sigmoid),
    "linear": linear,
}


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump({"torch": torch.__version__, "results": [OPS[c["op"]](c) for c in cases]}, sys.stdout)


if __name__ == "__main__":
    main()
