import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '@dfdet/core';
import {
  CLIP_DEFAULT_SKIP,
  KEY_MAPPING_PRESETS,
  applyKeyMapping,
  assertStateMatches,
  formatStateMatch,
  keyMappingPreset,
  mapKey,
  matchState,
  readSafetensors,
  readTorchCheckpoint,
  stateMatches,
  type NamedTensors,
  type TensorData,
} from '../../src/io/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, '..', 'fixtures', 'torch');
const CLIP_TINY = join(HERE, '..', '..', '..', '..', 'test', 'fixtures', 'clip-tiny', 'model.safetensors');

const t = (...shape: number[]): TensorData => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const named = (names: string[]): NamedTensors => new Map(names.map((n) => [n, t(1)]));

function throwsUser(fn: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  if (typeof message === 'string') expect((caught as Error).message).toContain(message);
  else expect((caught as Error).message).toMatch(message);
}

describe('applyKeyMapping', () => {
  it('applies strip → replace → drop / keep, in that order', () => {
    const mapping = {
      strip_prefix: ['module.', 'module.encoder.'],
      replace: [
        { from: '^enc\\.', to: 'vision_model.' },
        { from: '\\.ln(\\d)\\.', to: '.layer_norm$1.' },
      ],
      drop: ['^vision_model\\.aux\\.'],
      keep: ['^vision_model\\.', '^head\\.'],
    };
    const out = applyKeyMapping(
      named(['module.enc.layers.0.ln1.weight', 'module.enc.aux.x', 'module.head.weight', 'other.thing', 'enc.ln2.bias']),
      mapping,
    );
    expect([...out.keys()]).toEqual(['vision_model.layers.0.layer_norm1.weight', 'head.weight', 'vision_model.layer_norm2.bias']);
    // Only the first matching prefix is stripped.
    expect(mapKey('module.encoder.x', { strip_prefix: ['module.', 'module.encoder.'] })).toBe('encoder.x');
    // drop is tested after replace.
    expect(mapKey('a.b', { replace: [{ from: 'a', to: 'z' }], drop: ['^a'] })).toBe('z.b');
    expect(mapKey('a.b', { replace: [{ from: 'a', to: 'z' }], drop: ['^z'] })).toBeNull();
    // keeps the tensor objects themselves.
    const src = named(['x']);
    expect(applyKeyMapping(src, {}).get('x')).toBe(src.get('x'));
  });

  it('errors when two keys map to the same name', () => {
    throwsUser(
      () => applyKeyMapping(named(['model.a', 'a']), { strip_prefix: ['model.'] }),
      'key mapping maps both "model.a" and "a" to "a"',
    );
  });

  it('reports invalid regexes by field', () => {
    throwsUser(() => applyKeyMapping(named(['a']), { drop: ['('] }), /key mapping drop\[0\]: "\(" is not a valid regex/);
    throwsUser(() => keyMappingPreset('nope'), 'unknown key mapping preset "nope"; known: yermakov-2025, yermakov-2025-followup');
  });
});

