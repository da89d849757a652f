import sharp from 'sharp';
import { writeFileAtomic } from '@dfdet/core';
import { rocCurve } from '../metrics/binary.js';

export interface DatasetResult {
  dataset: string;
  frame: Record<string, number>;
  video: Record<string, number>;
  /** For the ROC figure. */
  labels: number[];
  scores: number[];
}

const COLUMNS: [string, string][] = [
  ['mAP', 'mAP'],
  ['auroc', 'AUROC'],
  ['eer', 'EER'],
  ['accuracy', 'Acc'],
  ['tpr_at_fpr_5', 'TPR@5%'],
];

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : (100 * v).toFixed(2));

/** The cross-dataset table: one row per dataset, frame and video metrics (percent), plus the mean row. */
export function markdownTable(results: DatasetResult[]): string {
  const header = ['dataset', 'frames', 'videos', ...COLUMNS.map(([, h]) => `frame ${h}`), ...COLUMNS.map(([, h]) => `video ${h}`)];
  const rows = results.map((r) => [r.dataset, String(r.frame.n), String(r.video.n), ...COLUMNS.map(([k]) => fmt(r.frame[k])), ...COLUMNS.map(([k]) => fmt(r.video[k]))]);
  if (results.length > 1) {
    const mean = (level: 'frame' | 'video', k: string) => results.reduce((s, r) => s + (r[level][k] ?? Number.NaN), 0) / results.length;
    rows.push(['**mean**', '', '', ...COLUMNS.map(([k]) => fmt(mean('frame', k))), ...COLUMNS.map(([k]) => fmt(mean('video', k)))]);
  }
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function csvTable(results: DatasetResult[]): string {
  const keys = Object.keys(results[0]?.frame ?? {});
  const head = ['dataset', ...keys.map((k) => `frame_${k}`), ...keys.map((k) => `video_${k}`)];
  return [head.join(','), ...results.map((r) => [r.dataset, ...keys.map((k) => r.frame[k]), ...keys.map((k) => r.video[k])].join(','))].join('\n') + '\n';
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

/** ROC curves (frame level) of every dataset as an SVG, diagonal for reference. */
export function rocSvg(results: DatasetResult[], size = 480): string {
  const pad = 48;
  const w = size;
  const h = size;
  const x = (v: number) => pad + v * (w - 2 * pad);
  const y = (v: number) => h - pad - v * (h - 2 * pad);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<rect x="${pad}" y="${pad}" width="${w - 2 * pad}" height="${h - 2 * pad}" fill="none" stroke="#333"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#aaa" stroke-dasharray="4 4"/>`,
    `<text x="${w / 2}" y="${h - 14}" text-anchor="middle">false positive rate</text>`,
    `<text x="14" y="${h / 2}" text-anchor="middle" transform="rotate(-90 14 ${h / 2})">true positive rate</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<text x="${x(t)}" y="${h - pad + 16}" text-anchor="middle">${t}</text>`, `<text x="${pad - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  results.forEach((r, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (new Set(r.labels).size < 2) return;
    const roc = rocCurve(r.labels, r.scores);
    const pts = Array.from(roc.fpr, (f, k) => `${x(f).toFixed(1)},${y(roc.tpr[k]!).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const auc = r.frame.auroc;
    parts.push(
      `<rect x="${w - pad - 170}" y="${h - pad - 18 * (results.length - i)}" width="12" height="12" fill="${color}"/>`,
      `<text x="${w - pad - 152}" y="${h - pad - 18 * (results.length - i) + 10}">${escapeXml(r.dataset)} (AUC ${fmt(auc)})</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export async function writeRocPng(file: string, results: DatasetResult[]): Promise<void> {
  writeFileAtomic(file, await sharp(Buffer.from(rocSvg(results))).png().toBuffer());
}
