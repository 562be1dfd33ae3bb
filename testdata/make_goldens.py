"""Makes the parity goldens of net/: a tiny EfficientNetV2 built from
torchvision's own EfficientNet, FusedMBConvConfig and MBConvConfig classes
(the shape of effv2vk's efficientnetv2-pico: fused e1 and e4, MBConv with SE,
residual, stride 2), with random weights and random BN running statistics.

Run with Debian's torch (not the pyenv python3 on PATH):
    /usr/bin/python3 testdata/make_goldens.py [--model pico|s|m|l] [--batch 4] [--size 32] [--out DIR]

Writes DIR/<model>-weights.safetensors (the state_dict, torchvision names) and
DIR/<model>-io.safetensors with:
    input [N,3,S,S], labels [N] int64,
    eval_logits [N,K] (model.eval()),
    train_logits [N,K], loss [1], grad/<param> for every trainable parameter
        (BN in train mode with batch statistics; dropout and stochastic depth
        off, as `effv2vk infer --mode train` does),
    running/<name> the BN running statistics after that train-mode forward.
Only struct, json, numpy and torch are used (no safetensors package).
"""
import argparse
import json
import struct
import sys
from functools import partial

import numpy as np
import torch
import torchvision.models.efficientnet as tv
from torch import nn


def pico(classes):
    setting = [
        tv.FusedMBConvConfig(1, 3, 1, 16, 16, 1),
        tv.FusedMBConvConfig(4, 3, 2, 16, 24, 2),
        tv.MBConvConfig(4, 3, 2, 24, 48, 2),
        tv.MBConvConfig(6, 3, 1, 48, 64, 1),
    ]
    return tv.EfficientNet(setting, dropout=0.2, num_classes=classes, last_channel=256,
                           norm_layer=partial(nn.BatchNorm2d, eps=1e-3))


def build(name, classes):
    if name == "pico":
        return pico(classes)
    if name == "s":
        return tv.efficientnet_v2_s(weights=None, num_classes=classes)
    if name == "m":
        return tv.efficientnet_v2_m(weights=None, num_classes=classes)
    if name == "l":
        return tv.efficientnet_v2_l(weights=None, num_classes=classes)
    raise SystemExit("unknown model " + name)


DTYPES = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.array(tensors[name], order="C")  # ascontiguousarray would make 0-d arrays 1-d
        if a.dtype == np.float64:
            a = a.astype("<f4")
        raw = a.tobytes()
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="pico")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="testdata/golden")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    model = build(a.model, a.classes).double()
    # Random running statistics, so eval mode tests them.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
            m.num_batches_tracked.fill_(3)
    # Round every parameter to float32 first, so both sides start equal.
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.float().double())
    state = {k: (v.float().numpy() if v.is_floating_point() else v.numpy().astype("<i8")) for k, v in model.state_dict().items()}
    write_safetensors(f"{a.out}/{a.model}-weights.safetensors", state)

    x = torch.randn(a.batch, 3, a.size, a.size, dtype=torch.float64).float().double()
    labels = torch.randint(0, a.classes, (a.batch,))
    io = {"input": x.float().numpy(), "labels": labels.numpy().astype("<i8")}

    model.eval()
    with torch.no_grad():
        io["eval_logits"] = model(x).float().numpy()

    # Train mode for BN only: dropout and stochastic depth stay off.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.train()
    model.zero_grad()
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    io["train_logits"] = logits.detach().float().numpy()
    io["loss"] = np.array([loss.item()], "<f4")
    for name, p in model.named_parameters():
        io["grad/" + name] = p.grad.float().numpy()
    for name, b in model.named_buffers():
        if b.is_floating_point():
            io["running/" + name] = b.float().numpy()
    write_safetensors(f"{a.out}/{a.model}-io.safetensors", io)
    print(f"wrote {a.out}/{a.model}-weights.safetensors and {a.model}-io.safetensors: loss {loss.item():.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
