// vitest setupFiles: load kafkajs the way the product does (src/kafka/kafkajs-module.ts installs its
// produce fast paths first) before any test file imports kafkajs itself, so tests that use raw
// kafkajs helpers next to the product's client still run the client as shipped. (A static
// `import 'kafkajs'` anywhere in a module graph evaluates kafkajs before that graph's own module
// bodies run, so this cannot be left to import order inside the test files.)
import '../../src/kafka/kafkajs-module.js';
