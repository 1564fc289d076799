export { StdoutSink, type StdoutSinkOptions } from './stdout-sink.js';
