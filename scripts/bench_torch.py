"""The PyTorch CPU side of `make bench`: the same configuration as
`effv2vk bench --model efficientnetv2-s` (or -m, -l), on Debian's torch (run with
/usr/bin/python3), all CPU threads (torch.set_num_threads(nproc)).

    /usr/bin/python3 scripts/bench_torch.py [--model efficientnetv2-s] [--batch-size 8] [--image-size 128] [--steps 5] [--classes 1000] [--device cpu|cuda]

--device cuda (scripts/gpu-check.sh) runs eager fp32 on the GPU instead,
synchronizing before each clock read.

Prints one JSON object: median training-step time (forward + backward +
RMSprop), median forward time (eval), and the process's resident-set growth
over the run, as the comparable of effv2vk's peak device memory.
"""
import argparse
import json
import os
import resource
import time

import torch
import torchvision.models as tvm


def rss_mib():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="efficientnetv2-s", choices=["efficientnetv2-s", "efficientnetv2-m", "efficientnetv2-l"])
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.device == "cuda":
        torch.backends.cudnn.allow_tf32 = False  # plain fp32, like effv2vk
        torch.backends.cuda.matmul.allow_tf32 = False

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    rss0 = rss_mib()
    build = {"efficientnetv2-s": tvm.efficientnet_v2_s, "efficientnetv2-m": tvm.efficientnet_v2_m, "efficientnetv2-l": tvm.efficientnet_v2_l}[a.model]
    model = build(weights=None, num_classes=a.classes).to(dev)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-4, alpha=0.9, eps=1e-3, momentum=0.9, weight_decay=1e-5)
    x = (torch.rand(a.batch_size, 3, a.image_size, a.image_size) * 2 - 1).to(dev)
    y = (torch.arange(a.batch_size) % a.classes).to(dev)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    step()
    sync()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    train_ms = 1000 * median(times)
    rss_train = rss_mib() - rss0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.eval()
    with torch.no_grad():
        model(x)
        sync()
        ft = []
        for _ in range(a.steps):
            t = time.perf_counter()
            model(x)
            sync()
            ft.append(time.perf_counter() - t)
    fwd_ms = 1000 * median(ft)
    print(json.dumps({
        "framework": (f"pytorch {torch.__version__} cuda, {torch.cuda.get_device_name()}" if a.device == "cuda"
                      else f"pytorch {torch.__version__} cpu, {torch.get_num_threads()} threads"),
        "batch": a.batch_size, "image_size": a.image_size, "steps": a.steps,
        "train_step_ms": train_ms, "train_img_per_s": a.batch_size / train_ms * 1000,
        "forward_ms": fwd_ms, "forward_img_per_s": a.batch_size / fwd_ms * 1000,
        "rss_growth_mib": rss_train, "peak_rss_mib": peak,
    }))


if __name__ == "__main__":
    main()
