import { dataCommand, type CommandModule } from './data.js';

export * from './data.js';

/** The `exp` subcommands of this package, for `packageModule({ commands: dataCommands })`. */
export const dataCommands: CommandModule[] = [dataCommand];
