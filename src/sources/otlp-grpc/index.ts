/** Embedded OTLP/gRPC receiver: TraceService/Export and LogsService/Export → decoded spans and log records. */
export { OtlpGrpcReceiver, OTLP_GRPC_METHODS, type OtlpGrpcReceiverOptions } from './receiver.js';
export { statusWithRetryInfo, retryDelayOf, retryInfo, retryInfoDelayOf, RETRY_INFO_TYPE_URL, RETRY_INFO_TRAILER } from './status-details.js';
