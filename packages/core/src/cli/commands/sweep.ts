import type { CommandModule } from 'yargs';
import { runSweep } from '../../sweep/run-sweep.js';

interface Args {
  file: string;
  set?: string[];
  'dry-run'?: boolean;
  'retry-failed'?: boolean;
  workers?: number;
  'results-only'?: boolean;
  sort?: string;
  metrics?: string;
}

export const sweepCommand: CommandModule<object, Args> = {
  command: 'sweep <file>',
  describe: 'run an ablation sweep (grid, zip, random, seeds) into runs/<sweep>/<run>/; rerun to resume it',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'sweep YAML file' })
      .option('set', { type: 'string', array: true, describe: 'override a key of every run: --set trainer.epochs=1' })
      .option('dry-run', { type: 'boolean', describe: 'list the runs and their overrides; run nothing' })
      .option('retry-failed', { type: 'boolean', describe: 'rerun failed runs too (from their last checkpoint)' })
      .option('workers', { type: 'number', describe: 'parallel runs for the local launcher' })
      .option('results-only', { type: 'boolean', describe: 'print and write the results table without running anything' })
      .option('sort', { type: 'string', describe: 'metric to sort the results by (default: the monitor\'s best value)' })
      .option('metrics', { type: 'string', describe: 'extra metric columns for the table, comma-separated' })
      .example('$0 sweep experiments/quickstart-sweep.yaml --workers 2', '')
      .example('$0 sweep sweep.yaml --results-only --sort final/val/video/auroc', ''),
  handler: async (args) => {
    const abort = new AbortController();
    const force = new AbortController();
    const onSignal = () => {
      if (!abort.signal.aborted) {
        console.error('\nstopping the sweep: runs checkpoint and stop (Ctrl-C again to stop them at once)…');
        abort.abort();
      } else if (!force.signal.aborted) force.abort();
      else process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const res = await runSweep(args.file, {
        overrides: args.set ?? [],
        dryRun: args['dry-run'],
        retryFailed: args['retry-failed'],
        workers: args.workers,
        resultsOnly: args['results-only'],
        sort: args.sort,
        metrics: args.metrics?.split(',').map((m) => m.trim()).filter(Boolean),
        signal: abort.signal,
        forceSignal: force.signal,
      });
      process.exitCode = res.exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
