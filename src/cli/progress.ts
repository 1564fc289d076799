/** A one-line progress bar on a TTY stream (stderr); a no-op elsewhere, so logs stay clean. */
export class ProgressBar {
  private readonly enabled: boolean;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(done: number, total: number, note = ''): void {
    if (!this.enabled) return;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const fill = Math.round(frac * this.width);
    this.stream.write(`\r[${'#'.repeat(fill)}${'-'.repeat(this.width - fill)}] ${done}/${total} ${note}\x1b[K`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
