import { SeededRng } from '@dfdet/core';

/** The fake "methods" of the synthetic set, each a local manipulation with its own artifact. */
export const SYNTH_METHODS = ['blend', 'texture', 'color', 'warp'] as const;
export type SynthMethod = (typeof SYNTH_METHODS)[number];

type RGB = [number, number, number];

/** What makes one synthetic person look like themselves, fixed per identity. */
export interface SynthIdentity {
  skin: RGB;
  hair: RGB;
  iris: RGB;
  lips: RGB;
  bgTop: RGB;
  bgBottom: RGB;
  /** Face ellipse radii, as fractions of the image side. */
  rx: number;
  ry: number;
  /** Features in face coordinates (x / rx, y / ry from the face centre). */
  eyeX: number;
  eyeY: number;
  eyeW: number;
  eyeH: number;
  noseLen: number;
  noseW: number;
  mouthY: number;
  mouthW: number;
  hairH: number;
}

/** Per-frame variation of one video. */
export interface SynthPose {
  /** Face centre shift, in pixels. */
  dx: number;
  dy: number;
  /** Global light gain and horizontal light direction. */
  light: number;
  lightDir: number;
  /** 0 closed … 1 open. */
  mouthOpen: number;
  /** Eye opening (1 open, ~0.2 blinking). */
  eyeOpen: number;
  gaze: number;
}

