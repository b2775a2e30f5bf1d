/**
 * A periodic pass that never overlaps itself: a tick while the previous pass runs is skipped, a failed pass
 * is reported and retried at the next tick, and idle() lets shutdown wait for the pass in flight.
 */
export class SerialPass {
  private running?: Promise<unknown>;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly onError: (e: Error) => void,
  ) {}

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.pass();
    try {
      await this.running;
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.running = undefined;
    }
  }

  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
