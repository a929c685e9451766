// Topics over HTTP: one consume (POST /v1/api/topics/consume, a long poll when asked) and
// one acknowledgement (POST /v1/api/topics/ack), their options checked here and their
// answers turned into TopicMessages. The loop that uses both is topic_consumer.ts.

import { KalamError } from './errors.js';
import { type JsonValue, parseJson } from './json.js';
import type { AckOptions, ConsumeOptions, ConsumeResult, TopicMessage, TopicStart } from './types.js';

/** One authorized POST of the client (a refused token retried once). */
export type Post = (path: string, body: unknown, signal?: AbortSignal) => Promise<Record<string, JsonValue>>;

export async function consumeTopic<T = JsonValue>(post: Post, options: ConsumeOptions): Promise<ConsumeResult<T>> {
  const body: Record<string, unknown> = { topic_id: topicId(options?.topic, 'consume') };
  if (options.group !== undefined) body['group_id'] = groupId(options.group, 'consume');
  if (options.start !== undefined) body['start'] = startOption(options.start);
  if (options.limit !== undefined) body['limit'] = integerOption(options.limit, 'limit', 1);
  if (options.partition !== undefined) body['partition_id'] = integerOption(options.partition, 'partition', 0);
  if (options.timeoutSeconds !== undefined) body['timeout_seconds'] = integerOption(options.timeoutSeconds, 'timeoutSeconds', 0);
  const answer = await post('/v1/api/topics/consume', body, options.signal);
  const messages = answer['messages'];
  if (!Array.isArray(messages)) throw new KalamError('INVALID_RESPONSE', 'consume: the answer has no messages');
  return {
    messages: messages.map((m) => toMessage<T>(m)),
    nextOffset: Number(answer['next_offset'] ?? 0),
    hasMore: answer['has_more'] === true,
  };
}

/** Commits the group's progress; resolves to its acknowledged offset (which never goes back). */
export async function ackTopic(post: Post, options: AckOptions): Promise<number> {
  const body = {
    topic_id: topicId(options?.topic, 'ack'),
    group_id: groupId(options.group, 'ack'),
    partition_id: options.partition === undefined ? 0 : integerOption(options.partition, 'partition', 0),
    upto_offset: integerOption(options.uptoOffset, 'uptoOffset', 0),
  };
  const answer = await post('/v1/api/topics/ack', body, options.signal);
  return Number(answer['acknowledged_offset']);
}

export function topicId(topic: unknown, call: string): string {
  if (typeof topic !== 'string' || !topic) throw new KalamError('INVALID_INPUT', `${call}: topic is required ('namespace.name')`);
  return topic;
}

export function groupId(group: unknown, call: string): string {
  if (typeof group !== 'string' || !group) throw new KalamError('INVALID_INPUT', `${call}: group is required`);
  return group;
}

/** The server's form of a start; INVALID_INPUT for anything else. */
export function startOption(start: TopicStart): unknown {
  if (start === 'latest') return 'Latest';
  if (start === 'earliest') return 'Earliest';
  if (start && typeof start === 'object' && 'offset' in start) return { Offset: integerOption(start.offset, 'start.offset', 0) };
  throw new KalamError('INVALID_INPUT', "start is 'latest', 'earliest' or { offset: n }");
}

/** An integer option of at least `least`; INVALID_INPUT otherwise. */
export function integerOption(value: unknown, name: string, least: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
    throw new KalamError('INVALID_INPUT', `${name} must be an integer of ${least} or more`);
  }
  return value;
}

function toMessage<T>(raw: JsonValue): TopicMessage<T> {
  const m = raw as Record<string, JsonValue>;
  const payloadText = typeof m['payload'] === 'string' ? m['payload'] : '';
  let payload: JsonValue;
  try {
    payload = payloadText ? parseJson(payloadText) : null;
  } catch {
    throw new KalamError('INVALID_RESPONSE', `consume: the payload of offset ${String(m['offset'])} is not JSON`);
  }
  return {
    topic: String(m['topic_id']),
    partition: Number(m['partition_id']),
    offset: Number(m['offset']),
    op: m['op'] as TopicMessage['op'],
    key: String(m['key'] ?? ''),
    user: typeof m['user'] === 'string' ? m['user'] : null,
    timestampMs: Number(m['timestamp_ms']),
    payload: payload as T,
    payloadText,
  };
}
