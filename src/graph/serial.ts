// One-at-a-time execution of async calls on one object (an executable, a decoder): each call starts
// after the previous one settles, in call order, and a rejected call does not block the next.

export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
