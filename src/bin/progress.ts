/**
 * A one-line progress bar for a terminal (`resync [=====     ] 120/400 users  12s left`), redrawn at
 * most ten times a second. The library ships no progress-bar dependency for this one line.
 */
export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly width = 30,
  ) {
    this.draw(true);
  }

  increment(): void {
    this.done += 1;
    this.draw(this.done === this.total);
  }

  stop(): void {
    this.draw(true);
    this.stream.write('\n');
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const share = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const filled = Math.round(share * this.width);
    const rate = this.done / Math.max(1, now - this.started);
    const left = rate > 0 ? `${Math.ceil((this.total - this.done) / rate / 1000)}s left` : '';
    this.stream.write(`\rresync [${'='.repeat(filled)}${' '.repeat(this.width - filled)}] ${this.done}/${this.total} users  ${left}\x1b[K`);
  }
}
