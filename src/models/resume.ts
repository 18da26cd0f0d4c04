// Decoding that rides out a device loss. A decoder's cache (GPU state) is zeroed when the device is
// lost and recovered, so each run that reads it is checked: when a loss cut the run short, or was
// seen since the cache was filled, the cache is rebuilt (the prompt or encoder run, then the steps
// over the tokens produced so far) and the run is made again with the same feeds.
import { DeviceLostError } from '../errors';

/** Device losses one call rides out (each rebuilds the cache); the next one rejects. */
const MAX_RECOVERIES = 3;

export class CacheReplay {
  /** Cache rebuilds so far, over every call. */
  recoveries = 0;
  /** The runtime's loss count when the cache was last filled; -1 before the first fill. */
  private cacheAt = -1;

  /**
   * @param losses the runtime's device-loss count (rt.deviceLosses)
   * @param rebuild refills the cache: the first run (prompt, encoder), then the steps for positions 0..upTo-1
   */
  constructor(
    private readonly losses: () => number,
    private readonly rebuild: (upTo: number) => Promise<void>,
    private readonly what: string,
  ) {}

  /**
   * Runs `fn`, which reads a cache holding `cacheLen` positions (the first run, which fills it, has
   * 0), until it completes with no loss seen since the cache was filled.
   */
  async run<T>(fn: () => Promise<T>, cacheLen: number): Promise<T> {
    let lost = 0;
    for (;;) {
      try {
        if (this.cacheAt >= 0 && this.losses() !== this.cacheAt) {
          const before = this.losses();
          await this.rebuild(cacheLen);
          this.cacheAt = before;
        }
        const before = this.losses();
        const out = await fn();
        if (this.cacheAt < 0) this.cacheAt = before;
        if (this.losses() === this.cacheAt) return out;
      } catch (e) {
        if (!(e instanceof DeviceLostError && e.recovering)) throw e;
      }
      this.recoveries++;
      if (++lost > MAX_RECOVERIES) {
        throw new DeviceLostError(`${this.what}: the device was lost ${lost} times in one call; giving up`);
      }
    }
  }
}
