#!/usr/bin/env bash
# `make bench`: effv2vk and PyTorch CPU on the same configuration, run in
# turn (alternating, ROUNDS times) on the same cores; prints each run and the
# ratio of the medians.
set -euo pipefail
MODEL=${MODEL:-efficientnetv2-s} BATCH=${BATCH:-8} SIZE=${SIZE:-128} STEPS=${STEPS:-5} ROUNDS=${ROUNDS:-3}
bin=${BIN:-bin/effv2vk}
# Tune first (a no-op once the cache holds this configuration), so that no
# round's recording times kernels or counts the tuner's scratch memory.
if [ "${EFFV2VK_TUNE:-on}" != off ]; then
  "$bin" tune --model "$MODEL" --batch-size "$BATCH" --image-size "$SIZE" >/dev/null
fi
ours=() theirs=()
for r in $(seq 1 "$ROUNDS"); do
  o=$("$bin" bench --model "$MODEL" --batch-size "$BATCH" --image-size "$SIZE" --steps "$STEPS" --json)
  t=$(/usr/bin/python3 scripts/bench_torch.py --model "$MODEL" --batch-size "$BATCH" --image-size "$SIZE" --steps "$STEPS")
  ours+=("$(echo "$o" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["train_step_ms"])')")
  theirs+=("$(echo "$t" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["train_step_ms"])')")
  echo "round $r: effv2vk $(echo "$o" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f ms/step, forward %.0f ms, peak device memory %.0f MiB (%s)" % (d["train_step_ms"], d["forward_ms"], d["peak_device_memory_mib"], d["device"]))')"
  echo "round $r: pytorch $(echo "$t" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f ms/step, forward %.0f ms, RSS growth %.0f MiB (%s)" % (d["train_step_ms"], d["forward_ms"], d["rss_growth_mib"], d["framework"]))')"
done
/usr/bin/python3 - "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
o = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
mo, mt = statistics.median(o), statistics.median(t)
print(f"median training step: effv2vk {mo:.0f} ms, pytorch {mt:.0f} ms: effv2vk takes {mo/mt:.2f}x PyTorch's time")
PY