/** Face geometry of a rendered frame, in pixels. */
export interface FaceGeometry {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/** Half-open pixel box [x0, y0, x1, y1). */
export type PixelBox = [number, number, number, number];

export interface RenderedFace {
  /** RGB, row-major, size × size × 3. */
  rgb: Uint8Array;
  geom: FaceGeometry;
  id: SynthIdentity;
  pose: SynthPose;
}

const SKIN: RGB[] = [
  [241, 194, 167],
  [224, 172, 138],
  [198, 134, 100],
  [161, 102, 72],
  [120, 75, 52],
  [92, 58, 40],
];
const HAIR: RGB[] = [
  [28, 22, 18],
  [70, 45, 25],
  [120, 80, 40],
  [185, 150, 95],
  [95, 95, 95],
  [45, 32, 60],
];
const IRIS: RGB[] = [
  [70, 45, 25],
  [40, 80, 140],
  [60, 110, 60],
  [30, 25, 20],
];

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const jitter = (c: RGB, r: SeededRng, amount: number): RGB => c.map((v) => clamp255(v + (r.next() * 2 - 1) * amount)) as RGB;
const range = (r: SeededRng, lo: number, hi: number) => lo + (hi - lo) * r.next();

export function makeSynthIdentity(seed: number, index: number): SynthIdentity {
  const r = SeededRng.derive(seed, `synth.identity.${index}`);
  const skin = jitter(SKIN[r.int(SKIN.length)]!, r, 10);
  return {
    skin,
    hair: jitter(HAIR[r.int(HAIR.length)]!, r, 10),
    iris: jitter(IRIS[r.int(IRIS.length)]!, r, 10),
    lips: [clamp255(skin[0] * 0.82 + 30), clamp255(skin[1] * 0.5), clamp255(skin[2] * 0.55)],
    bgTop: [range(r, 50, 210), range(r, 50, 210), range(r, 50, 210)],
    bgBottom: [range(r, 40, 190), range(r, 40, 190), range(r, 40, 190)],
    rx: range(r, 0.24, 0.29),
    ry: range(r, 0.31, 0.36),
    eyeX: range(r, 0.34, 0.42),
    eyeY: range(r, -0.22, -0.12),
    eyeW: range(r, 0.16, 0.21),
    eyeH: range(r, 0.07, 0.1),
    noseLen: range(r, 0.25, 0.35),
    noseW: range(r, 0.1, 0.15),
    mouthY: range(r, 0.42, 0.52),
    mouthW: range(r, 0.32, 0.44),
    hairH: range(r, 0.95, 1.15),
  };
}

/** Smooth per-frame motion, lighting, mouth and blinks of one video (one target identity). */
export function makeSynthPose(seed: number, index: number, frame: number, frames: number, size: number): SynthPose {
  const r = SeededRng.derive(seed, `synth.motion.${index}`);
  const ax = range(r, 0.015, 0.035) * size;
  const ay = range(r, 0.01, 0.025) * size;
  const px = r.next() * 2 * Math.PI;
  const py = r.next() * 2 * Math.PI;
  const speed = range(r, 0.6, 1.4);
  const lightBase = range(r, 0.94, 1.06);
  const lightDir = range(r, -0.6, 0.6);
  const blinkAt = r.int(Math.max(frames, 1) + 2); // may fall outside the video: no blink
  const t = (2 * Math.PI * speed * frame) / Math.max(frames, 1);
  return {
    dx: ax * Math.sin(t + px),
    dy: ay * Math.sin(0.7 * t + py),
    light: lightBase * (1 + 0.04 * Math.sin(1.3 * t + px)),
    lightDir: lightDir + 0.1 * Math.sin(t),
    mouthOpen: 0.5 + 0.5 * Math.sin(2.1 * t + py),
    eyeOpen: frame === blinkAt ? 0.2 : 1,
    gaze: 0.05 * Math.sin(0.9 * t + px),
  };
}

export function faceGeometry(id: SynthIdentity, pose: SynthPose, size: number): FaceGeometry {
  return { cx: 0.5 * size + pose.dx, cy: 0.54 * size + pose.dy, rx: id.rx * size, ry: id.ry * size };
}

/** Renders one face frame: background, hair, neck, shaded skin ellipse, brows, eyes, nose, mouth, sensor noise. */
export function renderFace(id: SynthIdentity, pose: SynthPose, size: number, noise: SeededRng): RenderedFace {
  const g = faceGeometry(id, pose, size);
  const out = new Uint8Array(size * size * 3);
  const mouthH = id.mouthW * (0.16 + 0.22 * pose.mouthOpen);
  for (let y = 0; y < size; y++) {
    const py = y + 0.5;
    const tv = py / size;
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      let c0 = id.bgTop[0] + (id.bgBottom[0] - id.bgTop[0]) * tv;
      let c1 = id.bgTop[1] + (id.bgBottom[1] - id.bgTop[1]) * tv;
      let c2 = id.bgTop[2] + (id.bgBottom[2] - id.bgTop[2]) * tv;
      const X = (px - g.cx) / g.rx;
      const Y = (py - g.cy) / g.ry;
      // hair: an ellipse behind the face, reaching above it
      const hx = X / 1.14;
      const hy = (Y + 0.2) / id.hairH;
      if (hx * hx + hy * hy <= 1 && Y < 0.4) {
        [c0, c1, c2] = id.hair;
      }
      // neck
      if (Math.abs(X) < 0.45 && Y > 0.7) {
        c0 = id.skin[0] * 0.8 * pose.light;
        c1 = id.skin[1] * 0.8 * pose.light;
        c2 = id.skin[2] * 0.8 * pose.light;
      }
      const d = X * X + Y * Y;
      if (d <= 1) {
        const shade = pose.light * (1 + 0.16 * pose.lightDir * X - 0.1 * d);
        c0 = id.skin[0] * shade;
        c1 = id.skin[1] * shade;
        c2 = id.skin[2] * shade;
        for (const s of [-1, 1]) {
          const ex = X - s * id.eyeX;
          // brow
          if (Math.abs(ex) < id.eyeW * 1.1 && Math.abs(Y - (id.eyeY - id.eyeH * 2.3)) < 0.03) {
            c0 = id.hair[0] * 0.9;
            c1 = id.hair[1] * 0.9;
            c2 = id.hair[2] * 0.9;
          }
          const eh = id.eyeH * pose.eyeOpen;
          const ee = (ex / id.eyeW) ** 2 + ((Y - id.eyeY) / eh) ** 2;
          if (ee <= 1) {
            c0 = 236;
            c1 = 234;
            c2 = 228;
            const ix = (ex - pose.gaze) / (id.eyeW * 0.45);
            const iy = (Y - id.eyeY) / (eh * 0.95);
            const ii = ix * ix + iy * iy;
            if (ii <= 1) [c0, c1, c2] = ii < 0.25 ? [15, 12, 12] : id.iris;
          }
        }
        // nose: a shadowed wedge, widening downwards, darker on the side away from the light
        const nt = (Y - (id.eyeY + 0.05)) / id.noseLen;
        if (nt > 0 && nt < 1 && Math.abs(X) < id.noseW * (0.3 + 0.7 * nt)) {
          const k = X * pose.lightDir < 0 ? 0.8 : 0.9;
          c0 *= k;
          c1 *= k;
          c2 *= k;
        }
        // mouth: lips, and the dark inside when open
        const mx = X / id.mouthW;
        const my = (Y - id.mouthY) / mouthH;
        if (mx * mx + my * my <= 1) {
          [c0, c1, c2] = id.lips;
          const ox = X / (id.mouthW * 0.8);
          const oy = (Y - id.mouthY) / (mouthH * 0.55 * pose.mouthOpen + 1e-6);
          if (ox * ox + oy * oy <= 1) [c0, c1, c2] = [55, 18, 22];
        }
      }
      const n = noise.u32();
      const o = (y * size + x) * 3;
      out[o] = Math.round(clamp255(c0 + ((n & 7) - 3.5)));
      out[o + 1] = Math.round(clamp255(c1 + (((n >>> 3) & 7) - 3.5)));
      out[o + 2] = Math.round(clamp255(c2 + (((n >>> 6) & 7) - 3.5)));
    }
  }
  return { rgb: out, geom: g, id, pose };
}

