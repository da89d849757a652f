import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { writeJsonAtomic } from '../../io/atomic.js';
import { buildRegistry } from '../../config/load-experiment.js';
import { experimentJsonSchema } from '../../config/json-schema.js';
import { workspaceRoot } from '../../plugin/load.js';

interface Args {
  out: string;
  plugin?: string[];
  stdout?: boolean;
}

export const DEFAULT_SCHEMA_PATH = 'schema/experiment.schema.json';

export const schemaCommand: CommandModule<object, Args> = {
  command: 'schema',
  describe: 'write the JSON Schema of experiment YAML files (for editor autocompletion and checks)',
  builder: (y) =>
    y
      .option('out', { type: 'string', default: resolve(workspaceRoot(), DEFAULT_SCHEMA_PATH), describe: 'output file' })
      .option('plugin', { type: 'string', array: true, describe: 'also include this plugin module (npm name or path)' })
      .option('stdout', { type: 'boolean', describe: 'print instead of writing a file' }),
  handler: async (args) => {
    const schema = experimentJsonSchema(await buildRegistry(args.plugin ?? []));
    if (args.stdout) {
      console.log(JSON.stringify(schema, null, 2));
      return;
    }
    writeJsonAtomic(args.out, schema);
    console.log(`wrote ${args.out}`);
  },
};
