import type { CommandModule } from 'yargs';
import { loadExperiment } from '../../config/load-experiment.js';
import { runExperiment } from '../../training/run-experiment.js';
import { UserError } from '../../util/errors.js';

interface Args {
  configs: string[];
  set?: string[];
  resume?: boolean;
  force?: boolean;
  run?: string;
}

export const runCommand: CommandModule<object, Args> = {
  command: 'run <configs..>',
  describe: 'train an experiment into runs/<name>/<run>/ (Ctrl-C stops at a resumable checkpoint)',
  builder: (y) =>
    y
      .positional('configs', { type: 'string', array: true, demandOption: true, describe: 'experiment YAML files, merged in order' })
      .option('set', { type: 'string', array: true, describe: 'override a key: --set optim.lr=1e-4' })
      .option('resume', { type: 'boolean', describe: 'continue the run (the newest one when --run is not given)' })
      .option('force', { type: 'boolean', describe: 'replace an existing run of the same name' })
      .option('run', { type: 'string', describe: 'run folder name (default: a timestamp)' }),
  handler: async (args) => {
    if (args.resume && args.force) throw new UserError('--resume and --force exclude each other');
    const exp = await loadExperiment(args.configs, { overrides: args.set ?? [] });
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(130);
      console.error('\nstopping after this step (Ctrl-C again to quit at once)…');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      const { run, result } = await runExperiment(exp, { mode: args.resume ? 'resume' : args.force ? 'force' : 'new', run: args.run, signal: abort.signal });
      console.error(`${result.status}: ${run.dir}`);
      if (result.status === 'interrupted') process.exitCode = 130;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  },
};
