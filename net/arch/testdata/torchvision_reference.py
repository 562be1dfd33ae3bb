"""Dumps torchvision's EfficientNetV2 state_dict tables for the Go tests.

Usage: /usr/bin/python3 torchvision_reference.py IMAGE_SIZE > out.json

Prints one JSON object: for efficientnet_v2_s/m/l and a torchvision
EfficientNet built from its own FusedMBConvConfig/MBConvConfig classes to
match efficientnetv2-pico (10 classes), the state_dict as [name, shape, dtype]
rows, the trainable parameter count, and (pico only) the output shape of every
features[i] and the multiply-adds of every conv and linear layer for one
IMAGE_SIZE x IMAGE_SIZE image.
"""
import json
import sys

import torch
import torchvision
from torch import nn
from torchvision.models import efficientnet as tv


def skip_init():
    """Weight init is irrelevant to names and shapes and costs seconds for L."""
    for module in (nn.Conv2d, nn.Linear, nn.BatchNorm2d):
        module.reset_parameters = lambda self: None
    noop = lambda tensor, *args, **kwargs: tensor
    for name in ("kaiming_normal_", "zeros_", "ones_", "uniform_"):
        setattr(nn.init, name, noop)


def table(model):
    rows = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in model.state_dict().items()]
    params = sum(p.numel() for p in model.parameters())
    return {"state_dict": rows, "params": params}


def pico():
    setting = [
        tv.FusedMBConvConfig(1, 3, 1, 16, 16, 1),
        tv.FusedMBConvConfig(4, 3, 2, 16, 24, 2),
        tv.MBConvConfig(4, 3, 2, 24, 48, 2),
        tv.MBConvConfig(6, 3, 1, 48, 64, 1),
    ]
    return tv.EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=256)


def pico_costs(model, size):
    """Weights are left uninitialised: only shapes and counts are read."""
    macs = []

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            macs.append(output[0].numel() * per_out)
        elif isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(count)
    shapes = []
    x = torch.zeros(1, 3, size, size)
    model.eval()
    with torch.no_grad():
        for stage in model.features:
            x = stage(x)
            shapes.append(list(x.shape[1:]))
        model.classifier(torch.flatten(model.avgpool(x), 1))
    return {"stage_shapes": shapes, "multiply_adds": sum(macs)}


def main():
    size = int(sys.argv[1])
    skip_init()
    out = {
        "torchvision": torchvision.__version__,
        "efficientnetv2-s": table(tv.efficientnet_v2_s()),
        "efficientnetv2-m": table(tv.efficientnet_v2_m()),
        "efficientnetv2-l": table(tv.efficientnet_v2_l()),
    }
    model = pico()
    out["efficientnetv2-pico"] = table(model)
    out["efficientnetv2-pico"].update(pico_costs(model, size))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
