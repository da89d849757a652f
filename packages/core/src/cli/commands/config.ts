import type { CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { loadExperiment } from '../../config/load-experiment.js';

interface Args {
  configs: string[];
  set?: string[];
  json?: boolean;
  sources?: boolean;
}

export const configCommand: CommandModule<object, Args> = {
  command: 'config <configs..>',
  describe: 'print the resolved, validated config (extends merged, --set applied, defaults filled)',
  builder: (y) =>
    y
      .positional('configs', { type: 'string', array: true, demandOption: true, describe: 'experiment YAML files, merged in order' })
      .option('set', { type: 'string', array: true, describe: 'override a key: --set optim.lr=1e-4 (value read as YAML)' })
      .option('json', { type: 'boolean', describe: 'print JSON' })
      .option('sources', { type: 'boolean', describe: 'also print where each key came from' }),
  handler: async (args) => {
    const { config, composed } = await loadExperiment(args.configs, { overrides: args.set ?? [] });
    process.stdout.write(args.json ? `${JSON.stringify(config, null, 2)}\n` : stringify(config, { lineWidth: 0 }));
    if (args.sources) {
      process.stdout.write('\n# sources\n');
      for (const [k, v] of [...composed.sources].sort()) process.stdout.write(`# ${k}: ${v}\n`);
    }
  },
};
