import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { UserError } from '@dfdet/core';

export interface ListFileLimits {
  /** Largest list file read, in bytes. */
  maxBytes: number;
  /** Longest line accepted, in characters. */
  maxLineLength: number;
}

export const DEFAULT_LIST_LIMITS: ListFileLimits = { maxBytes: 64 * 1024 * 1024, maxLineLength: 4096 };

export interface ListLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
}

/**
 * Reads an untrusted text file of one entry per line: blank lines and lines starting with `#` are dropped,
 * surrounding whitespace trimmed. Bounded in size and line length; NUL and other control characters are
 * rejected. Every error names the file (and the line).
 */
export function readListFile(file: string, limits: ListFileLimits = DEFAULT_LIST_LIMITS, what = 'list file'): ListLine[] {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UserError(`${what} ${file} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what} not found: ${file}`);
  }
  if (size > limits.maxBytes) {
    throw new UserError(`${what} ${file} is ${size} bytes, over the limit of ${limits.maxBytes}; split it or raise the limit`);
  }
  const buf = Buffer.alloc(size);
  const fd = openSync(file, 'r');
  try {
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: ListLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const where = `${file}:${i + 1}`;
    if (raw.length > limits.maxLineLength) {
      throw new UserError(`${where}: line is ${raw.length} characters, over the limit of ${limits.maxLineLength}`);
    }
    // eslint-disable-next-line no-control-regex
    const bad = /[\u0000-\u0008\u000b-\u001f\u007f]/.exec(raw);
    if (bad) {
      throw new UserError(`${where}: control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} in line (is this a text list of paths?)`);
    }
    if (raw.includes('\ufffd')) throw new UserError(`${where}: line is not valid UTF-8`);
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}
