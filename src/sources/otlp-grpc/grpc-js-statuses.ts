/**
 * The refusals grpc-js sends by itself, before or instead of the receiver's handler, named for the
 * operator as the receiver's own are (the HTTP status the OTLP/HTTP receiver answers in the same
 * case, and the fix): the exporter drops the batch, and grpc-js's bare status text ("Received
 * message larger than max (…)", "The server does not implement the method …") names no setting.
 */
import * as grpc from '@grpc/grpc-js';

export interface GrpcJsStatus {
  /** The call's `:path`. */
  path: string;
  /** Whether `path` is a method the receiver registered. */
  served: boolean;
  code: grpc.status;
  /** grpc-message, decoded. */
  details: string;
  /** The request's grpc-encoding. */
  encoding: string | undefined;
  /** grpc.max_receive_message_length: source.http.maxBodyBytes. */
  maxMessageBytes: number;
}

/** A client-sent text quoted in a log line: JSON-quoted (control characters escaped), 200 characters at most. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** The batch-size settings of the exporters that send `path`'s signal. */
function smallerBatches(path: string): string {
  const sdk = path.includes('.logs.') ? 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE' : path.includes('.trace.') ? 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' : 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE / OTEL_BLRP_MAX_EXPORT_BATCH_SIZE';
  return `send smaller batches (an SDK: ${sdk}; a collector: send_batch_max_size of its batch processor, or its exporter's sending_queue batch max_size)`;
}

/**
 * The log message (after "OTLP/gRPC <CODE>: ") of a status grpc-js sent itself, and the HTTP status
 * the OTLP/HTTP receiver answers in that case where the code's usual one is not it.
 */
export function describeGrpcJsStatus(s: GrpcJsStatus): { status?: number; message: string } {
  if (s.code === grpc.status.UNIMPLEMENTED && !s.served) {
    const profiles = /ProfilesService\//.test(s.path) ? ' — agent-credit takes no profiles: turn the profiles exporter off, or send profiles to a collector' : '';
    return {
      status: 404,
      message: `no method ${quoted(s.path)} on the OTLP/gRPC port: it serves opentelemetry.proto.collector.trace.v1.TraceService/Export and opentelemetry.proto.collector.logs.v1.LogsService/Export${profiles}`,
    };
  }
  if (s.code === grpc.status.RESOURCE_EXHAUSTED && /^Received message/.test(s.details)) {
    // "Received message larger than max (<size> vs <limit>)", or "… that decompresses to a size larger than <limit>"
    const size = /larger than max \((\d+) vs\.? \d+\)/.exec(s.details)?.[1];
    const what =
      size !== undefined
        ? `a request message of ${size} bytes is larger than the receiver's limit of ${s.maxMessageBytes} bytes (after decompression)`
        : `a request message decompresses to more than the receiver's limit of ${s.maxMessageBytes} bytes`;
    return {
      status: 413,
      message: `${what}, and the exporter drops that batch: raise source.http.maxBodyBytes (it bounds OTLP/gRPC messages too), or ${smallerBatches(s.path)}`,
    };
  }
  const encoding = s.encoding?.trim().toLowerCase();
  // grpc-js matches the header exactly ("GZIP" is not gzip to it): its own word decides, not the lowercased name
  if (s.code === grpc.status.UNIMPLEMENTED && /unsupported encoding/i.test(s.details) && s.encoding !== undefined) {
    return {
      status: 415,
      message: `a request message compressed with ${quoted(s.encoding)} (grpc-encoding), which the receiver cannot undo: set the exporter's compression to gzip or none (OTEL_EXPORTER_OTLP_COMPRESSION; a collector's otlp exporter: compression: gzip)`,
    };
  }
  if (s.code === grpc.status.INTERNAL && /decompress/i.test(s.details)) {
    return { status: 400, message: `a request message that does not decompress as ${quoted(encoding ?? 'its grpc-encoding')}: ${s.details}` };
  }
  if (s.code === grpc.status.DEADLINE_EXCEEDED) {
    return { message: `the exporter's deadline (its grpc-timeout) passed before the receiver answered, and the exporter gave that batch up or retries it: raise the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT; a collector's otlp exporter: timeout)` };
  }
  // a malformed grpc-timeout header is the client's error, answered INTERNAL by grpc-js
  if (s.code === grpc.status.INTERNAL && /grpc-timeout/.test(s.details)) return { status: 400, message: s.details };
  return { message: s.details || '(no message)' };
}
