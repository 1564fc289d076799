/**
 * `npm run bench` entry: loads kafkajs the way the product does (src/kafka/kafkajs-module.ts puts
 * its produce fast paths in place first), then the benchmark (./main.ts), so the pipeline measured
 * is the one that ships. The fast paths change how bytes are encoded, never which bytes: the
 * produce path gains most; the raw consume baseline's few request encodings (fetch, commit, join)
 * also use the pooled Encoder, its decoding is unmodified kafkajs code. Dynamic import because a static `import 'kafkajs'` anywhere in
 * the graph would evaluate kafkajs before this module's body runs.
 */
import '../src/kafka/kafkajs-module.js';

const { main } = await import('./main.js');
main(process.argv.slice(2));
