#!/usr/bin/python3
"""The PyTorch side of `effv2vk bench data`: torchvision's ImageFolder + DataLoader on the
same files, the same transform (RandomResizedCrop + horizontal flip [+ RandAugment with 2
ops of magnitude M], uint8 CHW tensors, no normalization), batch size, shuffling and number
of worker processes, timed from the DataLoader's creation to its last batch. Run it with
/usr/bin/python3 (Debian's torch/torchvision). Prints one line, or one JSON object with --json.

    /usr/bin/python3 scripts/bench_data_torch.py --data DIR [--image-size 224] [--randaugment M] [--workers 2]
"""
import argparse
import json
import time

import torch
import torchvision
from torchvision import transforms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--randaugment", type=float, default=0, help="magnitude, 2 ops (0: off)")
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    steps = [transforms.RandomResizedCrop(args.image_size), transforms.RandomHorizontalFlip()]
    if args.randaugment > 0:
        # torchvision's magnitude runs over 0..num_magnitude_bins-1; 31 bins make it 0..30 as effv2vk's.
        steps.append(transforms.RandAugment(num_ops=2, magnitude=int(round(args.randaugment)), num_magnitude_bins=31))
    steps.append(transforms.PILToTensor())
    ds = torchvision.datasets.ImageFolder(args.data, transform=transforms.Compose(steps))
    torch.manual_seed(1)
    images = batches = 0
    start = time.perf_counter()
    for _ in range(args.epochs):
        loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
        for x, _ in loader:
            images += x.shape[0]
            batches += 1
    seconds = time.perf_counter() - start
    r = {"data": args.data, "files": len(ds), "image_size": args.image_size, "batch_size": args.batch_size,
         "workers": args.workers, "randaugment_magnitude": args.randaugment, "torch": torch.__version__,
         "torchvision": torchvision.__version__, "images": images, "batches": batches, "seconds": seconds,
         "images_per_sec": images / seconds}
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print("%d images at %dpx, batch %d, %d workers, RandAugment %s: %.1f s, %.1f img/s" % (
            images, args.image_size, args.batch_size, args.workers,
            "off" if args.randaugment <= 0 else "2 ops, magnitude %g" % args.randaugment, seconds, images / seconds))


if __name__ == "__main__":
    main()
