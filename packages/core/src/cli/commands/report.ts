import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { writeReport } from '../../report/report.js';

interface Args {
  dir: string;
  output?: string;
  axes?: string;
  metric?: string;
}

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <dir>',
  describe: 'one self-contained HTML report of a run (curves, ROC) or a sweep (ablation table, heatmap, curves)',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'run folder or sweep folder' })
      .option('output', { type: 'string', alias: 'o', describe: 'HTML file to write (default: <dir>/report.html)' })
      .option('axes', { type: 'string', describe: 'sweep: the two axes of the heatmap, comma-separated' })
      .option('metric', { type: 'string', describe: 'sweep: the metric of the heatmap and the sort (default: the monitor\'s best)' }),
  handler: (args) => {
    const report = writeReport(args.dir, {
      output: args.output,
      axes: args.axes?.split(',').map((a) => a.trim()).filter(Boolean),
      metric: args.metric,
    });
    console.error(`wrote ${report.kind} report with ${report.charts.length} chart(s): ${relative(process.cwd(), report.output) || report.output}`);
  },
};
