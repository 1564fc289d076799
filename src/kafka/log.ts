/**
 * The logger shape the Kafka modules write to: a pino-compatible subset, so the project logger
 * (pino) plugs in directly and tests can pass a silent one.
 */
export interface KafkaLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: KafkaLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
