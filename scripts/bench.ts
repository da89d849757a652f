/**
 * Benchmarks (not tests): `pnpm bench forward [--models ViT-B/16,ViT-L/14] [--backends wasm,cpu] [--repeats 3]`
 * times the CLIP vision tower forward pass per backend and, side by side, the same network in
 * PyTorch eager (Debian's python3-torch, scripts/bench/torch_clip.py) when it is installed.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildRegistry, selectEngine, tf } from '@dfdet/core';
import { CLIP_PRESETS, ClipVisionModel, defaultInit } from '@dfdet/models';

const PY = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function torchReference(preset: string, batch: number, mode: string, repeats: number): number | undefined {
  try {
    const out = execFileSync(PY, [join(HERE, 'bench/torch_clip.py'), preset, String(batch), mode, String(repeats), String(cpus().length)], {
      env: { ...process.env, OMP_WAIT_POLICY: 'passive' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return median(JSON.parse(out.toString()).seconds as number[]);
  } catch {
    return undefined;
  }
}

async function forward(args: { models: string[]; backends: string[]; repeats: number; batch: number }) {
  const registry = await buildRegistry([]);
  const rows: string[] = [];
  for (const preset of args.models) {
    const torchS = torchReference(preset, args.batch, 'forward', args.repeats);
    for (const backend of args.backends) {
      await selectEngine(registry, { backend, device: 'cpu' });
      const cfg = { ...CLIP_PRESETS[preset]!, projection_dim: 0 };
      const model = new ClipVisionModel(cfg, defaultInit(0));
      const px = tf.randomNormal([args.batch, 3, cfg.image_size, cfg.image_size]) as tf.Tensor4D;
      const run = () => tf.tidy(() => model.forward(px).poolerOutput.dataSync());
      run();
      const times: number[] = [];
      for (let i = 0; i < args.repeats; i++) {
        const t0 = performance.now();
        run();
        times.push((performance.now() - t0) / 1000);
      }
      const s = median(times) / args.batch;
      const ratio = torchS ? (s / (torchS / args.batch)).toFixed(1) : 'n/a';
      const row = `| ${preset} | ${backend} | ${args.batch} | ${s.toFixed(3)} | ${torchS ? (torchS / args.batch).toFixed(3) : 'n/a'} | ${ratio}× |`;
      console.log(row);
      rows.push(row);
      px.dispose();
      model.dispose();
    }
  }
  console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log('| model | backend | batch | s / image | PyTorch eager s / image | ratio |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await yargs(hideBin(process.argv))
  .command(
    'forward',
    'CLIP vision tower forward pass per backend, beside PyTorch eager',
    (y) =>
      y
        .option('models', { type: 'string', default: 'ViT-B/16,ViT-L/14' })
        .option('backends', { type: 'string', default: 'wasm' })
        .option('repeats', { type: 'number', default: 3 })
        .option('batch', { type: 'number', default: 1 }),
    (a) => forward({ models: a.models.split(','), backends: a.backends.split(','), repeats: a.repeats, batch: a.batch }),
  )
  .demandCommand(1)
  .strict()
  .parseAsync();