describe('presets', () => {
  it('yermakov-2025 maps the PEFT LN-tuning Lightning state dict to HF CLIP names', () => {
    const p = 'feature_extractor.base_model.model.vision_model.';
    const keys = [
      `${p}embeddings.class_embedding`,
      `${p}embeddings.patch_embedding.weight`,
      `${p}embeddings.position_embedding.weight`,
      `${p}pre_layrnorm.base_layer.weight`,
      `${p}pre_layrnorm.ln_tuning_layers.default.weight`,
      `${p}encoder.layers.3.layer_norm2.base_layer.bias`,
      `${p}encoder.layers.3.layer_norm2.ln_tuning_layers.default.bias`,
      `${p}encoder.layers.3.self_attn.q_proj.weight`,
      `${p}post_layernorm.ln_tuning_layers.default.weight`,
      `${p}post_layernorm.base_layer.weight`,
      'model.linear.weight',
      'model.linear.bias',
    ];
    const out = applyKeyMapping(named(keys), KEY_MAPPING_PRESETS['yermakov-2025']!);
    expect([...out.keys()]).toEqual([
      'vision_model.embeddings.class_embedding',
      'vision_model.embeddings.patch_embedding.weight',
      'vision_model.embeddings.position_embedding.weight',
      'vision_model.pre_layrnorm.weight',
      'vision_model.encoder.layers.3.layer_norm2.bias',
      'vision_model.encoder.layers.3.self_attn.q_proj.weight',
      'vision_model.post_layernorm.weight',
      'head.weight',
      'head.bias',
    ]);
    // The tuned copy, not the frozen base layer, is what survives.
    const src = named(keys);
    const mapped = applyKeyMapping(src, keyMappingPreset('yermakov-2025'));
    expect(mapped.get('vision_model.pre_layrnorm.weight')).toBe(src.get(`${p}pre_layrnorm.ln_tuning_layers.default.weight`));
    // Without the PEFT wrapper the same preset still applies.
    expect(mapKey('feature_extractor.vision_model.pre_layrnorm.weight', keyMappingPreset('yermakov-2025'))).toBe('vision_model.pre_layrnorm.weight');
  });

  it('yermakov-2025 applied to a real Lightning checkpoint written by torch', async () => {
    const { tensors } = await readTorchCheckpoint(join(FIXTURES, 'lightning.ckpt'));
    const mapped = applyKeyMapping(tensors, keyMappingPreset('yermakov-2025'));
    expect([...mapped.keys()]).toEqual([
      'vision_model.embeddings.class_embedding',
      'vision_model.embeddings.patch_embedding.weight',
      'vision_model.pre_layrnorm.weight',
      'vision_model.pre_layrnorm.bias',
      'vision_model.encoder.layers.0.self_attn.q_proj.weight',
      'vision_model.encoder.layers.0.layer_norm1.weight',
      'head.weight',
      'head.bias',
    ]);
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'lightning.ckpt.expected.json'), 'utf8')) as {
      tensors: Record<string, { values: number[] }>;
    };
    expect(Array.from(mapped.get('vision_model.pre_layrnorm.weight')!.data)).toEqual(
      expected.tensors['feature_extractor.base_model.model.vision_model.pre_layrnorm.ln_tuning_layers.default.weight']!.values,
    );
    expect(mapped.get('head.weight')!.shape).toEqual([2, 4]);
  });

  it('yermakov-2025-followup maps the GenD Hugging Face safetensors names', () => {
    const keys = [
      'feature_extractor.vision_model.embeddings.class_embedding',
      'feature_extractor.vision_model.encoder.layers.0.layer_norm1.weight',
      'feature_extractor.vision_model.post_layernorm.bias',
      'feature_extractor.visual_projection.weight',
      'model.linear.weight',
      'model.linear.bias',
    ];
    const out = applyKeyMapping(named(keys), keyMappingPreset('yermakov-2025-followup'));
    expect([...out.keys()]).toEqual([
      'vision_model.embeddings.class_embedding',
      'vision_model.encoder.layers.0.layer_norm1.weight',
      'vision_model.post_layernorm.bias',
      'visual_projection.weight',
      'head.weight',
      'head.bias',
    ]);
  });
});

describe('matchState', () => {
  const expected = new Map<string, number[]>([
    ['vision_model.embeddings.class_embedding', [32]],
    ['vision_model.pre_layrnorm.weight', [32]],
    ['head.weight', [2, 32]],
    ['head.bias', [2]],
    ['vision_model.embeddings.position_ids', [1, 5]],
  ]);

  it('lists missing, unexpected and mismatched tensors, skipping CLIP text-tower keys by default', () => {
    const given: NamedTensors = new Map([
      ['vision_model.embeddings.class_embedding', t(32)],
      ['vision_model.pre_layrnorm.weight', t(16)],
      ['head.weight', t(2, 32)],
      ['extra.thing', t(1)],
      ['text_model.embeddings.token_embedding.weight', t(4, 4)],
      ['text_projection.weight', t(4, 4)],
      ['logit_scale', t()],
    ]);
    const m = matchState(expected, given);
    expect(m).toEqual({
      missing: ['head.bias'],
      unexpected: ['extra.thing'],
      mismatched: [{ name: 'vision_model.pre_layrnorm.weight', expected: [32], got: [16] }],
    });
    expect(stateMatches(m)).toBe(false);
    const msg = formatStateMatch(m, { source: 'model.ckpt' });
    expect(msg).toContain('model.ckpt: weights do not match the model');
    expect(msg).toContain('missing 1 tensor(s):\n  head.bias');
    expect(msg).toContain('unexpected 1 tensor(s):\n  extra.thing');
    expect(msg).toContain('vision_model.pre_layrnorm.weight: expected [32], got [16]');
    expect(CLIP_DEFAULT_SKIP.map(String)).toEqual(['/^text_model\\./', '/^text_projection/', '/^logit_scale$/', '/position_ids$/']);
    // A custom skip list replaces the default.
    expect(matchState(expected, given, { skip: [] }).unexpected).toContain('logit_scale');
  });

  it('passes for the clip-tiny fixture against its own shapes, and hints at a missing prefix', () => {
    const weights = readSafetensors(CLIP_TINY);
    const shapes = new Map([...weights].map(([k, v]) => [k, v.shape]));
    expect(stateMatches(matchState(shapes, weights))).toBe(true);
    expect(() => assertStateMatches(shapes, weights)).not.toThrow();

    const prefixed: NamedTensors = new Map([...weights].map(([k, v]) => [`feature_extractor.${k}`, v]));
    let caught: unknown;
    try {
      assertStateMatches(shapes, prefixed, { source: 'gend.safetensors' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    const msg = (caught as Error).message;
    expect(msg).toContain('missing 40 tensor(s)');
    expect(msg).toContain('… and 20 more');
    expect(msg).toContain('hint: checkpoint keys carry a prefix ("feature_extractor.")');
  });
});
