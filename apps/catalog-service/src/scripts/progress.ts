/**
 * Progress of a long command with rate and ETA: a bar redrawn in place on a terminal, a plain line every
 * `everyMs` otherwise (a log file, CI), so a person or a log reader always sees it moving.
 */
export class Progress {
  private readonly began: number;
  private last = 0;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly unit: string,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly everyMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {
    this.began = now();
    this.tty = Boolean(out.isTTY);
  }

  /** `done` of `total` are finished; prints if a terminal redraw (5/s) or a log line (everyMs) is due. */
  update(done: number): void {
    const t = this.now();
    if (t - this.last < (this.tty ? 200 : this.everyMs)) return;
    this.last = t;
    this.out.write(this.tty ? `\r${this.line(done, t, true)}` : `${this.line(done, t, false)}\n`);
  }

  /** Clears the bar on a terminal; the caller prints its summary. */
  end(): void {
    if (this.tty && this.last > 0) this.out.write('\r\x1b[K');
  }

  line(done: number, t = this.now(), bar = false): string {
    const seconds = Math.max(0.001, (t - this.began) / 1000);
    const rate = done / seconds;
    const share = this.total > 0 ? done / this.total : 1;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const width = 30;
    const filled = Math.round(share * width);
    const head = bar ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '  ';
    return (
      `${head}${done.toLocaleString('en')} of ${this.total.toLocaleString('en')} ${this.unit} ` +
      `(${(share * 100).toFixed(0)} %), ${Math.round(rate).toLocaleString('en')}/s, ETA ${formatSeconds(eta)}`
    );
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
