import type { CommandModule } from 'yargs';
import { syncRuns } from '../../loggers/wandb-sync.js';

interface SyncArgs {
  dirs: string[];
  project?: string;
  entity?: string;
  group?: string;
  tags?: string;
  'job-type'?: string;
  force?: boolean;
}

const syncCommand: CommandModule<object, SyncArgs> = {
  command: 'sync <dirs..>',
  describe: 'upload finished local runs (config, every metric, summary) to Weights & Biases',
  builder: (y) =>
    y
      .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'run folders, or sweep / experiment folders of runs' })
      .option('project', { type: 'string', describe: 'W&B project (default: the run\'s wandb logger options, else dfdet)' })
      .option('entity', { type: 'string', describe: 'W&B entity (default: the API key\'s)' })
      .option('group', { type: 'string', describe: 'run group (default: the sweep name)' })
      .option('tags', { type: 'string', describe: 'comma-separated tags' })
      .option('job-type', { type: 'string' })
      .option('force', { type: 'boolean', describe: 'also upload runs still marked running' }),
  handler: async (args) => {
    const report = await syncRuns(args.dirs, {
      project: args.project,
      entity: args.entity,
      group: args.group,
      tags: args.tags?.split(',').map((t) => t.trim()).filter(Boolean),
      jobType: args['job-type'],
      force: args.force,
    });
    console.error(`${report.synced.length} run(s) synced, ${report.skipped.length} skipped`);
    process.exitCode = report.skipped.length ? 1 : 0;
  },
};

export const wandbCommand: CommandModule<object, object> = {
  command: 'wandb <command>',
  describe: 'Weights & Biases: sync local runs',
  builder: (y) => y.command(syncCommand).demandCommand(1, 'name a wandb subcommand: sync'),
  handler: () => {},
};
