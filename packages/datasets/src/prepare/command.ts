import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { UserError } from '@dfdet/core';
import { FaceExtractor } from '../faces/pipeline.js';
import { engineOptions, faceConfig, faceOptions, initEngine, type FaceArgs } from './cli-options.js';
import { SUMMARY_FILE, prepareDataset } from './prepare.js';
import { ProgressLine } from './progress.js';

export interface PrepareArgs extends FaceArgs {
  input: string;
  out: string;
  frames: number;
  force?: boolean;
  ffmpeg?: string;
  backend: string;
  device: string;
}

/**
 * `prepare` (mounted under `exp data`): videos → aligned face crops `<out>/<video>/<frame>.png`.
 * A standalone CommandModule; the `data` command group mounts it.
 */
export const dataPrepareCommand: CommandModule<object, PrepareArgs> = {
  command: 'prepare',
  describe: 'extract DeepfakeBench-style aligned face crops from videos (or frame folders): <out>/<video>/<frame>.png + summary.json',
  builder: (y) =>
    faceOptions(
      engineOptions(
        y
          .option('input', { type: 'string', demandOption: true, describe: 'folder of videos and/or folders of frame images (recursive)' })
          .option('out', { type: 'string', demandOption: true, describe: 'output source folder, e.g. datasets/<name>/<source>' })
          .option('frames', { type: 'number', default: 32, describe: 'uniformly spaced frames per video' })
          .option('force', { type: 'boolean', describe: 'redo videos an earlier run finished (marked by <video>/.done)' })
          .option('ffmpeg', { type: 'string', describe: 'ffmpeg binary (default: $DFDET_FFMPEG, else the one @ffmpeg-installer/ffmpeg ships, else PATH)' }),
      ),
    ),
  handler: async (args) => {
    if (!Number.isInteger(args.frames) || args.frames < 1) throw new UserError(`--frames must be a positive integer, got ${args.frames}`);
    const progress = new ProgressLine();
    await initEngine(args.backend, args.device, (s) => progress.log(s));
    const extractor = await FaceExtractor.create(faceConfig(args));
    progress.log(`faces: ${extractor.detector.name} on ${extractor.detector.backend}, ${extractor.select} face, ${extractor.align.size}px crops at scale ${extractor.align.scale} (${extractor.align.keypoints} keypoints)`);
    try {
      const s = await prepareDataset({
        input: args.input,
        out: args.out,
        frames: args.frames,
        faces: faceConfig(args),
        extractor,
        ffmpeg: args.ffmpeg,
        force: args.force,
        progress,
      });
      const t = s.totals;
      console.log(
        `prepared ${t.videos} video(s): ${t.done - t.resumed} now, ${t.resumed} earlier, ${t.failed} failed; ` +
          `${t.frames} frames, a face in ${t.with_face}, none in ${t.missing}; ${t.crops} crops → ${join(resolve(args.out), SUMMARY_FILE)}`,
      );
      if (t.done === 0) throw new UserError(`nothing could be processed: every input failed (see ${join(resolve(args.out), SUMMARY_FILE)})`);
    } finally {
      extractor.dispose();
    }
  },
};
