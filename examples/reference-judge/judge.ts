/**
 * Reference counterfactual judge: a tiny node:http server speaking the `http` game's wire
 * contract (src/credit/games/http-judge.ts). Its score is deterministic: the fraction of the
 * episode's required content produced by the unmasked messages, minus one share per forbidden
 * item present (`scoreContents`, the same rule the scenario generator uses for its evaluation
 * events, so v(N) of a generated run equals its emitted score).
 *
 * Routes:
 *   POST /score        JudgeRequest → { score }
 *   POST /score/batch  { requests: JudgeRequest[] } → { scores }   (unless `batch: false`)
 *   PUT  /episodes/:id { required: string[], forbidden?: string[] } registers an episode's rubric
 *   GET  /healthz
 * Test knobs: `failFirst` (answer the first N scoring requests with 503), `delayMs` (answer late).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { JudgeBatchRequestSchema, JudgeRequestSchema, type JudgeRequest } from '../../src/credit/games/http-judge.js';
import { scoreContents } from '../../src/scenarios/score.js';

export const RubricSchema = z.object({ required: z.array(z.string()).min(1), forbidden: z.array(z.string()).default([]) });
export type Rubric = z.input<typeof RubricSchema>;

export interface ReferenceJudgeOptions {
  /** Rubric for episodes not registered individually. */
  defaultRubric?: Rubric;
  /** Rubrics by episode id. */
  rubrics?: Record<string, Rubric>;
  /** Serve `/score/batch` (default true). */
  batch?: boolean;
  /** Answer the first N scoring requests with HTTP 503 (retry tests). */
  failFirst?: number;
  /** Delay every scoring answer by this many ms (timeout tests). */
  delayMs?: number;
  port?: number;
  host?: string;
}

export interface ReferenceJudge {
  /** Base URL of the single-score endpoint, e.g. http://127.0.0.1:1234/score */
  readonly url: string;
  readonly stats: { requests: number; batchRequests: number; scored: number; failedOnPurpose: number; inFlight: number; maxInFlight: number };
  register(episodeId: string, rubric: Rubric): void;
  close(): Promise<void>;
}

/** Scores one request under `rubric` (pure). */
export function referenceScore(request: JudgeRequest, rubric: Rubric): number {
  const r = RubricSchema.parse(rubric);
  const contents = request.messages.filter((m) => !m.masked && m.content !== null).map((m) => m.content as string);
  return scoreContents(contents, r.required, r.forbidden);
}

export async function startReferenceJudge(options: ReferenceJudgeOptions = {}): Promise<ReferenceJudge> {
  const rubrics = new Map<string, Rubric>(Object.entries(options.rubrics ?? {}));
  const stats = { requests: 0, batchRequests: 0, scored: 0, failedOnPurpose: 0, inFlight: 0, maxInFlight: 0 };
  const sockets = new Set<import('node:net').Socket>();

  const rubricFor = (episodeId: string): Rubric => {
    const r = rubrics.get(episodeId) ?? options.defaultRubric;
    if (!r) throw new HttpError(422, `no rubric for episode ${episodeId}: PUT /episodes/${episodeId} first`);
    return r;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://judge');
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { ok: true });
    const episodeMatch = /^\/episodes\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PUT' && episodeMatch) {
      const parsed = RubricSchema.safeParse(await readJson(req));
      if (!parsed.success) throw new HttpError(400, `rubric: ${parsed.error.issues[0]!.message}`);
      rubrics.set(decodeURIComponent(episodeMatch[1]!), parsed.data);
      return send(res, 204, undefined);
    }
    const isBatch = url.pathname === '/score/batch';
    if (req.method !== 'POST' || (url.pathname !== '/score' && !isBatch) || (isBatch && options.batch === false)) {
      throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    }
    const body = await readJson(req);
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => stats.inFlight--);
    if (isBatch) stats.batchRequests++;
    if (stats.requests <= (options.failFirst ?? 0)) {
      stats.failedOnPurpose++;
      throw new HttpError(503, 'judge warming up (failFirst)');
    }
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs).unref());
    if (isBatch) {
      const parsed = JudgeBatchRequestSchema.safeParse(body);
      if (!parsed.success) throw new HttpError(400, `batch request: ${parsed.error.issues[0]!.message}`);
      const scores = parsed.data.requests.map((r) => referenceScore(r, rubricFor(r.episode_id)));
      stats.scored += scores.length;
      return send(res, 200, { scores });
    }
    const parsed = JudgeRequestSchema.safeParse(body);
    if (!parsed.success) throw new HttpError(400, `request: ${parsed.error.issues[0]!.message}`);
    stats.scored++;
    return send(res, 200, { score: referenceScore(parsed.data, rubricFor(parsed.data.episode_id)) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/score`,
    stats,
    register: (id, rubric) => void rubrics.set(id, RubricSchema.parse(rubric)),
    close: () =>
      new Promise<void>((resolve) => {
        // Delayed answers would hold close() open; the judge is a test/demo tool, so cut them.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 16 * 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
