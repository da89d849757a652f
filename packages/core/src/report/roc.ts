import { readFileSync } from 'node:fs';

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.length > 1 || r[0] !== '');
}

export interface Prediction {
  video: string;
  label: number;
  pFake: number;
}

/** A predictions-<dataset>.csv of `exp eval` (columns path, video, label, p_fake). */
export function readPredictions(file: string): Prediction[] {
  const rows = parseCsv(readFileSync(file, 'utf8'));
  const header = rows.shift() ?? [];
  const col = (n: string) => header.indexOf(n);
  const [v, l, p] = [col('video'), col('label'), col('p_fake')];
  if (l < 0 || p < 0) return [];
  return rows
    .map((r) => ({ video: v >= 0 ? r[v]! : '', label: Number(r[l]), pFake: Number(r[p]) }))
    .filter((r) => (r.label === 0 || r.label === 1) && Number.isFinite(r.pFake));
}

/** Mean p(fake) per video (the video-level score of the paper's protocol). */
export function videoLevel(preds: Prediction[]): Prediction[] {
  const by = new Map<string, { label: number; sum: number; n: number }>();
  for (const p of preds) {
    const e = by.get(p.video) ?? { label: p.label, sum: 0, n: 0 };
    e.sum += p.pFake;
    e.n += 1;
    by.set(p.video, e);
  }
  return [...by.entries()].map(([video, e]) => ({ video, label: e.label, pFake: e.sum / e.n }));
}

export interface RocCurve {
  points: { fpr: number; tpr: number }[];
  auc: number;
}

/** ROC with fake as the positive class: one point per distinct threshold, at most `maxPoints` (kept evenly, ends included). */
export function rocCurve(preds: Prediction[], maxPoints = 400): RocCurve | undefined {
  const pos = preds.filter((p) => p.label === 1).length;
  const neg = preds.length - pos;
  if (pos === 0 || neg === 0) return undefined;
  const sorted = [...preds].sort((a, b) => b.pFake - a.pFake);
  const pts = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i]!.label === 1) tp++;
    else fp++;
    if (i === sorted.length - 1 || sorted[i + 1]!.pFake !== sorted[i]!.pFake) pts.push({ fpr: fp / neg, tpr: tp / pos });
  }
  let auc = 0;
  for (let i = 1; i < pts.length; i++) auc += (pts[i]!.fpr - pts[i - 1]!.fpr) * (pts[i]!.tpr + pts[i - 1]!.tpr) / 2;
  return { points: thin(pts, maxPoints), auc };
}

/** At most n items, evenly spaced, first and last kept. */
export function thin<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const out: T[] = [];
  const stride = (items.length - 1) / (n - 1);
  for (let i = 0; i < n; i++) out.push(items[Math.round(i * stride)]!);
  return out;
}
