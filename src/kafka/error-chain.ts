/** What the error checks read of an error and of each error in its `cause` chain. */
export interface ErrorLike {
  readonly type?: unknown;
  readonly code?: unknown;
  readonly name?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/**
 * An error and its causes, at most four deep: kafkajs wraps the broker's error in its retry errors
 * (`KafkaJSNumberOfRetriesExceeded` → `KafkaJSProtocolError`), so a check by Kafka error type or
 * code has to look through them. Yields values as thrown: a non-object (a thrown string) too.
 */
export function* errorChain(err: unknown): Generator<ErrorLike> {
  let e = err;
  for (let depth = 0; e && depth < 4; depth++) {
    yield e as ErrorLike;
    e = (e as ErrorLike).cause;
  }
}
