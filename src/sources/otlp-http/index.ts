/** Embedded OTLP/HTTP receiver: POST /v1/traces and /v1/logs → decoded spans and log records. */
export { OtlpHttpReceiver, ReceiverBusyError, type OtlpHandler, type OtlpHttpReceiverOptions } from './receiver.js';
export { exportResponse, statusBody, decodeStatus, decodeExportResponse, CONTENT_TYPES, GrpcCode, type PartialSuccess, type OtlpSignal, type BodyEncoding } from './responses.js';
export { BodyTooLargeError } from './body.js';
