/**
 * A TCP proxy in front of one broker listener that can lose the answer to a transaction commit
 * (or the commit request itself):
 * it forwards an EndTxn(commit) request to the broker, waits for the broker's response (so the
 * commit has happened), drops it and closes the client's connection — what a client sees when
 * the broker, or the network, goes away between doing the commit and saying so.
 *
 * Frames are parsed only as far as needed (Kafka's size-prefixed request/response framing, the
 * request header and the EndTxn body); every other byte is forwarded unchanged. The broker must
 * advertise the proxy's port for that listener (scripts/kafka.ts `advertisedPort`), or clients
 * would bypass it after bootstrap.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

const PRODUCE = 0;
const END_TXN = 26;

export interface KafkaFaultProxy {
  /** `127.0.0.1:<port>` — give this to clients. */
  readonly address: string;
  /**
   * The next `n` EndTxn(commit) requests reach the broker; their answers never reach the client.
   * `withRecords`: count only commits of transactions that produced records (a Produce request on
   * the same connection since its previous EndTxn), not offset-only ones. `lose: 'request'`: the
   * EndTxn never reaches the broker either (the connection closes before it is sent on).
   */
  dropCommitAnswers(n: number, options?: { withRecords?: boolean; lose?: 'answer' | 'request' }): void;
  /** Answers dropped so far. */
  readonly dropped: number;
  /** EndTxn(commit) requests seen so far. */
  readonly commitsSeen: number;
  close(): Promise<void>;
}

/**
 * Listens on a port the OS picks and holds it from the start (a port chosen first and bound later
 * could be taken meanwhile by a broker of another test file: EADDRINUSE seen in CI). `upstream` is
 * read at each client connection, so the broker it forwards to can start after the proxy, with
 * the proxy's port (`address`) as its advertised port.
 */
export async function startKafkaFaultProxy(upstream: () => string): Promise<KafkaFaultProxy> {
  let dropsLeft = 0;
  let onlyWithRecords = false;
  let loseRequest = false;
  let dropped = 0;
  let commitsSeen = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const target = upstream();
    const broker = connect(Number(target.slice(target.lastIndexOf(':') + 1)), target.slice(0, target.lastIndexOf(':')));
    sockets.add(client);
    sockets.add(broker);
    const toDrop = new Set<number>();
    // kafkajs sends a producer's Produce and EndTxn requests over its one connection to the broker
    let producedSinceEndTxn = false;
    const closeBoth = () => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', closeBoth);
    broker.on('error', closeBoth);
    client.on('close', () => (broker.destroy(), sockets.delete(client)));
    broker.on('close', () => (client.destroy(), sockets.delete(broker)));
    client.on(
      'data',
      framer((frame) => {
        const apiKey = frame.readInt16BE(4);
        if (apiKey === PRODUCE) producedSinceEndTxn = true;
        if (apiKey === END_TXN) {
          if (endTxnCommits(frame)) {
            commitsSeen++;
            if (dropsLeft > 0 && (producedSinceEndTxn || !onlyWithRecords)) {
              dropsLeft--;
              if (loseRequest) {
                dropped++;
                closeBoth();
                return;
              }
              toDrop.add(frame.readInt32BE(8));
            }
          }
          producedSinceEndTxn = false;
        }
        broker.write(frame);
      }),
    );
    broker.on(
      'data',
      framer((frame) => {
        if (toDrop.has(frame.readInt32BE(4))) {
          // the broker has answered, so the commit is done there: the client never hears of it
          dropped++;
          closeBoth();
          return;
        }
        if (!client.destroyed) client.write(frame);
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropCommitAnswers: (n, options = {}) => {
      dropsLeft = n;
      onlyWithRecords = options.withRecords ?? false;
      loseRequest = options.lose === 'request';
    },
    get dropped() {
      return dropped;
    },
    get commitsSeen() {
      return commitsSeen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Splits a byte stream into whole size-prefixed Kafka frames (size included). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

/** Whether an EndTxn request frame asks to commit (its last byte is the `committed` boolean, in every version). */
function endTxnCommits(frame: Buffer): boolean {
  const version = frame.readInt16BE(6);
  // v3+ (flexible) ends with the tagged-fields count after the boolean
  return version >= 3 ? frame[frame.length - 2] === 1 : frame[frame.length - 1] === 1;
}
