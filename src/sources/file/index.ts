export { listOtlpFiles, readOtlpFile, signalOf, type FileBatch, type FileSignal, type OtlpFile } from './otlp-files.js';
