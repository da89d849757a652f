#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has Python torch with CUDA but maybe
# no Node: the Node binary and the N-API headers (.gpu/node.tar.xz), and the workspace's
# node_modules pruned to what the tests and the benchmark load (.gpu/node_modules.tar.xz).
# Keep .gpu/ out of git (.git/info/exclude) and carry it with the work tree; the work tree plus
# .gpu/ must stay under 64 MiB. Run from anywhere: bash packages/backend-torch/scripts/pack-for-gpu.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="$root/.gpu"
mkdir -p "$out"
node_bin="$(command -v node)"
nodedir="$(cd "$(dirname "$(readlink -f "$node_bin")")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Node: the binary and the five headers an N-API addon compiles against
mkdir -p "$tmp/node/bin" "$tmp/node/include/node"
cp "$(readlink -f "$node_bin")" "$tmp/node/bin/node"
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do cp "$nodedir/include/node/$h" "$tmp/node/include/node/"; done
tar -C "$tmp" -cJf "$out/node.tar.xz" node

# node_modules: drop what the backend tests and bench never load (types, compilers, browser
# bundles, source maps, unrelated native binaries)
cd "$root"
tar -cf - --exclude='*.map' --exclude='*.d.ts' --exclude='*.md' --exclude='*.min.js' \
  --exclude='node_modules/.pnpm/typescript@*' --exclude='node_modules/.pnpm/playwright*' \
  --exclude='node_modules/.pnpm/@ffmpeg-installer*' --exclude='node_modules/.pnpm/@vladmandic*' \
  --exclude='node_modules/.pnpm/core-js@*' --exclude='node_modules/.pnpm/@img+sharp-libvips*' \
  --exclude='node_modules/.pnpm/@types+*' \
  --exclude='*/tfjs/dist/tf.js' --exclude='*/tfjs/dist/tf.es2017.js' --exclude='*/tfjs/dist/tf.fesm.js' \
  --exclude='*/tfjs-*/dist/tf-*.js' --exclude='*/tfjs-*/dist/tf-*.fesm.js' --exclude='*/tfjs-*/dist/tf-*.es2017.js' \
  node_modules packages/*/node_modules examples/*/node_modules 2>/dev/null \
  | xz -T0 -9 > "$out/node_modules.tar.xz"
ls -la "$out"
du -sh "$out"