function clampBox(b: PixelBox, size: number): PixelBox {
  const x0 = Math.max(0, Math.min(size, Math.floor(b[0])));
  const y0 = Math.max(0, Math.min(size, Math.floor(b[1])));
  const x1 = Math.max(x0, Math.min(size, Math.ceil(b[2])));
  const y1 = Math.max(y0, Math.min(size, Math.ceil(b[3])));
  return [x0, y0, x1, y1];
}

/** Pixel box of a box given in face coordinates. */
function faceBox(g: FaceGeometry, X0: number, Y0: number, X1: number, Y1: number, size: number): PixelBox {
  return clampBox([g.cx + X0 * g.rx, g.cy + Y0 * g.ry, g.cx + X1 * g.rx, g.cy + Y1 * g.ry], size);
}

/** The region each method may change in a frame. */
export function methodRegion(method: SynthMethod, face: RenderedFace, size: number): PixelBox {
  const { id, geom: g } = face;
  const inner = (): PixelBox => {
    const w = id.eyeX + id.eyeW * 1.3;
    return faceBox(g, -w, id.eyeY - id.eyeH * 3.2, w, id.mouthY + id.mouthW * 0.5, size);
  };
  switch (method) {
    case 'blend':
    case 'texture':
      return inner();
    case 'color':
      return faceBox(g, -1, -1, 1, 1, size);
    case 'warp': {
      const w = id.mouthW * 1.5;
      return faceBox(g, -w, id.mouthY - w * 0.75, w, id.mouthY + w * 0.75, size);
    }
  }
}

function copyBoxFrom(dst: Uint8Array, src: Uint8Array, size: number, b: PixelBox, mask: (x: number, y: number) => number): void {
  for (let y = b[1]; y < b[3]; y++) {
    for (let x = b[0]; x < b[2]; x++) {
      const m = mask(x, y);
      if (m <= 0) continue;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) dst[o + c] = Math.round(dst[o + c]! * (1 - m) + src[o + c]! * m);
    }
  }
}

/**
 * `blend`: the inner face of another identity (same pose), slightly smoothed and colour-mismatched, pasted with a
 * hard elliptical mask: a visible seam and a tone jump at its border.
 */
function applyBlend(base: RenderedFace, donor: RenderedFace, box: PixelBox, size: number): Uint8Array {
  const out = base.rgb.slice();
  const tint: RGB = [1.07, 0.97, 0.9];
  const src = new Uint8Array(donor.rgb.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= size || xx < 0 || xx >= size) continue;
            s += donor.rgb[(yy * size + xx) * 3 + c]!;
            n++;
          }
        }
        src[(y * size + x) * 3 + c] = Math.round(clamp255((s / n) * tint[c]! + 6));
      }
    }
  }
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const ax = (box[2] - box[0]) / 2;
  const ay = (box[3] - box[1]) / 2;
  copyBoxFrom(out, src, size, box, (x, y) => (((x + 0.5 - cx) / ax) ** 2 + ((y + 0.5 - cy) / ay) ** 2 <= 1 ? 1 : 0));
  return out;
}

/** `texture`: the region re-sampled from a coarse grid (block averages, quantized): upsampling blockiness. */
function applyTexture(base: RenderedFace, box: PixelBox, size: number): Uint8Array {
  const out = base.rgb.slice();
  const bs = Math.max(2, Math.round(size / 16));
  for (let by = box[1]; by < box[3]; by += bs) {
    for (let bx = box[0]; bx < box[2]; bx += bs) {
      const ey = Math.min(by + bs, box[3]);
      const ex = Math.min(bx + bs, box[2]);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let y = by; y < ey; y++) for (let x = bx; x < ex; x++) s += base.rgb[(y * size + x) * 3 + c]!;
        const v = Math.round(s / ((ey - by) * (ex - bx)) / 8) * 8;
        for (let y = by; y < ey; y++) for (let x = bx; x < ex; x++) out[(y * size + x) * 3 + c] = clamp255(v);
      }
    }
  }
  return out;
}

