export { StandingsSink } from './standings-sink.js';
