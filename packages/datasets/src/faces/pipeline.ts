/**
 * Detect → pick → align: what `exp data prepare` and `exp predict --faces on` run on each frame.
 */
import { UserError, z } from '@dfdet/core';
import type { U8Image } from '@dfdet/models';
import { KEYPOINT_MODES, alignFace, type Affine, type AlignOptions, type Point } from './align.js';
import { createFaceDetector, type FaceBox, type FaceDetector } from './detector.js';

export const alignOptionsSchema = z
  .object({
    size: z.number().int().min(8).max(4096).default(256).describe('crop side in pixels (DeepfakeBench: 256)'),
    scale: z.number().min(1).max(4).default(1.3).describe('the face spans 1/scale of the crop (DeepfakeBench: 1.3)'),
    keypoints: z
      .enum(KEYPOINT_MODES)
      .default('deepfakebench')
      .describe("5 keypoints from the 68 landmarks: deepfakebench (points 37, 44, 30, 49, 55, exactly DeepfakeBench's get_keypts, so crops match the paper's training data) or centers (eye centers 36-41/42-47, nose 30, mouth corners 48/54)"),
  })
  .strict();

export const faceSelectSchema = z.enum(['largest', 'all']).default('largest').describe('the largest face (DeepfakeBench) or every face');

export interface FaceExtractorConfig {
  /** A name from FACE_DETECTORS. */
  detector: string;
  /** That detector's options (validated by its schema). */
  detectorOptions?: Record<string, unknown>;
  align?: Partial<AlignOptions>;
  select?: 'largest' | 'all';
}

export interface FaceCrop {
  /** 0 = the largest face of the frame, then by decreasing box area. */
  index: number;
  image: U8Image;
  score: number;
  box: FaceBox;
  landmarks: Point[];
  keypoints: Point[];
  /** frame → crop. */
  matrix: Affine;
}

export class FaceExtractor {
  private constructor(
    readonly detector: FaceDetector,
    readonly align: AlignOptions,
    readonly select: 'largest' | 'all',
  ) {}

  static async create(cfg: FaceExtractorConfig): Promise<FaceExtractor> {
    const align = alignOptionsSchema.safeParse(cfg.align ?? {});
    if (!align.success) {
      const issue = align.error.issues[0]!;
      throw new UserError(`face alignment: ${issue.path.join('.') || 'options'}: ${issue.message}`);
    }
    const select = faceSelectSchema.parse(cfg.select);
    const detector = await createFaceDetector(cfg.detector, cfg.detectorOptions ?? {});
    return new FaceExtractor(detector, align.data, select);
  }

  /** Aligned crops of the largest face (or all faces) of one RGB frame; an empty list when there is no face. */
  async extract(img: U8Image): Promise<FaceCrop[]> {
    const found = await this.detector.detect(img);
    const byArea = [...found].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    const picked = this.select === 'all' ? byArea : byArea.slice(0, 1);
    return picked.map((f, index) => {
      const crop = alignFace(img, f.landmarks, this.align);
      return { index, image: crop.image, score: f.score, box: f.box, landmarks: f.landmarks, keypoints: crop.keypoints, matrix: crop.matrix };
    });
  }

  dispose(): void {
    this.detector.dispose();
  }
}
