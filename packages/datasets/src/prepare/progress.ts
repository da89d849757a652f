/** A one-line progress display on stderr: redrawn in place on a terminal, silent otherwise (the per-item log lines remain). */
export class ProgressLine {
  private last = '';
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Replaces the live line. */
  update(text: string): void {
    if (!this.tty) return;
    const width = Math.max(20, (this.stream.columns || 100) - 1);
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.last.length - line.length))}`);
    this.last = line;
  }

  /** Prints a permanent line above the live one. */
  log(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  clear(): void {
    if (this.tty && this.last) this.stream.write(`\r${' '.repeat(this.last.length)}\r`);
    this.last = '';
  }
}

export function bar(done: number, total: number, width = 20): string {
  const f = total > 0 ? Math.min(1, done / total) : 1;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total}`;
}
