import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meta, ROOT, sweepSetup } from '../../packages/core/test/sweep/fixtures/integration.js';
import { runCli } from './cli-run.js';

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const hasSbatch = onPath('sbatch');
if (!hasSbatch) {
  console.warn('sweep-slurm: SKIPPED — sbatch is not on PATH. Install and start a one-node cluster with: bash scripts/ci/slurm-up.sh (as root; Debian slurm-wlm + munge)');
}

/** The node must be up; as root, the test starts the local cluster itself when it is not. */
function ensureCluster(): void {
  const idle = () => /^(idle|mixed|allocated)/m.test(spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' }).stdout ?? '');
  if (idle()) return;
  if (process.getuid?.() === 0) execFileSync('bash', [join(ROOT, 'scripts/ci/slurm-up.sh')], { stdio: 'inherit', timeout: 180_000 });
  if (!idle()) throw new Error('sbatch is installed but no Slurm node is idle; start the cluster with: bash scripts/ci/slurm-up.sh');
}

describe.skipIf(!hasSbatch)('exp sweep with the slurm launcher (a real one-node cluster on localhost)', () => {
  it('submits a 2×2 grid as a job array, requeues runs whose process died, and collects the results table', { timeout: 240_000 }, async () => {
    ensureCluster();
    const { file, runs } = sweepSetup(
      'dfdet-sweep-slurm-',
      `sweep: slurm-grid
experiment: exp.yaml
name: 'steps{trainer.max_steps}-lr{optim.lr}'
set:
  # the runs that reach step 2 are SIGKILLed there once: a node failure, requeued and resumed
  loggers: [{name: kill-once, at_step: 2}]
grid:
  trainer.max_steps: [1, 2]
  optim.lr: [0.01, 0.001]
launcher: {name: slurm, gpus: 0, cpus: 1, mem: 1G, time: '00:10:00', poll_seconds: 1, max_requeues: 2, follow_timeout_s: 200}
`,
    );
    const res = await runCli(['sweep', file]);
    const sweepDir = join(runs, 'slurm-grid');
    expect(res.code, `${res.out}\n${res.err}`).toBe(0);
    expect(res.out).toMatch(/submitted 4 run\(s\) as Slurm job array \d+/);
    expect(res.out).toMatch(/steps2-lr0.01 stopped \(\w+\); requeueing/);
    expect(res.out).toMatch(/resubmitted [12] run\(s\) as Slurm job array \d+/);
    for (const name of ['steps1-lr0.01', 'steps1-lr0.001', 'steps2-lr0.01', 'steps2-lr0.001']) {
      const m = meta(join(sweepDir, name));
      expect(m.status, name).toBe('completed');
      expect(m.sessions, name).toHaveLength(name.startsWith('steps2') ? 2 : 1);
      expect(existsSync(join(sweepDir, name, 'stdout.txt'))).toBe(true);
    }
    const state = JSON.parse(readFileSync(join(sweepDir, 'state.json'), 'utf8'));
    // the first array, then one or two resubmissions (the two killed runs may stop in different polls)
    expect(state.jobs.length).toBeGreaterThanOrEqual(2);
    expect(state.jobs.flatMap((j: { runs: string[] }) => j.runs).sort()).toEqual(['steps1-lr0.001', 'steps1-lr0.01', 'steps2-lr0.001', 'steps2-lr0.001', 'steps2-lr0.01', 'steps2-lr0.01']);
    expect(state.runs['steps2-lr0.001']).toMatchObject({ status: 'completed', requeues: 1, attempts: 2 });
    expect(readdirSync(join(sweepDir, 'slurm')).filter((f) => f.endsWith('.sbatch'))).toHaveLength(state.jobs.length);
    // the table: every run with its axes and metrics
    const rows = res.out.split('\n').filter((l) => /^\| steps\d-lr/.test(l));
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r).toMatch(/\| completed \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$/);
    expect(readFileSync(join(sweepDir, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
  });
});
