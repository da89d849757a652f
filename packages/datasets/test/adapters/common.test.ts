import { describeOptions, z } from '@dfdet/core';
import { describe, expect, it } from 'vitest';
import {
  datasetPlugins,
  globToRegExp,
  labelFromSource,
  limitFiles,
  naturalCompare,
  numpyLegacyShuffle,
  parseIdentity,
  uniformSubset,
} from '../../src/adapters/index.js';

describe('helpers', () => {
  it('uniformSubset equals np.linspace(0, n - 1, k, dtype=int)', () => {
    // from numpy 2.4; 39 frames, 4 kept → 000, 012, 025, 038 as in the paper's sample images
    const ref: Record<string, number[]> = {
      '10,3': [0, 4, 9],
      '39,4': [0, 12, 25, 38],
      '32,8': [0, 4, 8, 13, 17, 22, 26, 31],
      '300,32': [0, 9, 19, 28, 38, 48, 57, 67, 77, 86, 96, 106, 115, 125, 135, 144, 154, 163, 173, 183, 192, 202, 212, 221, 231, 241, 250, 260, 270, 279, 289, 299],
      '100,7': [0, 16, 33, 49, 66, 82, 99],
      '5,5': [0, 1, 2, 3, 4],
      '7,2': [0, 6],
    };
    for (const [key, want] of Object.entries(ref)) {
      const [n, k] = key.split(',').map(Number) as [number, number];
      expect(uniformSubset(Array.from({ length: n }, (_, i) => i), k), key).toEqual(want);
    }
    expect(uniformSubset([1, 2, 3], 10)).toEqual([1, 2, 3]);
    expect(uniformSubset([1, 2, 3], 1)).toEqual([1]);
    expect(uniformSubset([1, 2, 3], undefined)).toEqual([1, 2, 3]);
  });

  it('numpyLegacyShuffle equals np.random.RandomState(seed).shuffle(list)', () => {
    const shuffled = (n: number, seed: number) => numpyLegacyShuffle(Array.from({ length: n }, (_, i) => i), seed);
    // reference values printed by numpy 2.4
    expect(shuffled(5, 42)).toEqual([1, 4, 2, 0, 3]);
    expect(shuffled(10, 42)).toEqual([8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
    expect(shuffled(37, 42).slice(0, 12)).toEqual([17, 13, 4, 29, 35, 25, 6, 26, 24, 16, 8, 15]);
    expect(shuffled(1000, 42).slice(0, 12)).toEqual([521, 737, 740, 660, 411, 678, 626, 513, 859, 136, 811, 76]);
    expect(shuffled(1000, 42).reduce((s, v, i) => s + i * v, 0)).toBe(251374799);
    expect(shuffled(50, 7).slice(0, 10)).toEqual([13, 15, 22, 42, 30, 27, 1, 20, 10, 36]);
  });

  it("limitFiles takes whole videos in the paper's seed-42 order", () => {
    const files = ['a/0', 'a/1', 'b/0', 'b/1', 'c/0', 'c/1', 'd/0', 'd/1', 'e/0'];
    const video = (f: string) => f.split('/')[0]!;
    // RandomState(42).shuffle(['a','b','c','d','e']) → [b, e, c, a, d]
    expect(limitFiles(files, 3, video)).toEqual(['b/0', 'b/1', 'e/0']);
    expect(limitFiles(files, 100, video)).toEqual(files);
  });

  it('naturalCompare orders digit runs by value, deterministically', () => {
    expect(['f10.png', 'f9.png', 'f1.png', 'F2.png'].sort(naturalCompare)).toEqual(['F2.png', 'f1.png', 'f9.png', 'f10.png']);
    expect(['000_003', '000', '001'].sort(naturalCompare)).toEqual(['000', '000_003', '001']);
    expect(naturalCompare('a01', 'a1')).not.toBe(0);
  });

  it("labels and identities follow the paper's rules", () => {
    expect(labelFromSource('real')).toBe(0);
    expect(labelFromSource('YouTube-real')).toBe(0);
    expect(labelFromSource('Real')).toBe(0);
    expect(labelFromSource('DF')).toBe(1);
    expect(parseIdentity('071_054')).toEqual({ target: '071', identity: '054' });
    expect(parseIdentity('071')).toEqual({ target: '071', identity: '071' });
  });

  it('globToRegExp', () => {
    expect(globToRegExp('0*').test('071_054')).toBe(true);
    expect(globToRegExp('0*').test('171')).toBe(false);
    expect(globToRegExp('{00,01}?').test('013')).toBe(true);
    expect(globToRegExp('[0-4]*').test('512')).toBe(false);
    expect(globToRegExp('DF/*').test('DF/000')).toBe(true);
    expect(globToRegExp('*.x').test('a.x')).toBe(true);
    expect(globToRegExp('*.x').test('abx')).toBe(false);
  });
});

describe('dataset plugins', () => {
  it('are kebab-case dataset plugins whose options `exp list` and `exp schema` can describe', () => {
    const names = datasetPlugins.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['file-list', 'folder', 'deepfakebench', 'synthetic', 'ffpp', 'celeb-df-v2', 'dfdc', 'idforge']));
    expect(new Set(names).size).toBe(names.length);
    for (const p of datasetPlugins) {
      expect(p.kind).toBe('dataset');
      expect(p.description.length).toBeGreaterThan(20);
      const rows = describeOptions(p);
      expect(rows.length, p.name).toBeGreaterThan(0);
      expect(() => z.toJSONSchema(p.options, { io: 'input', unrepresentable: 'any' })).not.toThrow();
    }
    expect(describeOptions(datasetPlugins.find((p) => p.name === 'ffpp')!).find((r) => r.key === 'compression')).toMatchObject({ default: 'c23' });
  });
});
