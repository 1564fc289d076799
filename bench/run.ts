/**
 * `npm run bench` entry: loads kafkajs the way the product does (src/kafka/kafkajs-module.ts puts
 * its produce fast paths in place first), then the benchmark (./main.ts), so the pipeline measured
 * is the one that ships. The fast paths touch only produce encoding: the raw consume baseline reads
 * through unmodified kafkajs code. Dynamic import because a static `import 'kafkajs'` anywhere in
 * the graph would evaluate kafkajs before this module's body runs.
 */
import '../src/kafka/kafkajs-module.js';

const { main } = await import('./main.js');
main(process.argv.slice(2));
