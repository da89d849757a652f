#!/usr/bin/env bash
# GPU check for the torch backend. It needs:
#   - the work tree (this repository, as copied to the GPU machine), without build outputs;
#   - a Python with torch built with CUDA (torch.cuda.is_available()), a C++ compiler;
#   - Node ≥ 20 on PATH, or .gpu/node.tar.xz (the Node binary + N-API headers) and
#     .gpu/node_modules.tar.xz (the pruned node_modules), made here by scripts/pack-for-gpu.sh
#     and carried with the work tree (both together stay under ~64 MiB).
# It builds the addon against that Python torch (its bundled libtorch, torch_cuda linked), runs
# the backend's tests on cuda:0 (DFDET_TORCH_DEVICE=cuda:0: tensor round trips, kernel parity vs
# the cpu backend, fused ops, tiny CLIP vs the reference, leak test), then the CPU benchmark.
# Usage (repository root): bash packages/backend-torch/scripts/gpu-check.sh [bench args...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
pkg="$root/packages/backend-torch"
cd "$root"
export OUT="${OUT:-/tmp/gpu-check-out}"
mkdir -p "$OUT"

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  [ -f .gpu/node.tar.xz ] || { echo "no Node >= 20 and no .gpu/node.tar.xz (run scripts/pack-for-gpu.sh where Node is)"; exit 2; }
  mkdir -p /tmp/dfdet-node && tar -C /tmp/dfdet-node -xJf .gpu/node.tar.xz
  export PATH="/tmp/dfdet-node/node/bin:$PATH"
  export npm_config_nodedir=/tmp/dfdet-node/node
fi
if [ ! -d node_modules/.pnpm ]; then
  [ -f .gpu/node_modules.tar.xz ] || { echo "no node_modules and no .gpu/node_modules.tar.xz"; exit 2; }
  tar -xJf .gpu/node_modules.tar.xz
fi
echo "node $(node --version)"

python="${PYTHON:-python3}"
"$python" -c 'import torch; assert torch.cuda.is_available(), "torch has no CUDA here"; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'

# build against the Python torch (the build script tries LIBTORCH_DIR, then Python, then Debian)
rm -rf "$pkg/build"
PYTHON="$python" node "$pkg/scripts/build.mjs" | tee "$OUT/build.log"
if [ -f "$pkg/build/unavailable.txt" ]; then echo "addon build failed:"; cat "$pkg/build/unavailable.txt"; exit 1; fi
cat "$pkg/build/torch.json"
node -e "const a = require('$pkg/build/Release/dfdet_torch.node'); if (!a.info().cuda) { console.error('addon built without CUDA'); process.exit(1) }; a.setDevice('cuda:0'); console.log('cuda:0 ok')"

# tests on cuda:0
set +e
DFDET_TORCH_DEVICE=cuda:0 node node_modules/vitest/vitest.mjs run packages/backend-torch 2>&1 | tee "$OUT/tests-cuda.log"
tests=${PIPESTATUS[0]}
# benchmark (CPU engines; 16 cores there)
(cd "$pkg" && node --import tsx bench/engine.ts "$@") 2>&1 | tee "$OUT/bench.log"
bench=${PIPESTATUS[0]}
set -e
echo "tests exit $tests, bench exit $bench"
exit $(( tests || bench ))
