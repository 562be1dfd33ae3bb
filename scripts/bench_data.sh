#!/usr/bin/env bash
# The input pipeline, effv2vk against torchvision's ImageFolder + DataLoader on
# the same folder and cores: for each image size (224, 300), RandAugment off and
# (2 ops, magnitude 15), and 1 and 2 workers, ROUNDS runs of each, alternating
# (effv2vk, torch, effv2vk, ...) so both see the same machine load; prints each
# run and a table of medians (img/s, higher is better) with the ratio.
#   DATA=/tmp/jpegs scripts/bench_data.sh   (make the folder with scripts/make_jpeg_folder.py)
set -euo pipefail
DATA=${DATA:?set DATA to an ImageFolder root (scripts/make_jpeg_folder.py writes one)}
ROUNDS=${ROUNDS:-3} SIZES=${SIZES:-"224 300"} MAGNITUDES=${MAGNITUDES:-"0 15"} WORKERS=${WORKERS:-"1 2"}
bin=${BIN:-bin/effv2vk}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
ips() { /usr/bin/python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["images_per_sec"])'; }
for size in $SIZES; do
  for m in $MAGNITUDES; do
    for w in $WORKERS; do
      for r in $(seq 1 "$ROUNDS"); do
        o=$("$bin" bench data --data "$DATA" --image-size "$size" --randaugment "$m" --workers "$w" --json | ips)
        t=$(/usr/bin/python3 scripts/bench_data_torch.py --data "$DATA" --image-size "$size" --randaugment "$m" --workers "$w" --json | ips)
        echo "size $size randaugment $m workers $w round $r: effv2vk $o img/s, torchvision $t img/s"
        echo "$size $m $w $o $t" >>"$results"
      done
    done
  done
done
/usr/bin/python3 - "$results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(lambda: ([], []))
for line in open(sys.argv[1]):
    size, m, w, o, t = line.split()
    runs[(int(size), float(m), int(w))][0].append(float(o))
    runs[(int(size), float(m), int(w))][1].append(float(t))
print("| image size | RandAugment | workers | effv2vk img/s | torchvision img/s | ratio |")
print("|---|---|---|---|---|---|")
for (size, m, w), (o, t) in sorted(runs.items()):
    mo, mt = statistics.median(o), statistics.median(t)
    ra = "off" if m == 0 else "(2, %g)" % m
    print(f"| {size} | {ra} | {w} | {mo:.0f} | {mt:.0f} | {mo/mt:.2f}x |")
PY
