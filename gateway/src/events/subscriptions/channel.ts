/**
 * A push/pull queue between the code that resolves events and the transport that sends them.
 * Unlike an async generator, `return()` ends it at once even while nothing is being sent (a client
 * that unsubscribes while waiting for the next event), and `room()` lets the producer wait for a
 * slow client instead of queueing without bound.
 */
interface Pull<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: Error): void;
}

export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = [];
  private readonly pulls: Pull<T>[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private finished = false;
  private failure: Error | null = null;

  constructor(
    private readonly capacity: number,
    /** Called once when the channel ends, whoever ends it. */
    private readonly onEnd: () => void,
  ) {}

  get ended(): boolean {
    return this.finished;
  }

  push(value: T): void {
    if (this.finished) return;
    const pull = this.pulls.shift();
    if (pull) pull.resolve({ value, done: false });
    else this.buffered.push(value);
  }

  /** Resolves when the consumer has room for another value (or the channel ended). */
  room(): Promise<void> {
    if (this.finished || this.buffered.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Ends after what is buffered; with an error, the consumer's pull after that rejects with it. */
  end(error: Error | null = null): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    this.onEnd();
    this.roomWaiters.splice(0).forEach((resolve) => resolve());
    // Waiting pulls mean nothing is buffered: they get the end now.
    for (const pull of this.pulls.splice(0)) this.settle(pull);
  }

  private settle(pull: Pull<T>): void {
    const failure = this.failure;
    this.failure = null;
    if (failure) pull.reject(failure);
    else pull.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length) {
      const value = this.buffered.shift()!;
      this.roomWaiters.splice(0).forEach((resolve) => resolve());
      return Promise.resolve({ value, done: false });
    }
    return new Promise((resolve, reject) => {
      const pull = { resolve, reject };
      if (this.finished) this.settle(pull);
      else this.pulls.push(pull);
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.buffered.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Transports call this to abort; it ends the stream like `return()`. */
  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
