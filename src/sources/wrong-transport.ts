/**
 * A client speaking the other OTLP transport to a receiver's port — an OTLP/gRPC exporter pointed
 * at 4318 or an OTLP/HTTP one at 4317 — is the most common set-up mistake with two ports (each
 * SDK has its own default: Python's distro sends gRPC to 4317, JavaScript's exporters HTTP to 4318).
 * Neither server gets a request out of it: Node's HTTP/1.1 parser stops at the HTTP/2 preface and
 * the HTTP/2 server at a missing one, both before any handler runs, so without these checks only
 * the exporter's own log said anything ("Parse Error" / "Protocol error"), and it names no fix.
 * The receivers report such a connection as a rejected request (logged and counted) naming the port
 * to use and the exporter setting.
 *
 * Plaintext only: over TLS the two transports already differ in the handshake (ALPN h2 vs
 * http/1.1) and the TLS error is what both sides see.
 */
import type { Socket } from 'node:net';

/** The error code Node's HTTP/1.1 parser gives a connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0"). */
export const HTTP2_PREFACE_CODE = 'HPE_PAUSED_H2_UPGRADE';

/** Node's http2 server error message when a connection does not open with the HTTP/2 preface. */
export const MISSING_HTTP2_PREFACE = /bad client magic/i;

export function grpcAtHttpPortMessage(grpcAddress: string | undefined): string {
  return (
    'an HTTP/2 client (an OTLP/gRPC exporter?) connected to the OTLP/HTTP port, which takes HTTP/1.1 (http/protobuf, http/json): ' +
    (grpcAddress ? `send OTLP/gRPC to ${grpcAddress} (source.grpc)` : 'enable the OTLP/gRPC receiver (source.grpc) and send OTLP/gRPC there') +
    ', or set the exporter to OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf'
  );
}

/**
 * The HTTP/2 server cannot tell what the first bytes were: HTTP/1.1 and a TLS ClientHello (a gRPC
 * exporter with TLS — an https:// endpoint, OTEL_EXPORTER_OTLP_INSECURE unset — on this plaintext
 * port) both end in "bad client magic", so the line names both causes and their fixes.
 */
export function httpAtGrpcPortMessage(httpAddress: string | undefined): string {
  return (
    `a client that did not open with plaintext HTTP/2 connected to the OTLP/gRPC port: an OTLP/HTTP exporter? ${otlpHttpFix(httpAddress)}` +
    '; a gRPC exporter using TLS? this port takes plaintext: give the exporter an http:// endpoint (OTEL_EXPORTER_OTLP_INSECURE=true), or serve TLS (source.http.tls)'
  );
}

/** The fix for an OTLP/HTTP exporter sending to the OTLP/gRPC port: where OTLP/HTTP goes, or switch the exporter to gRPC. */
export function otlpHttpFix(httpAddress: string | undefined): string {
  return (
    (httpAddress ? `send OTLP/HTTP to ${httpAddress} (source.http)` : 'send OTLP/HTTP to the OTLP/HTTP receiver (source.http)') +
    ', or set the exporter to OTEL_EXPORTER_OTLP_PROTOCOL=grpc'
  );
}

/**
 * What Node's HTTP server does with a client error when nobody listens for `clientError` (a
 * listener replaces it; `socketOnError` in Node's lib/_http_server.js): the matching status line
 * unless a response on this socket has its head sent already, then destroy. Not "nothing written
 * to the socket yet": a kept-alive connection has had earlier responses written, and its next
 * malformed, oversized or timed-out request is answered all the same.
 */
export function defaultClientErrorResponse(err: NodeJS.ErrnoException, socket: Socket): void {
  // the response in flight on the socket (Node's own field; null between keep-alive requests)
  const inFlight = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
  if (socket.writable && (!inFlight || !inFlight._headerSent)) {
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? '413 Payload Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
    socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy(err);
}
