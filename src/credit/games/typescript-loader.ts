/**
 * tsx for a TypeScript value function (credit.module.path ending in .ts/.mts/.cts) loaded by the
 * compiled build (dist/: the CLI as bin/agent-credit.js runs it, or a library user's app): its ES-
 * module and CommonJS hooks, as the `tsx` command registers them, once and only then — registering
 * costs ~0.15 s (a loader thread) that a start without a TypeScript module does not pay. From the
 * sources a TypeScript loader is running already (bin/agent-credit.js, vitest, the tsx command).
 */
let registering: Promise<void> | undefined;

const fromSources = import.meta.url.endsWith('.ts');

/** Resolves once tsx is registered; without tsx installed, nothing is registered (the import then fails with a hint). */
export function ensureTypeScriptLoader(): Promise<void> {
  if (fromSources) return Promise.resolve();
  registering ??= (async () => {
    try {
      const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
      esm.register();
      cjs.register();
    } catch {
      // tsx not installed: the module's import fails and says what it needs
    }
  })();
  return registering;
}
