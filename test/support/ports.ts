/** Ports for tests: one that was just free (nothing listens on it now). */
import { createServer } from 'node:net';

/** A 127.0.0.1 port the OS just handed out and that was closed again: free to listen on, refused to connect to. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
