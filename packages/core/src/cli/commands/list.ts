import type { CommandModule } from 'yargs';
import { buildRegistry } from '../../config/load-experiment.js';
import { describeOptions } from '../../plugin/describe.js';
import { PLUGIN_KINDS, type PluginKind } from '../../plugin/spec.js';

interface Args {
  kind?: string;
  plugin?: string[];
  json?: boolean;
}

export const listCommand: CommandModule<object, Args> = {
  command: 'list [kind]',
  describe: 'list registered plugins with their options and defaults',
  builder: (y) =>
    y
      .positional('kind', { type: 'string', choices: [...PLUGIN_KINDS], describe: 'only this kind' })
      .option('plugin', { type: 'string', array: true, describe: 'also load this plugin module (npm name or path)' })
      .option('json', { type: 'boolean', describe: 'print JSON instead of text' }),
  handler: async (args) => {
    const registry = await buildRegistry(args.plugin ?? []);
    const kinds = (args.kind ? [args.kind] : PLUGIN_KINDS) as PluginKind[];
    if (args.json) {
      const out = Object.fromEntries(
        kinds.map((k) => [k, registry.list(k).map((s) => ({ name: s.name, description: s.description, options: describeOptions(s) }))]),
      );
      console.log(JSON.stringify(out, null, 2));
      return;
    }
    const lines: string[] = [];
    for (const kind of kinds) {
      const specs = registry.list(kind);
      if (specs.length === 0 && !args.kind) continue;
      lines.push(`${kind}:`);
      if (specs.length === 0) lines.push('  (none registered)');
      for (const spec of specs) {
        lines.push(`  ${spec.name} — ${spec.description}`);
        for (const o of describeOptions(spec)) {
          const dflt = o.default !== undefined ? ` = ${JSON.stringify(o.default)}` : o.required ? ' (required)' : '';
          lines.push(`      ${o.key}: ${o.type}${dflt}${o.description ? `  — ${o.description}` : ''}`);
        }
      }
      lines.push('');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
