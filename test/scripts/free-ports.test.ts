/**
 * The broker's ports. They were asked for one at a time, each socket closed before the next was
 * opened, and the OS may hand back the port it just got back: CI once started a broker whose
 * PLAINTEXT and CONTROLLER listeners had the same port, and KRaft refused to format the storage
 * ("two listeners on the same port"). freePorts holds every socket open until all are picked.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../scripts/kafka.js';

describe('freePorts', () => {
  it('returns n distinct ports, each free to listen on once returned', async () => {
    for (let round = 0; round < 20; round++) {
      const ports = await freePorts(4);
      expect(ports).toHaveLength(4);
      expect(new Set(ports).size).toBe(4);
      for (const port of ports) {
        const srv = createServer();
        await new Promise<void>((res, rej) => {
          srv.once('error', rej);
          srv.listen(port, '127.0.0.1', () => res());
        });
        await new Promise<void>((res) => srv.close(() => res()));
      }
    }
  });
});
