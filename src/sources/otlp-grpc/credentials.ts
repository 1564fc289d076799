/**
 * TLS server credentials for the OTLP/gRPC receiver from the listener's PEM material
 * (src/http/listener-tls.ts), renewable: `apply` hands a renewed certificate (and client CA) to
 * grpc-js, which sets it on its TLS server for new connections — as TlsUpdates does for the https
 * servers. grpc-js's own `createSsl` credentials cannot change once made.
 */
import { ServerCredentials } from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import type { ListenerTls } from '../../http/listener-tls.js';

function contextOptions(tls: ListenerTls): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}) };
}

export class RenewableServerCredentials extends ServerCredentials {
  constructor(tls: ListenerTls) {
    // requestCert + rejectUnauthorized with a client CA: mutual TLS, refused in the handshake as on the https receiver
    super({ requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized }, contextOptions(tls));
  }

  /** Serves `tls` to new connections (open ones keep theirs). Whether client certificates are asked for cannot change. */
  apply(tls: ListenerTls): void {
    this.updateSecureContextOptions(contextOptions(tls));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
