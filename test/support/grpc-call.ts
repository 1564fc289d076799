/**
 * gRPC calls for the receiver tests: one unary call from a grpc-js client with the bytes passed
 * through both ways (no proto loader, as the receiver has none), or one raw HTTP/2 request for what
 * a grpc-js client does not send (a compressed message under any grpc-encoding; a grpc-timeout it
 * would not reset the stream at).
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';

export type UnaryResult = { ok: true; bytes: Buffer } | { ok: false; error: grpc.ServiceError };

export interface UnaryCallOptions {
  credentials?: grpc.ChannelCredentials;
  metadata?: grpc.Metadata;
  channelOptions?: grpc.ChannelOptions;
}

/** One unary call of `method` with `body`: the response bytes, or the error status. */
export function unaryCall(target: string, method: string, body: Uint8Array, opts: UnaryCallOptions = {}): Promise<UnaryResult> {
  // the test certificate names localhost: TLS clients ask for that name (a server name that is an IP is deprecated)
  const client = new grpc.Client(target, opts.credentials ?? grpc.credentials.createInsecure(), opts.channelOptions ?? (opts.credentials ? { 'grpc.ssl_target_name_override': 'localhost' } : {}));
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, identity, identity, Buffer.from(body), opts.metadata ?? new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (error, bytes) => {
      client.close();
      resolve(error ? { ok: false, error } : { ok: true, bytes: bytes! });
    });
  });
}

/**
 * `message` as one gRPC frame (its compressed flag set when `compressed`) on a raw HTTP/2 stream to
 * `path`, with `headers` beside the gRPC ones: the grpc-status answered.
 */
export function rawGrpcStatus(target: string, path: string, message: Uint8Array, opts: { headers?: Record<string, string>; compressed?: boolean } = {}): Promise<number> {
  const session = http2.connect(`http://${target}`);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...opts.headers });
  const prefix = Buffer.alloc(5);
  prefix[0] = opts.compressed ? 1 : 0;
  prefix.writeUInt32BE(message.byteLength, 1);
  stream.end(Buffer.concat([prefix, message]));
  return new Promise<number>((resolve) => {
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) resolve(Number(h['grpc-status']));
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.resume();
  }).finally(() => session.close());
}
