import yargs, { type CommandModule } from 'yargs';
import { UserError } from '../util/errors.js';
import { PluginRegistry } from '../plugin/registry.js';
import { loadBuiltinModules } from '../plugin/load.js';
import { CLI_COMMAND } from '../plugin/spec.js';
import { configCommand } from './commands/config.js';
import { listCommand } from './commands/list.js';
import { schemaCommand } from './commands/schema.js';
import { embedCommand } from './commands/embed.js';
import { runCommand } from './commands/run.js';
import { exportCommand } from './commands/export.js';
import { sweepCommand } from './commands/sweep.js';
import { wandbCommand } from './commands/wandb.js';
import { reportCommand } from './commands/report.js';

/** Commands appear here only once they work end to end. */
export const commands: CommandModule<any, any>[] = [runCommand, sweepCommand, reportCommand, wandbCommand, exportCommand, configCommand, listCommand, schemaCommand, embedCommand];

/** Commands contributed by the built-in packages (e.g. `exp data …` from @dfdet/datasets). */
async function packageCommands(): Promise<CommandModule<any, any>[]> {
  const registry = new PluginRegistry(await loadBuiltinModules());
  return registry.container.isBound(CLI_COMMAND) ? registry.container.getAll<CommandModule<any, any>>(CLI_COMMAND) : [];
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    let parser = yargs(argv)
      .scriptName('exp')
      .usage('$0 <command> [options]')
      .option('verbose', { type: 'boolean', describe: 'print stack traces on errors', global: true })
      .strict()
      .demandCommand(1, 'name a command; see --help')
      .recommendCommands()
      .help()
      .wrap(Math.min(110, process.stdout.columns || 110))
      .fail((msg, err) => {
        throw err ?? new UserError(msg);
      });
    for (const c of [...commands, ...(await packageCommands())]) parser = parser.command(c);
    await parser.parseAsync();
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    reportError(err, verbose);
    return 1;
  }
}

export function reportError(err: unknown, verbose: boolean): void {
  if (err instanceof UserError || (err as Error)?.name === 'YError') {
    console.error(`error: ${(err as Error).message}`);
    if (verbose && err instanceof Error && err.stack) console.error(err.stack);
    return;
  }
  const e = err as Error;
  console.error(`error: ${e?.message ?? String(err)}`);
  if (verbose) console.error(e?.stack);
  else console.error('(run with --verbose for the stack trace)');
}
