/**
 * One admin connection for the length of `f`: opened, handed to `f`, disconnected afterwards
 * whatever `f` did. A failed disconnect is not `f`'s failure (what was read was read); the
 * connection is gone either way. The sources, sinks, pipeline and `view` each wrote this
 * open / try / finally-disconnect themselves.
 */
import type { KafkaAdmin, KafkaClient } from './client.js';

export async function withAdmin<T>(client: KafkaClient, f: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const admin = await client.admin();
  try {
    return await f(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
