import { UserError } from '@dfdet/core';
import type { NamedTensors } from './tensor-data.js';

/**
 * Renaming checkpoint keys to this framework's names (Hugging Face CLIP naming:
 * `vision_model.…`, plus `head.weight` / `head.bias` for the classifier), and checking a
 * renamed state against what a model expects.
 */

export interface KeyMapping {
  /** Prefixes to remove; the first one a key starts with is stripped (at most one per key). */
  strip_prefix?: string[];
  /** Regex rewrites applied in order to every occurrence (`to` may use `$1`…). */
  replace?: { from: string; to: string }[];
  /** Regexes; keys matching any are dropped (tested after strip and replace). */
  drop?: string[];
  /** Regexes; when given and non-empty, only keys matching one of them are kept (after drop). */
  keep?: string[];
}

interface CompiledMapping {
  strip: string[];
  replace: { from: RegExp; to: string }[];
  drop: RegExp[];
  keep: RegExp[];
}

function compile(pattern: string, field: string, flags = ''): RegExp {
  if (typeof pattern !== 'string') throw new UserError(`key mapping ${field}: expected a regex string, got ${typeof pattern}`);
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    throw new UserError(`key mapping ${field}: ${JSON.stringify(pattern)} is not a valid regex (${(err as Error).message})`, { cause: err });
  }
}

function compileMapping(m: KeyMapping): CompiledMapping {
  return {
    strip: [...(m.strip_prefix ?? [])],
    replace: (m.replace ?? []).map((r, i) => ({ from: compile(r.from, `replace[${i}].from`, 'g'), to: String(r.to) })),
    drop: (m.drop ?? []).map((p, i) => compile(p, `drop[${i}]`)),
    keep: (m.keep ?? []).map((p, i) => compile(p, `keep[${i}]`)),
  };
}

function mapOne(name: string, c: CompiledMapping): string | null {
  let key = name;
  for (const p of c.strip) {
    if (p !== '' && key.startsWith(p)) {
      key = key.slice(p.length);
      break;
    }
  }
  for (const r of c.replace) key = key.replace(r.from, r.to);
  if (c.drop.some((re) => re.test(key))) return null;
  if (c.keep.length > 0 && !c.keep.some((re) => re.test(key))) return null;
  return key;
}

/** The new name of one key under `mapping`, or null when the mapping drops it. */
export function mapKey(name: string, mapping: KeyMapping): string | null {
  return mapOne(name, compileMapping(mapping));
}

/**
 * Renames tensors: strip_prefix → replace → drop / keep. Errors when two source keys land on
 * the same name (e.g. a PEFT base layer and its tuned copy both surviving).
 */
export function applyKeyMapping(tensors: NamedTensors, mapping: KeyMapping): NamedTensors {
  const c = compileMapping(mapping);
  const out: NamedTensors = new Map();
  const source = new Map<string, string>();
  for (const [name, t] of tensors) {
    const key = mapOne(name, c);
    if (key === null) continue;
    if (key === '') throw new UserError(`key mapping turns ${JSON.stringify(name)} into an empty name`);
    const prev = source.get(key);
    if (prev !== undefined) {
      throw new UserError(
        `key mapping maps both ${JSON.stringify(prev)} and ${JSON.stringify(name)} to ${JSON.stringify(key)}; add a drop rule for one of them`,
      );
    }
    source.set(key, name);
    out.set(key, t);
  }
  return out;
}

/**
 * Named mappings for released checkpoints.
 *
 * `yermakov-2025` — the Lightning `model.ckpt` of "Unlocking the Hidden Potential of CLIP in
 * Generalizable Deepfake Detection" (github.com/yermandy/deepfake-detection, weights on
 * huggingface.co/yermandy/deepfake-detection). Derived from that repo's code, not from the
 * released file itself: `DeepfakeDetectionModel` (src/model/dfdet.py) keeps the CLIP encoder in
 * `self.feature_extractor` (src/encoders/clip_encoder.py: `self.vision_model = clip.vision_model`,
 * no visual_projection) and the head in `self.model = LinearProbe(...)` (src/heads/head.py:
 * `self.linear = nn.Linear`). With `peft.ln_tuning` enabled (run.py), `get_peft_model` wraps the
 * encoder, so keys read `feature_extractor.base_model.model.vision_model.…`, and every targeted
 * LayerNorm (pre_layrnorm, layer_norm1/2, post_layernorm) becomes a peft LNTuningLayer with the
 * frozen original under `.base_layer.` and the trained copy (the one its forward uses) under
 * `.ln_tuning_layers.default.`. The Lightning `state_dict` therefore maps as:
 *   feature_extractor.base_model.model.vision_model.X.ln_tuning_layers.default.weight → vision_model.X.weight
 *   feature_extractor.base_model.model.vision_model.X.base_layer.weight               → dropped
 *   feature_extractor.base_model.model.vision_model.Y                                  → vision_model.Y
 *   model.linear.{weight,bias}                                                         → head.{weight,bias}
 * The plain `feature_extractor.` prefix is also stripped, so a run trained without the PEFT
 * wrapper maps too.
 *
 * `yermakov-2025-followup` — the Hugging Face safetensors of the follow-up "Deepfake Detection
 * that Generalizes Across Benchmarks" (GenD; github.com/yermandy/GenD, e.g.
 * huggingface.co/yermandy/GenD_CLIP_L_14). Derived from src/hf/modeling_gend.py: the
 * `GenD(PreTrainedModel)` holds `feature_extractor = CLIPEncoder` (`vision_model` and
 * `visual_projection`) and `model = LinearProbe` (`linear`), without a PEFT wrapper (GenD tunes
 * LayerNorms in place), so keys are `feature_extractor.vision_model.…`,
 * `feature_extractor.visual_projection.weight` and `model.linear.{weight,bias}`.
 */
