import { extname, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { UserError, loadDetector, writeFileAtomic, writeJsonAtomic } from '@dfdet/core';
import { FaceExtractor } from '../faces/pipeline.js';
import { resolveFfmpeg } from '../media/ffmpeg.js';
import { engineOptions, faceConfig, faceOptions, initEngine, type FaceArgs } from '../prepare/cli-options.js';
import { formatFrame, formatVideo, predictMedia, predictionsCsv, type PredictResult } from './predict.js';

export interface PredictArgs extends FaceArgs {
  checkpoint: string;
  inputs?: string[];
  /** on | off */
  faces: string;
  frames: number;
  output?: string;
  'frame-dirs'?: boolean;
  'batch-size': number;
  'key-mapping'?: string;
  ffmpeg?: string;
  backend: string;
  device: string;
}

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict <inputs..>',
  describe: 'p(real) and p(fake) of images, videos and folders, per frame and per video (mean over frames)',
  builder: (y) =>
    faceOptions(
      engineOptions(
        y
          .positional('inputs', { type: 'string', array: true, describe: 'images, videos, folders' })
          .option('checkpoint', { type: 'string', demandOption: true, describe: "run folder, dfdet checkpoint, export, or the paper's .ckpt" })
          .option('faces', { type: 'string', choices: ['on', 'off'], default: 'on', describe: 'detect and align faces first; off for inputs that are face crops already' })
          .option('frames', { type: 'number', default: 32, describe: 'uniformly spaced frames per video' })
          .option('output', { type: 'string', describe: 'write every prediction to this .csv or .json file' })
          .option('frame-dirs', { type: 'boolean', describe: 'a folder of images in a folder input is one video (its frames): adds a per-video mean' })
          .option('batch-size', { type: 'number', default: 16 })
          .option('key-mapping', { type: 'string', describe: 'key-mapping preset for foreign checkpoints (default yermakov-2025 for .ckpt)' })
          .option('ffmpeg', { type: 'string', describe: 'ffmpeg binary (default: $DFDET_FFMPEG, else the one @ffmpeg-installer/ffmpeg ships, else PATH)' }),
      ),
    ),
  handler: async (args) => {
    const format = args.output ? extname(args.output).toLowerCase() : undefined;
    if (format && format !== '.csv' && format !== '.json') throw new UserError(`--output: write a .csv or .json file, got ${args.output}`);
    if (!Number.isInteger(args.frames) || args.frames < 1) throw new UserError(`--frames must be a positive integer, got ${args.frames}`);
    const err = (s: string) => console.error(s);
    const registry = await initEngine(args.backend, args.device, err);
    const loaded = await loadDetector(registry, resolve(args.checkpoint), { keyMapping: args['key-mapping'] });
    err(`model: ${loaded.path} (${loaded.kind})`);
    const faces = args.faces === 'on';
    const extractor = faces ? await FaceExtractor.create(faceConfig(args)) : undefined;
    if (extractor) err(`faces: ${extractor.detector.name} on ${extractor.detector.backend}, ${extractor.select} face, ${extractor.align.size}px crops (${extractor.align.keypoints} keypoints)`);
    let result: PredictResult;
    try {
      result = await predictMedia({
        model: loaded.model,
        inputs: args.inputs ?? [],
        extractor,
        frames: args.frames,
        frameDirs: args['frame-dirs'],
        batchSize: args['batch-size'],
        ffmpeg: resolveFfmpeg(args.ffmpeg),
        onFrame: (r) => console.log(formatFrame(r)),
        onVideo: (v) => console.log(formatVideo(v)),
        onProblem: (p) => err(`skipped ${p.path}${p.frame !== undefined ? ` #${p.frame}` : ''}: ${p.reason}`),
      });
    } finally {
      extractor?.dispose();
      loaded.model.dispose();
    }
    if (args.output) {
      const out = resolve(args.output);
      if (format === '.csv') writeFileAtomic(out, predictionsCsv(result));
      else
        writeJsonAtomic(out, {
          checkpoint: loaded.path,
          checkpoint_kind: loaded.kind,
          faces: faces ? faceConfig(args) : false,
          frames_per_video: args.frames,
          predictions: result.frames,
          videos: result.videos,
          problems: result.problems,
        });
      err(`wrote ${result.frames.length} prediction(s)${result.videos.length ? ` and ${result.videos.length} video mean(s)` : ''} to ${out}`);
    }
    if (result.frames.length === 0) {
      throw new UserError(`nothing could be processed${result.problems.length ? ` (${result.problems.length} input(s) skipped, reasons above)` : ''}`);
    }
  },
};
