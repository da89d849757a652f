import { readFileSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UserError, writeFileAtomic } from '@dfdet/core';

export interface PredictionRow {
  path: string;
  video: string;
  label: number;
  p_fake: number;
}

const MAX_BYTES = 512 * 1024 * 1024;

function cell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function writePredictionsCsv(file: string, rows: PredictionRow[]): void {
  const lines = ['path,video,label,p_fake', ...rows.map((r) => [cell(r.path), cell(r.video), String(r.label), String(r.p_fake)].join(','))];
  writeFileAtomic(file, `${lines.join('\n')}\n`);
}

/** Reads a predictions file (columns path, video, label, p_fake), checking every row. */
export function readPredictionsCsv(file: string): PredictionRow[] {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UserError(`predictions file not found: ${file}`);
  }
  if (size > MAX_BYTES) throw new UserError(`${file}: ${size} bytes is larger than the ${MAX_BYTES}-byte limit for a predictions file`);
  let records: Record<string, string>[];
  try {
    records = parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new UserError(`${file}: not valid CSV (${(err as Error).message})`);
  }
  if (records.length === 0) throw new UserError(`${file}: no rows`);
  const missing = ['path', 'video', 'label', 'p_fake'].filter((c) => !(c in records[0]!));
  if (missing.length) throw new UserError(`${file}: missing column(s) ${missing.join(', ')}; expected path, video, label, p_fake`);
  return records.map((r, i) => {
    const line = i + 2;
    const label = Number(r.label);
    const p = Number(r.p_fake);
    if (label !== 0 && label !== 1) throw new UserError(`${file}:${line}: label must be 0 (real) or 1 (fake), got ${JSON.stringify(r.label)}`);
    if (!(p >= 0 && p <= 1)) throw new UserError(`${file}:${line}: p_fake must be a number in [0, 1], got ${JSON.stringify(r.p_fake)}`);
    return { path: r.path!, video: r.video || r.path!, label, p_fake: p };
  });
}
