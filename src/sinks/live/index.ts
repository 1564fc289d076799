export { LiveSink, type LiveSinkOptions } from './live-sink.js';
export { RingBuffer } from './ring-buffer.js';
