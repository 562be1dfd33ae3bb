#!/usr/bin/env bash
# One prepared check for a machine with a GPU (NVIDIA, AMD or Intel), meant
# to finish in under 8 minutes:
#   1. installs the Debian packages that are missing (scripts/deps.sh) and
#      checks for Go and the GPU's Vulkan driver;
#   2. builds bin/effv2vk and prints `effv2vk devices`;
#   3. runs the ops and net test suites on the GPU (validation layer on);
#   4. times `effv2vk bench` for EfficientNetV2-S at batch 32, 224x224, and
#      PyTorch (eager, fp32, no TF32) on the same GPU when a CUDA build of
#      torch is importable, and prints both and their ratio.
# Usage: scripts/gpu-check.sh [output directory, default runs/gpu-check]
# Env: EFFV2VK_DEVICE picks the device (index or name); STEPS (default 5).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/gpu-check}
mkdir -p "$out"
steps=${STEPS:-5}
start=$SECONDS
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/effv2vk-xdg-$(id -u)}
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
unset VK_DRIVER_FILES VK_ICD_FILENAMES # let the loader find the GPU's driver
status=0
step() { echo; echo "== [$((SECONDS - start)) s] $*"; }
fail() { echo "gpu-check: $*" >&2; status=1; }

step "1/4 dependencies"
if command -v apt-get >/dev/null; then
  scripts/deps.sh || fail "scripts/deps.sh failed: install the packages it names, then rerun"
fi
command -v go >/dev/null || { echo "gpu-check: Go is missing: install Go 1.26 from https://go.dev/dl into /usr/local/go, then rerun" >&2; exit 1; }
ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -v lvp_icd | grep -q json \
  || echo "gpu-check: no GPU Vulkan driver manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d (NVIDIA: the driver's nvidia_icd.json; AMD/Intel: mesa-vulkan-drivers)" >&2

step "2/4 build and devices"
go build -o bin/effv2vk ./cmd/effv2vk || { echo "gpu-check: build failed" >&2; exit 1; }
bin/effv2vk devices | tee "$out/devices.txt"
bin/effv2vk devices --json >"$out/devices.json" 2>/dev/null
if ! /usr/bin/python3 - "$out/devices.json" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
devs = d["devices"] if isinstance(d, dict) and "devices" in d else d
gpus = [x for x in devs if x.get("type") != "cpu" and x.get("supported")]
sys.exit(0 if gpus else 1)
PY
then
  echo "gpu-check: no supported GPU among the devices above: the rest would only test lavapipe; stopping" >&2
  exit 1
fi

step "3/4 ops and net suites on the GPU"
validate=0
[ -n "$(ls /usr/share/vulkan/explicit_layer.d/*validation* 2>/dev/null)" ] && validate=1
EFFV2VK_VALIDATE=$validate timeout 270 go test -count=1 -timeout 260s ./engine ./ops ./net 2>&1 | tee "$out/tests.txt" | grep -E '^(ok|FAIL|---|panic)' \
  || true
grep -q '^FAIL' "$out/tests.txt" && fail "tests failed: see $out/tests.txt"
grep -q '^ok.*effv2vk/net' "$out/tests.txt" || fail "the net suite did not finish: see $out/tests.txt"

step "4/4 EfficientNetV2-S, batch 32, 224x224: effv2vk and PyTorch on the GPU"
timeout 150 bin/effv2vk bench --model efficientnetv2-s --batch-size 32 --image-size 224 --steps "$steps" --json >"$out/effv2vk-bench.json" \
  || fail "effv2vk bench failed or ran past 150 s"
torchpy=""
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null && "$py" -c 'import torch, torchvision, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    torchpy=$py; break
  fi
done
if [ -n "$torchpy" ]; then
  timeout 150 "$torchpy" scripts/bench_torch.py --device cuda --batch-size 32 --image-size 224 --steps "$steps" >"$out/pytorch-bench.json" \
    || fail "PyTorch bench failed"
else
  echo "gpu-check: no python3 with a CUDA build of torch and torchvision: PyTorch comparison skipped" | tee "$out/pytorch-bench.txt"
fi
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    try:
        return json.load(open(p))
    except Exception:
        return None
o, t = load("effv2vk-bench.json"), load("pytorch-bench.json")
if o:
    print(f"effv2vk: {o['train_step_ms']:.1f} ms/step, {32000 / o['train_step_ms']:.1f} img/s training, "
          f"forward {o['forward_ms']:.1f} ms ({o['device']})")
if t:
    print(f"pytorch: {t['train_step_ms']:.1f} ms/step, {t['train_img_per_s']:.1f} img/s training, "
          f"forward {t['forward_ms']:.1f} ms ({t['framework']})")
if o and t:
    print(f"effv2vk trains at {t['train_step_ms'] / o['train_step_ms']:.2f}x PyTorch's speed (target: at least 0.5)")
if o and o.get("kernels"):
    print("effv2vk's top kernels of one training step (GPU timestamps):")
    print(f"  {'kernel':36s} {'count':>6s} {'total ms':>10s} {'mean us':>10s}")
    for k in o["kernels"][:25]:
        print(f"  {k['name']:36s} {k['count']:6d} {k['total_ms']:10.2f} {k['mean_us']:10.1f}")
PY

step "done in $((SECONDS - start)) s, status $status"
exit $status
