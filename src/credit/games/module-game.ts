/**
 * `module` game: the value function is a user's JS/TS module (architecture.md, Credit → Game 3).
 *
 * The module exports `value(coalition, episode)` (named export, or the export named by the
 * `exportName` option, or `default.value`) returning a number or a Promise of one:
 *   - `coalition`: the player ids in the coalition (agent ids, or step ids for message players);
 *   - `episode`: `{ episodeId, players, playerKind, steps, agents, evaluation }` (read-only);
 *     `playerKind` says whether `players` (and so `coalition`) are agent ids (`agents`) or
 *     message step ids (`messages`, the message game of `credit.module.players: messages`).
 * It must be deterministic for a given coalition (values are cached by the estimators).
 * TypeScript modules load when the process runs under tsx (as `npm start` does); plain Node
 * needs a .js/.mjs file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Agent, AgentStep, Evaluation } from '../../model/agents.js';
import type { Game } from '../types.js';
import { describeValue } from './cached-game.js';
import { ensureTypeScriptLoader } from './typescript-loader.js';

/** What the user's function receives as its second argument. */
export interface ModuleGameEpisode {
  readonly episodeId: string;
  readonly players: readonly string[];
  /** What `players` are: agent ids (default) or message step ids. */
  readonly playerKind?: 'agents' | 'messages';
  readonly steps: readonly AgentStep[];
  readonly agents: readonly Agent[];
  readonly evaluation?: Evaluation;
}

export type ModuleValueFunction = (coalition: readonly string[], episode: ModuleGameEpisode) => number | Promise<number>;

/** A TypeScript module path (.ts, .mts, .cts): loading it needs the tsx loader. */
export function isTypeScriptFile(path: string): boolean {
  return /\.(c|m)?ts$/.test(path);
}

export class ModuleGameError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModuleGameError';
  }
}

/**
 * Loads `modulePath` (absolute, or relative to `baseDir`, default the working directory) and
 * returns its value function. Throws ModuleGameError naming the path and the option when the file
 * is missing, fails to load, or has no such function export.
 */
export async function loadValueFunction(modulePath: string, options: { exportName?: string; baseDir?: string } = {}): Promise<ModuleValueFunction> {
  const exportName = options.exportName ?? 'value';
  const resolved = isAbsolute(modulePath) ? modulePath : resolve(options.baseDir ?? process.cwd(), modulePath);
  if (!existsSync(resolved)) {
    throw new ModuleGameError(`module game: file not found: "${modulePath}" (resolved to ${resolved}); set credit.module.path (library: loadModuleGame's path) to a .js/.mjs/.ts file exporting ${exportName}(coalition, episode)`);
  }
  let mod: Record<string, unknown>;
  if (isTypeScriptFile(resolved)) await ensureTypeScriptLoader();
  try {
    mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (err) {
    const hint = isTypeScriptFile(resolved) ? ' (TypeScript modules need the tsx loader: run with `tsx` or compile to .js)' : err instanceof SyntaxError ? syntaxErrorPlace(resolved) : '';
    throw new ModuleGameError(`module game: cannot load "${resolved}": ${(err as Error)?.message ?? String(err)}${hint}`, { cause: err });
  }
  const fromDefault = mod.default && typeof mod.default === 'object' ? (mod.default as Record<string, unknown>)[exportName] : undefined;
  const fn = mod[exportName] ?? fromDefault;
  if (typeof fn !== 'function') {
    // Node 24 (not 22) gives a CommonJS module's namespace a "module.exports" key (the whole exports
    // object, for `import { 'module.exports' as m }`): not something the module exported by name
    const found = Object.keys(mod).filter((k) => k !== 'module.exports').sort().join(', ') || 'none';
    // an export of that name that is not a function read "has no exported function "value" (exports found: value)"
    const notFunction = fn !== undefined ? ` — its "${exportName}" is ${describeValue(fn)}, not a function` : '';
    throw new ModuleGameError(`module game: "${resolved}" has no exported function "${exportName}" (exports found: ${found})${notFunction}; export function ${exportName}(coalition, episode) or set credit.module.exportName (library: loadModuleGame's exportName)`);
  }
  return fn as ModuleValueFunction;
}

/**
 * Where in `file` a syntax error is, as " (at line N: <the line>)", or '' when the file itself parses
 * (the error is in a module it imports, or an import names a missing export). A module's
 * SyntaxError from import() carries no position — "cannot load "…/value.mjs": Unexpected token ';'"
 * left the user to find it —, so the file is checked once more with `node --check`, which names it.
 */
function syntaxErrorPlace(file: string): string {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0 || typeof r.stderr !== 'string') return '';
  const lines = r.stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${file}:`));
  const line = at >= 0 ? /:(\d+)$/.exec(lines[at]!)?.[1] : undefined;
  if (line === undefined) return '';
  const text = (lines[at + 1] ?? '').trim();
  return ` (at line ${line}${text !== '' ? `: ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}` : ''})`;
}

/** A Game over `episode.players` whose values come from `fn`. Non-finite results are errors. */
function moduleGame(fn: ModuleValueFunction, episode: ModuleGameEpisode, label = 'module'): Game {
  return {
    id: episode.episodeId,
    players: episode.players,
    async value(coalition: Uint8Array): Promise<number> {
      if (coalition.length !== episode.players.length) {
        throw new ModuleGameError(`module game: coalition has ${coalition.length} entries, the game has ${episode.players.length} players`);
      }
      const members = episode.players.filter((_, i) => coalition[i] === 1);
      const v = await fn(members, episode);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        // String(v) showed the text "0.5" as 0.5 (a number, to the reader) and an object as [object Object]
        throw new ModuleGameError(`module game ${label}: value([${members.join(', ')}]) returned ${describeValue(v)}; it must return a finite number`);
      }
      return v;
    },
  };
}

/** Loads the module once and returns a factory of games (one per episode). */
export async function loadModuleGame(modulePath: string, options: { exportName?: string; baseDir?: string } = {}): Promise<(episode: ModuleGameEpisode) => Game> {
  const fn = await loadValueFunction(modulePath, options);
  return (episode) => moduleGame(fn, episode, modulePath);
}
