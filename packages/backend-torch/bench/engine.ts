/**
 * Engine benchmark: CLIP ViT forward and one LN-tuning AdamW step, on the torch backend (the
 * models' per-op code, and with the fused ops), on wasm, and PyTorch eager
 * (scripts/bench/torch_clip.py, same architecture, random weights). Prints a markdown table of
 * per-image times and ratios to PyTorch. Times are the best of the repeats, and PyTorch runs
 * before and after the tfjs engines (best of both): on a shared machine, contention only ever
 * adds time, so the minimum is the stable statistic.
 *
 *   pnpm --filter @dfdet/backend-torch bench [-- --only torch] [--repeats 3] [--cases ViT-B/16:8,ViT-L/14:2]
 *
 * Options: --cases preset:batch,... (default ViT-B/16:8,ViT-L/14:2); --repeats N (torch, PyTorch;
 * default 3); --wasm-repeats N (default 1); --rounds N (interleaved rounds, default 1); --threads N (default: all cores);
 * --only a,b (of pytorch, torch, fused, wasm); --modes forward,ln-step.
 * PyTorch runs as /usr/bin/python3 (or $PYTHON) with OMP_WAIT_POLICY=passive.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { tf, wasmEngine } from '@dfdet/core';
import { CLIP_PRESETS, ClipVisionModel, defaultInit } from '@dfdet/models';
import { getNumThreads, loadAddon, physicalCores, useTorchBackend } from '../src/index.js';
import { useFusedOps } from './fused-model.js';
import { forward, lnTuning } from './steps.js';

type Mode = 'forward' | 'ln-step';
type Engine = 'pytorch' | 'torch' | 'fused' | 'wasm';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const cases = arg('cases', 'ViT-B/16:8,ViT-L/14:2').split(',').map((c) => {
  const [preset, batch] = c.split(':');
  if (!CLIP_PRESETS[preset!]) throw new Error(`unknown preset ${preset}`);
  return { preset: preset!, batch: Number(batch ?? 1) };
});
const repeats = Number(arg('repeats', '3'));
const wasmRepeats = Number(arg('wasm-repeats', '1'));
/** Rounds of PyTorch → torch → fused before the last PyTorch and wasm; each engine's best counts. */
const rounds = Number(arg('rounds', '1'));
const threads = Number(arg('threads', String(cpus().length)));
const only = new Set(arg('only', 'pytorch,torch,fused,wasm').split(',') as Engine[]);
const modes = arg('modes', 'forward,ln-step').split(',') as Mode[];
const python = process.env.PYTHON ?? '/usr/bin/python3';
const blasThreads = Number(process.env.DFDET_TORCH_BLAS_THREADS) || Math.min(threads, physicalCores());
const TORCH_CLIP = resolve(import.meta.dirname, '../../../scripts/bench/torch_clip.py');

const best = (xs: number[]) => Math.min(...xs);
const log = (s: string) => process.stderr.write(`${s}\n`);

function pytorch(preset: string, batch: number, mode: Mode): number {
  const r = spawnSync(python, [TORCH_CLIP, preset, String(batch), mode, String(repeats), String(threads)], {
    encoding: 'utf8',
    // the same OpenBLAS threads as the torch engine (see physicalCores): PyTorch's default
    // (one per logical core) is 2-4× slower on gemm here, which would flatter the comparison
    env: { ...process.env, OMP_WAIT_POLICY: 'passive', OPENBLAS_NUM_THREADS: String(blasThreads) },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`torch_clip.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number[] };
  return best(out.seconds);
}

async function tfjs(engine: Engine, preset: string, batch: number, mode: Mode): Promise<number> {
  if (engine === 'wasm') await wasmEngine().init({ device: 'cpu' });
  else await useTorchBackend({ device: 'cpu', threads });
  const { hub_id: _hub, ...cfg } = CLIP_PRESETS[preset]!;
  const model = new ClipVisionModel(cfg, defaultInit(0));
  if (engine === 'fused') useFusedOps(model);
  const pixels = tf.randomNormal([batch, 3, cfg.image_size, cfg.image_size], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), 'int32');
  const tuning = mode === 'ln-step' ? lnTuning(model) : undefined;
  const once = () => (tuning ? tuning.step(pixels, labels) : forward(model, pixels));
  const n = engine === 'wasm' ? wasmRepeats : repeats;
  const times: number[] = [];
  try {
    once(); // warm-up (allocations, kernel setup)
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      once();
      times.push((performance.now() - t0) / 1000);
    }
  } finally {
    tuning?.dispose();
    model.dispose();
    tf.dispose([pixels, labels]);
  }
  return best(times);
}

async function main(): Promise<void> {
  const info = loadAddon().info();
  const rows: string[] = [];
  const notes: string[] = [];
  const ms = (s: number | undefined, batch: number) => (s === undefined ? 'failed' : ((s * 1000) / batch).toFixed(0));
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`);
  for (const { preset, batch } of cases) {
    for (const mode of modes) {
      const t: Partial<Record<Engine, number>> = {};
      const failed: Partial<Record<Engine, string>> = {};
      const order: Engine[] = [];
      for (let r = 0; r < rounds; r++) order.push('pytorch', 'torch', 'fused');
      order.push('pytorch', 'wasm');
      for (const engine of order) {
        if (!only.has(engine)) continue;
        if (failed[engine]) continue;
        log(`${preset} batch ${batch} ${mode}: ${engine}…`);
        try {
          const s = engine === 'pytorch' ? pytorch(preset, batch, mode) : await tfjs(engine, preset, batch, mode);
          t[engine] = Math.min(t[engine] ?? Infinity, s);
          log(`  ${ms(s, batch)} ms/image`);
        } catch (err) {
          // e.g. wasm's 4 GB heap: tfjs keeps every activation of the step alive until the gradients are done
          failed[engine] = (err as Error).message.split('\n')[0]!.slice(0, 80);
          log(`  failed: ${failed[engine]}`);
        }
      }
      for (const [e, why] of Object.entries(failed)) notes.push(`${preset} ${mode} ${e}: ${why}`);
      rows.push(
        `| ${preset} | ${batch} | ${mode} | ${ms(t.pytorch, batch)} | ${ms(t.torch, batch)} | ${ms(t.fused, batch)} | ${ms(t.wasm, batch)} | ${ratio(t.torch, t.pytorch)} | ${ratio(t.fused, t.pytorch)} | ${ratio(t.wasm, t.pytorch)} |`,
      );
    }
  }
  const th = getNumThreads();
  console.log(`\nlibtorch ${info.torchVersion} (CPU), ${cpus().length} cores (${cpus()[0]?.model.trim()}), threads: ATen ${th.intraOp}, OpenBLAS ${th.openblas} (PyTorch: ${threads}, OPENBLAS_NUM_THREADS=${blasThreads}); OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}; best of ${repeats} × ${rounds} interleaved round(s) (wasm ${wasmRepeats}) after a warm-up, PyTorch also once more after; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| model | batch | mode | PyTorch eager ms/img | torch ms/img | torch fused ms/img | wasm ms/img | torch / PyTorch | fused / PyTorch | wasm / PyTorch |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  if (notes.length) console.log(`\nfailed: ${notes.join('; ')}`);
}

await main();