/** `color`: a colour cast (warmer, less blue) over the face ellipse only. */
function applyColor(base: RenderedFace, box: PixelBox, size: number): Uint8Array {
  const out = base.rgb.slice();
  const g = base.geom;
  const shift: RGB = [22, 6, -18];
  for (let y = box[1]; y < box[3]; y++) {
    for (let x = box[0]; x < box[2]; x++) {
      const X = (x + 0.5 - g.cx) / g.rx;
      const Y = (y + 0.5 - g.cy) / g.ry;
      if (X * X + Y * Y > 1) continue;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = clamp255(base.rgb[o + c]! + shift[c]!);
    }
  }
  return out;
}

/** `warp`: the mouth region magnified and sheared by a smooth displacement that vanishes at the region's border. */
function applyWarp(base: RenderedFace, box: PixelBox, size: number): Uint8Array {
  const out = base.rgb.slice();
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const R = Math.min(box[2] - box[0], box[3] - box[1]) / 2;
  if (R <= 1) return out;
  const sample = (fx: number, fy: number, c: number) => {
    const x = Math.max(0, Math.min(size - 1, fx - 0.5));
    const y = Math.max(0, Math.min(size - 1, fy - 0.5));
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const x1 = Math.min(size - 1, x0 + 1);
    const y1 = Math.min(size - 1, y0 + 1);
    const tx = x - x0;
    const ty = y - y0;
    const p = (xx: number, yy: number) => base.rgb[(yy * size + xx) * 3 + c]!;
    return (p(x0, y0) * (1 - tx) + p(x1, y0) * tx) * (1 - ty) + (p(x0, y1) * (1 - tx) + p(x1, y1) * tx) * ty;
  };
  for (let y = box[1]; y < box[3]; y++) {
    for (let x = box[0]; x < box[2]; x++) {
      const vx = x + 0.5 - cx;
      const vy = y + 0.5 - cy;
      const r = Math.sqrt(vx * vx + vy * vy) / R;
      if (r >= 1) continue;
      const f = (1 - r) ** 2;
      const sx = cx + vx * (1 - 0.45 * f) + 0.25 * R * f;
      const sy = cy + vy * (1 - 0.3 * f);
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(clamp255(sample(sx, sy, c)));
    }
  }
  return out;
}

export interface SynthFrameSpec {
  seed: number;
  size: number;
  /** Target identity (the video the manipulation starts from). */
  target: number;
  /** Donor identity (the face pasted in by `blend`). */
  donor: number;
  frame: number;
  frames: number;
}

/** Renders the pristine frame of a target identity. */
export function renderPristine(spec: Omit<SynthFrameSpec, 'donor'>): RenderedFace {
  const id = makeSynthIdentity(spec.seed, spec.target);
  const pose = makeSynthPose(spec.seed, spec.target, spec.frame, spec.frames, spec.size);
  return renderFace(id, pose, spec.size, SeededRng.derive(spec.seed, `synth.noise.${spec.target}.${spec.frame}`));
}

/** One fake frame: the pristine frame of `target`, manipulated by `method` inside `region` only. */
export function synthesizeFake(method: SynthMethod, spec: SynthFrameSpec): { rgb: Uint8Array; pristine: Uint8Array; region: PixelBox } {
  const base = renderPristine(spec);
  const region = methodRegion(method, base, spec.size);
  let rgb: Uint8Array;
  switch (method) {
    case 'blend': {
      const donorId = makeSynthIdentity(spec.seed, spec.donor);
      const donor = renderFace(donorId, base.pose, spec.size, SeededRng.derive(spec.seed, `synth.noise.${spec.donor}.${spec.frame}.donor`));
      rgb = applyBlend(base, donor, region, spec.size);
      break;
    }
    case 'texture':
      rgb = applyTexture(base, region, spec.size);
      break;
    case 'color':
      rgb = applyColor(base, region, spec.size);
      break;
    case 'warp':
      rgb = applyWarp(base, region, spec.size);
      break;
  }
  return { rgb, pristine: base.rgb, region };
}
