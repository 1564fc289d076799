/**
 * Where the installed kafkajs lives, for the modules that replace some of its internals
 * (kafkajs-fast-paths.ts, kafkajs-aborted-filter.ts): only the exact version they were written
 * against is touched; any other is left alone, with the reason.
 */
import path from 'node:path';

export function kafkajsRoot(req: NodeJS.Require, version: string): { root: string } | { reason: string } {
  let root: string;
  try {
    root = path.dirname(req.resolve('kafkajs/package.json'));
  } catch (err) {
    return { reason: `kafkajs not resolvable: ${(err as Error).message}` };
  }
  const found = (req(path.join(root, 'package.json')) as { version: string }).version;
  return found === version ? { root } : { reason: `kafkajs ${found} is not ${version}; its internals are left alone` };
}