export const KEY_MAPPING_PRESETS: Readonly<Record<string, KeyMapping>> = Object.freeze({
  'yermakov-2025': {
    strip_prefix: ['feature_extractor.base_model.model.', 'feature_extractor.'],
    replace: [
      { from: '\\.ln_tuning_layers\\.default\\.', to: '.' },
      { from: '^model\\.linear\\.', to: 'head.' },
    ],
    drop: ['\\.base_layer\\.'],
  },
  'yermakov-2025-followup': {
    strip_prefix: ['feature_extractor.'],
    replace: [{ from: '^model\\.linear\\.', to: 'head.' }],
  },
});

export function keyMappingPreset(name: string): KeyMapping {
  const m = KEY_MAPPING_PRESETS[name];
  if (!m) {
    throw new UserError(`unknown key mapping preset ${JSON.stringify(name)}; known: ${Object.keys(KEY_MAPPING_PRESETS).join(', ')}`);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Matching a state against a model.

/** Keys a CLIP vision classifier never loads: the text tower, logit scale and position-id buffers. */
export const CLIP_DEFAULT_SKIP: readonly RegExp[] = Object.freeze([
  /^text_model\./,
  /^text_projection/,
  /^logit_scale$/,
  /position_ids$/,
]);

export interface StateMismatch {
  name: string;
  expected: number[];
  got: number[];
}

export interface StateMatch {
  /** Expected by the model, absent from the given state. */
  missing: string[];
  /** Present in the given state, unknown to the model. */
  unexpected: string[];
  /** Present in both with different shapes. */
  mismatched: StateMismatch[];
}

export interface MatchStateOptions {
  /** Names matching any of these are ignored on both sides (default CLIP_DEFAULT_SKIP). */
  skip?: readonly RegExp[];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Compares what a model expects (name → shape) with a loaded state. */
export function matchState(
  expected: ReadonlyMap<string, readonly number[]>,
  given: NamedTensors,
  options: MatchStateOptions = {},
): StateMatch {
  const skip = options.skip ?? CLIP_DEFAULT_SKIP;
  const skipped = (n: string): boolean => skip.some((re) => re.test(n));
  const missing: string[] = [];
  const mismatched: StateMismatch[] = [];
  for (const [name, shape] of expected) {
    if (skipped(name)) continue;
    const t = given.get(name);
    if (!t) missing.push(name);
    else if (!sameShape(shape, t.shape)) mismatched.push({ name, expected: [...shape], got: [...t.shape] });
  }
  const unexpected = [...given.keys()].filter((n) => !expected.has(n) && !skipped(n));
  return { missing, unexpected, mismatched };
}

export function stateMatches(m: StateMatch): boolean {
  return m.missing.length === 0 && m.unexpected.length === 0 && m.mismatched.length === 0;
}

function listSome(items: string[], limit: number): string {
  const shown = items.slice(0, limit).map((s) => `  ${s}`);
  if (items.length > limit) shown.push(`  … and ${items.length - limit} more`);
  return shown.join('\n');
}

/** A guess at the fix when keys differ only by a leading prefix. */
function prefixHint(m: StateMatch): string | undefined {
  for (const u of m.unexpected.slice(0, 50)) {
    for (const want of m.missing) {
      if (u.length > want.length && u.endsWith(want) && u[u.length - want.length - 1] === '.') {
        return `checkpoint keys carry a prefix ("${u.slice(0, u.length - want.length)}"); set key_mapping.strip_prefix or use a KEY_MAPPING_PRESETS entry`;
      }
    }
  }
  return undefined;
}

/** A multi-line message listing missing, unexpected and mismatched tensors by name. */
export function formatStateMatch(m: StateMatch, options: { source?: string; limit?: number } = {}): string {
  const limit = options.limit ?? 20;
  const parts: string[] = [`${options.source ? `${options.source}: ` : ''}weights do not match the model`];
  if (m.missing.length) parts.push(`missing ${m.missing.length} tensor(s):\n${listSome(m.missing, limit)}`);
  if (m.unexpected.length) parts.push(`unexpected ${m.unexpected.length} tensor(s):\n${listSome(m.unexpected, limit)}`);
  if (m.mismatched.length) {
    const lines = m.mismatched.map((x) => `${x.name}: expected [${x.expected.join(', ')}], got [${x.got.join(', ')}]`);
    parts.push(`shape mismatch in ${m.mismatched.length} tensor(s):\n${listSome(lines, limit)}`);
  }
  const hint = prefixHint(m);
  if (hint) parts.push(`hint: ${hint}`);
  return parts.join('\n');
}

/** matchState, then a UserError listing every problem unless the state fits exactly. */
export function assertStateMatches(
  expected: ReadonlyMap<string, readonly number[]>,
  given: NamedTensors,
  options: MatchStateOptions & { source?: string } = {},
): void {
  const m = matchState(expected, given, options);
  if (!stateMatches(m)) throw new UserError(formatStateMatch(m, { source: options.source }));
}
