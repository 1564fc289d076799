export { StdoutSink, type StdoutSinkOptions } from './stdout-sink.js';
export { TrainingRecordSink, type TrainingRecordSinkOptions } from './training-record-sink.js';
