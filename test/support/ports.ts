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

/**
 * A 127.0.0.1 port nothing listens on, for tests of a refused connection: port 2, outside the
 * ephemeral range (Linux 32768–60999, macOS 49152–65535) that every listen(0) draws from, and not
 * one of the ports fetch refuses to call (1 is: a judge there is refused by the config). A port from
 * freePort() stays refused only until another test file's listen(0) is handed it, and a test that
 * counts on it for seconds (a CLI run retrying a judge or a broker) then reaches that server.
 */
export const REFUSED_PORT = 2;

/**
 * Whether this machine lets a socket listen on `host`. Linux answers on all of 127.0.0.0/8; macOS
 * and the BSDs configure only 127.0.0.1 on lo0 (another loopback address needs
 * `sudo ifconfig lo0 alias 127.0.0.2 up`), and listening there fails with EADDRNOTAVAIL.
 */
export async function canListenOn(host: string): Promise<boolean> {
  const s = createServer();
  return new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(0, host, () => s.close(() => resolve(true)));
  });
}
