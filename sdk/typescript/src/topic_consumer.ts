// A worker's loop over a topic: per partition, long-poll for messages as a member of a
// consumer group, hand them to the app's handler, and acknowledge what it handled.
//
// Acknowledgements are cumulative ("everything up to offset o"), so a message whose handler
// threw holds back every acknowledgement of its partition above it: the loop acknowledges
// up to the highest handled offset below its lowest failure. The failed message comes back
// once its reservation lapses (the server's visibility timeout) and is handed over again;
// messages after it that were handled but not acknowledged come back too and are skipped,
// not handed over twice. A request that fails (network, server restart, 5xx) is retried
// after an exponential backoff; the loop ends only by stop() or the caller's signal.

import { KalamError } from './errors.js';
import type { JsonValue } from './json.js';
import { ackTopic, consumeTopic, groupId, integerOption, type Post, startOption, topicId } from './topics.js';
import type { ConsumerErrorContext, ConsumerHandle, ConsumerOptions, TopicMessage } from './types.js';

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 10_000;

export class TopicConsumer<T = JsonValue> implements ConsumerHandle {
  readonly done: Promise<void>;
  private readonly abort = new AbortController();
  private readonly topic: string;
  private readonly group: string;
  private readonly batchSize: number;
  private readonly timeoutSeconds: number;

  constructor(
    private readonly post: Post,
    private readonly options: ConsumerOptions<T>,
    private readonly warn: (message: string) => void,
  ) {
    this.topic = topicId(options?.topic, 'runConsumer');
    this.group = groupId(options.group, 'runConsumer');
    if ((typeof options.handler === 'function') === (typeof options.batchHandler === 'function')) {
      throw new KalamError('INVALID_INPUT', 'runConsumer: give handler or batchHandler (one of them)');
    }
    const partitions = options.partitions ?? [0];
    if (!Array.isArray(partitions) || partitions.length === 0 || new Set(partitions).size !== partitions.length ||
        !partitions.every((p) => Number.isSafeInteger(p) && p >= 0)) {
      throw new KalamError('INVALID_INPUT', 'runConsumer: partitions is a list of distinct partition numbers');
    }
    this.batchSize = integerOption(options.batchSize ?? 100, 'runConsumer: batchSize', 1);
    // At least 1: a loop that polls without waiting would send request after request.
    this.timeoutSeconds = integerOption(options.timeoutSeconds ?? 20, 'runConsumer: timeoutSeconds', 1);
    if (options.start !== undefined) startOption(options.start);

    const signal = options.signal;
    const stopBySignal = () => this.abort.abort();
    if (signal?.aborted) this.abort.abort();
    else signal?.addEventListener('abort', stopBySignal, { once: true });
    this.done = Promise.all(partitions.map((p) => this.run(p))).then(() => {
      signal?.removeEventListener('abort', stopBySignal);
    });
  }

  stop(): Promise<void> {
    this.abort.abort();
    return this.done;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(partition: number): Promise<void> {
    const progress = new PartitionProgress();
    let failures = 0;  // requests failed in a row, for the backoff
    while (!this.stopped) {
      let messages: TopicMessage<T>[];
      try {
        ({ messages } = await consumeTopic<T>(this.post, {
          topic: this.topic,
          group: this.group,
          partition,
          start: this.options.start,
          limit: this.batchSize,
          // The server answers a waiting poll when a message is appended and when a range
          // the group holds lapses, so a failed message comes back within this poll.
          timeoutSeconds: this.timeoutSeconds,
          signal: this.abort.signal,
        }));
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof KalamError && error.code === 'NOT_FOUND') progress.forget();
        this.report(error, { stage: 'consume', partition });
        await this.pause(++failures);
        continue;
      }
      await this.handle(messages, progress, partition);
      if (await this.acknowledge(progress, partition)) {
        failures = 0;
      } else {
        await this.pause(++failures);
      }
    }
  }

  /** Hands the messages not handled before to the handler, in offset order; stops early
   *  when the loop is stopped (the rest come back to the group after the timeout). */
  private async handle(messages: TopicMessage<T>[], progress: PartitionProgress, partition: number): Promise<void> {
    const fresh = messages.filter((m) => !progress.isHandled(m.offset));
    if (this.options.batchHandler) {
      if (fresh.length === 0) return;
      try {
        await this.options.batchHandler(fresh);
        for (const m of fresh) progress.succeeded(m.offset);
      } catch (error) {
        for (const m of fresh) progress.failed(m.offset);
        this.report(error, { stage: 'handler', partition, messages: fresh });
      }
      return;
    }
    for (const message of fresh) {
      if (this.stopped) return;
      try {
        await this.options.handler!(message);
        progress.succeeded(message.offset);
      } catch (error) {
        progress.failed(message.offset);
        this.report(error, { stage: 'handler', partition, messages: [message] });
      }
    }
  }

  /** Sends the acknowledgement the progress allows, if any; false when it failed. Not
   *  aborted by stop(): what was handled is acknowledged on the way out. */
  private async acknowledge(progress: PartitionProgress, partition: number): Promise<boolean> {
    const upto = progress.ackTarget();
    if (upto === null) return true;
    try {
      const committed = await ackTopic(this.post, { topic: this.topic, group: this.group, partition, uptoOffset: upto });
      progress.acknowledged(upto, committed);
      return true;
    } catch (error) {
      this.report(error, { stage: 'ack', partition });
      return false;
    }
  }

  /** Waits out the backoff after `failures` failed requests in a row; stop() ends it early. */
  private pause(failures: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 16));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, delay);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private report(error: unknown, context: ConsumerErrorContext<T>): void {
    if (this.options.onError) {
      try {
        this.options.onError(error, context);
      } catch {
        // an onError that throws must not end the loop
      }
      return;
    }
    this.warn(`consumer ${this.topic} group ${this.group} partition ${context.partition}: ` +
      `${context.stage} failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

/** What one loop knows of its partition: the offsets it handled and has not yet had
 *  acknowledged, and the ones whose handler threw and have not been handled since. An
 *  offset leaves both once acknowledged, so a group reset to an earlier offset (RESET
 *  CONSUMER GROUP) is handed over again. */
class PartitionProgress {
  private readonly handled = new Set<number>();
  private readonly failedOffsets = new Set<number>();

  isHandled(offset: number): boolean {
    return this.handled.has(offset);
  }

  succeeded(offset: number): void {
    this.failedOffsets.delete(offset);
    this.handled.add(offset);
  }

  failed(offset: number): void {
    this.failedOffsets.add(offset);
  }

  /** The highest handled offset below every failure, or null when there is none. */
  ackTarget(): number | null {
    let lowestFailure = Infinity;
    for (const offset of this.failedOffsets) lowestFailure = Math.min(lowestFailure, offset);
    let target: number | null = null;
    for (const offset of this.handled) if (offset < lowestFailure && (target === null || offset > target)) target = offset;
    return target;
  }

  /** Acknowledged up to `upto`; the server answered `committed`, further when another
   *  consumer of the group acknowledged more: what lies below it is done for the group. */
  acknowledged(upto: number, committed: number): void {
    const done = Math.max(upto, committed);
    for (const o of this.handled) if (o <= done) this.handled.delete(o);
    for (const o of this.failedOffsets) if (o <= done) this.failedOffsets.delete(o);
  }

  /** The topic is gone (dropped, perhaps made again with offsets from 0). */
  forget(): void {
    this.handled.clear();
    this.failedOffsets.clear();
  }
}
