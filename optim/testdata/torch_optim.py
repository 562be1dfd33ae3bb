"""Independent float64 references for package optim (run by torch_test.go).

Reads {"requests": [...]} as JSON from stdin, each request
  {"optimizer": "sgd" | "adamw" | "rmsprop_tf", "config": {...},
   "params": [group0 values, group1 values, ...], "weight_decay": [per group],
   "lrs": [per step], "grads": [step][group][values]}
and writes {"torch": version, "results": [per request: [per step:
{"params": [per group], "state": {slot: [per group]}}]]} to stdout: the
parameters and the state after every step, in float64.

SGD (momentum, Nesterov) and AdamW are torch.optim's own classes. TF-style
RMSProp has no torch.optim twin (torch.optim.RMSprop adds eps outside the
square root and starts the square average at 0), so it is written here from
the optimizer of the official EfficientNetV2 code: google/automl
efficientnetv2/utils.py, build_optimizer():

    optimizer = tf.train.RMSPropOptimizer(learning_rate, decay, momentum, epsilon)

with decay=0.9, epsilon=0.001, momentum=0.9, and TensorFlow 1's
ApplyRMSProp, as its documentation states it:

    ms  <- rho * ms_{t-1} + (1 - rho) * grad * grad
    mom <- momentum * mom_{t-1} + lr * grad / sqrt(ms + epsilon)
    var <- var - mom

where rho is `decay`, and tf.train.RMSPropOptimizer creates the "rms" slot
(ms) with ones and the "momentum" slot with zeros. The official code adds
weight decay to the loss as weight_decay * sum(l2_loss(v)), so the gradient
the optimizer sees is grad + weight_decay * var.
"""
import json
import sys

import torch

D = torch.float64


def torch_optimizer(req, params):
    cfg = req["config"]
    groups = [{"params": [p], "weight_decay": wd} for p, wd in zip(params, req["weight_decay"])]
    if req["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=1.0, momentum=cfg["momentum"], nesterov=cfg["nesterov"], dampening=0.0)
    if req["optimizer"] == "adamw":
        return torch.optim.AdamW(groups, lr=1.0, betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"], amsgrad=False)
    raise ValueError("unknown optimizer " + req["optimizer"])


def run_torch(req):
    params = [torch.tensor(v, dtype=D, requires_grad=True) for v in req["params"]]
    opt = torch_optimizer(req, params)
    steps = []
    for lr, grads in zip(req["lrs"], req["grads"]):
        for group in opt.param_groups:
            group["lr"] = lr
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=D)
        opt.step()
        state = {}
        for p in params:
            for slot, value in opt.state[p].items():
                if slot != "step" and value is not None:
                    state.setdefault(slot, []).append(value.reshape(-1).tolist())
        steps.append({"params": [p.detach().reshape(-1).tolist() for p in params], "state": state})
    return steps


def run_rmsprop_tf(req):
    cfg = req["config"]
    rho, momentum, eps = cfg["rho"], cfg["momentum"], cfg["eps"]
    var = [torch.tensor(v, dtype=D) for v in req["params"]]
    ms = [torch.ones_like(v) for v in var]
    mom = [torch.zeros_like(v) for v in var]
    steps = []
    for lr, grads in zip(req["lrs"], req["grads"]):
        for i, wd in enumerate(req["weight_decay"]):
            grad = torch.tensor(grads[i], dtype=D) + wd * var[i]
            ms[i] = rho * ms[i] + (1 - rho) * grad * grad
            mom[i] = momentum * mom[i] + lr * grad / torch.sqrt(ms[i] + eps)
            var[i] = var[i] - mom[i]
        steps.append({"params": [v.tolist() for v in var],
                      "state": {"square_avg": [m.tolist() for m in ms], "momentum_buffer": [m.tolist() for m in mom]}})
    return steps


def main():
    results = []
    for req in json.load(sys.stdin)["requests"]:
        if req["optimizer"] == "rmsprop_tf":
            results.append(run_rmsprop_tf(req))
        else:
            results.append(run_torch(req))
    json.dump({"torch": torch.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
