export { jobStandings, StandingsSink } from './standings-sink.js';
