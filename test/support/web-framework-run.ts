/**
 * Records an agent run served by a real web framework, traced by its real OpenTelemetry
 * instrumentation: the app (hapi, restify, connect or NestJS) listens on a local port, its
 * `POST /chat` handler runs the agents, and a `fetch` sends it one request. The REAL
 * `@opentelemetry/instrumentation-http` makes the SERVER span and the REAL framework
 * instrumentation (`-hapi`, `-restify`, `-connect`, `-nestjs-core`) its route, middleware, ext and
 * handler spans, with the names, attributes and nesting it gives them; the agents are written with
 * the OTel API in GenAI semantic-convention form, as test/conventions/web-apps.ts `agents` writes
 * them (a supervisor calling a researcher and a writer, each one `chat gpt-4o`), started in the
 * context the framework runs the handler in.
 *
 * The client is `fetch` (undici), which instrumentation-http does not trace: the server span is
 * the trace's root, as for a request from an untraced client.
 *
 * Loading: as in openai-instrumented-run.ts (read its header): vitest loads node_modules through
 * Node's ESM loader, which require-in-the-middle does not see, so each instrumentation is enabled
 * first and its framework then loaded through `createRequire` (the CJS build RITM patches). One
 * instance per instrumentation and thread (on globalThis, surviving vitest's per-file module
 * re-evaluation), enabled around each recording and disabled after; recordings in a thread are
 * serialized by one lock.
 */
import { createRequire } from 'node:module';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, type Tracer } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ConnectInstrumentation } from '@opentelemetry/instrumentation-connect';
import { HapiInstrumentation } from '@opentelemetry/instrumentation-hapi';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { RestifyInstrumentation } from '@opentelemetry/instrumentation-restify';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { collectLogs } from '../../src/scenarios/record.js';

/** The apps this module serves; `hapi plugin` registers the route from a plugin, as hapi apps split their routes. */
export const WEB_FRAMEWORKS = ['hapi', 'hapi plugin', 'restify', 'connect', 'nestjs'] as const;
export type WebFramework = (typeof WEB_FRAMEWORKS)[number];

export interface WebRequestOptions {
  /**
   * The handler judges the run itself: after the agents it emits a `gen_ai.evaluation.result` log
   * record with this score, in the context it runs in (no explicit one: the SDK takes the active
   * span's — the span the framework runs the handler in). Default: none.
   */
  readonly verdictInHandler?: number;
  /**
   * `GET /healthz` requests sent before `POST /chat` (default 0): a liveness probe's, answered
   * `{ ok: true }` by a route of the framework's without any agent — traces that hold no agent run.
   */
  readonly healthChecks?: number;
}

export interface WebRequestRun {
  /** Every span the SDK ended while the app started, served the request and stopped, in end order. */
  readonly spans: ReadableSpan[];
  /** The log records the app emitted (the handler's verdict, with `verdictInHandler`). */
  readonly logs: ReadableLogRecord[];
  /** What the handler answered (the writer's output), to check the request was served. */
  readonly answer: string;
  /** What each `GET /healthz` answered (`healthChecks`). */
  readonly health: string[];
}

/** Records one `POST /chat` served by `framework`; recordings in one thread are serialized (they share the patched modules). */
export function recordWebRequest(framework: WebFramework, opts: WebRequestOptions = {}): Promise<WebRequestRun> {
  const state = threadState();
  const result = state.lock.then(() => recordLocked(state, framework, opts));
  state.lock = result.catch(() => undefined);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The agents the handler runs
// ---------------------------------------------------------------------------------------------

const text = (role: string, content: string) => JSON.stringify([{ role, parts: [{ type: 'text', content }] }]);

/**
 * The agents of web-apps.ts `agents`, in the active context: a supervisor with a researcher and a
 * writer, each one LLM call — a CLIENT span, as the model-call instrumentations (instrumentation-openai)
 * record one, where web-apps.ts leaves it INTERNAL.
 */
async function runAgents(tracer: Tracer): Promise<string> {
  return tracer.startActiveSpan('invoke_agent supervisor', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' } }, async (sup) => {
    let answer = '';
    for (const [name, input, output] of [['researcher', 'Find flights', 'AC 123 09:00'], ['writer', 'Write it up using: AC 123 09:00', 'Book AC 123.']] as const) {
      answer = await tracer.startActiveSpan(`invoke_agent ${name}`, { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name } }, async (agent) => {
        const out = await tracer.startActiveSpan('chat gpt-4o', { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': text('user', input) } }, async (chat) => {
          await new Promise<void>((resolve) => setImmediate(resolve)); // the model call: the handler goes on in a later turn, as on a real await
          chat.setAttribute('gen_ai.output.messages', text('assistant', output));
          chat.end();
          return output;
        });
        agent.end();
        return out;
      });
    }
    sup.end();
    return answer;
  });
}

/** What every app's `GET /healthz` answers: no agent runs. */
const HEALTHY = { ok: true } as const;

/** What every app's `POST /chat` handler does: run the agents, judge them if asked, answer the writer's output. */
type Handle = () => Promise<string>;

function handlerOf(tracer: Tracer, logger: Logger, opts: WebRequestOptions): Handle {
  return async () => {
    const answer = await runAgents(tracer);
    if (opts.verdictInHandler !== undefined) {
      logger.emit({ eventName: 'gen_ai.evaluation.result', attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': opts.verdictInHandler } });
    }
    return answer;
  };
}

// ---------------------------------------------------------------------------------------------
// The apps
// ---------------------------------------------------------------------------------------------

interface RunningApp {
  readonly port: number;
  stop(): Promise<void>;
}

/** A framework's export, loaded through createRequire: untyped. */
type Loaded = any;

const requireCjs = createRequire(import.meta.url);

/**
 * hapi: an `onRequest` ext (an auth check), the route — registered on the server, or from the
 * `chat` plugin with its own `onPreHandler` ext — whose handler runs the agents.
 */
async function hapiApp(handle: Handle, plugin: boolean): Promise<RunningApp> {
  const Hapi: Loaded = requireCjs('@hapi/hapi');
  const server = Hapi.server({ port: 0, host: '127.0.0.1' });
  server.ext('onRequest', function authenticate(_request: Loaded, h: Loaded) {
    return h.continue;
  });
  server.route({ method: 'GET', path: '/healthz', handler: () => HEALTHY });
  const route = { method: 'POST', path: '/chat', handler: async () => ({ answer: await handle() }) };
  if (plugin) {
    await server.register({
      name: 'chat',
      register(s: Loaded) {
        s.ext('onPreHandler', function loadSession(_request: Loaded, h: Loaded) {
          return h.continue;
        });
        s.route(route);
      },
    });
  } else {
    server.route(route);
  }
  await server.start();
  return { port: server.info.port as number, stop: () => server.stop() };
}

/** restify: `server.use(bodyParser())`, `server.post('/chat', async handler)`. */
async function restifyApp(handle: Handle): Promise<RunningApp> {
  const restify: Loaded = requireCjs('restify');
  const server = restify.createServer({ name: 'chat-agents' });
  server.use(restify.plugins.bodyParser());
  server.get('/healthz', function healthz(_req: Loaded, res: Loaded) {
    res.send(HEALTHY);
  });
  server.post('/chat', async function chat(_req: Loaded, res: Loaded) {
    res.send({ answer: await handle() });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** connect: a JSON body middleware, then `app.use('/chat', handler)`, on `http.createServer(app)`. */
async function connectApp(handle: Handle): Promise<RunningApp> {
  const connect: Loaded = requireCjs('connect');
  const http = requireCjs('node:http') as typeof import('node:http');
  const app = connect();
  app.use('/healthz', function healthz(_req: Loaded, res: Loaded) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(HEALTHY));
  });
  app.use(function jsonBody(req: Loaded, _res: Loaded, next: (err?: unknown) => void) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      req.body = JSON.parse(body);
      next();
    });
  });
  app.use('/chat', function chat(_req: Loaded, res: Loaded, next: (err?: unknown) => void) {
    handle().then((answer) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ answer }));
    }, next);
  });
  const server: HttpServer = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * NestJS on its default Express platform: `@Controller() class ChatController { @Post('chat')
 * chat(@Body() body) }` in `@Module({ controllers: [ChatController] })`. The decorators are
 * applied by hand (what TypeScript's legacy decorators compile to), so no compiler option is
 * needed; the controller has no constructor parameters, so no design-type metadata either.
 */
async function nestApp(handle: Handle): Promise<RunningApp> {
  requireCjs('reflect-metadata');
  const common: Loaded = requireCjs('@nestjs/common');
  const { NestFactory }: Loaded = requireCjs('@nestjs/core');
  class ChatController {
    async chat(_body: unknown): Promise<{ answer: string }> {
      return { answer: await handle() };
    }
    healthz(): typeof HEALTHY {
      return HEALTHY;
    }
  }
  const proto = ChatController.prototype;
  const decorate = (Reflect as unknown as { decorate(ds: unknown[], target: object, key?: string, desc?: PropertyDescriptor): PropertyDescriptor | undefined }).decorate;
  common.Body()(proto, 'chat', 0);
  Object.defineProperty(proto, 'chat', decorate([common.Post('chat')], proto, 'chat', Object.getOwnPropertyDescriptor(proto, 'chat'))!);
  Object.defineProperty(proto, 'healthz', decorate([common.Get('healthz')], proto, 'healthz', Object.getOwnPropertyDescriptor(proto, 'healthz'))!);
  decorate([common.Controller()], ChatController);
  class AppModule {}
  decorate([common.Module({ controllers: [ChatController] })], AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { port: (app.getHttpServer().address() as AddressInfo).port, stop: () => app.close() };
}

function startApp(framework: WebFramework, handle: Handle): Promise<RunningApp> {
  switch (framework) {
    case 'hapi':
      return hapiApp(handle, false);
    case 'hapi plugin':
      return hapiApp(handle, true);
    case 'restify':
      return restifyApp(handle);
    case 'connect':
      return connectApp(handle);
    case 'nestjs':
      return nestApp(handle);
  }
}

// ---------------------------------------------------------------------------------------------
// Instrumentations (one of each per thread) and recording
// ---------------------------------------------------------------------------------------------

interface ThreadState {
  readonly http: HttpInstrumentation;
  readonly frameworks: Readonly<Record<'hapi' | 'restify' | 'connect' | 'nestjs', { enable(): void; disable(): void; setTracerProvider(p: BasicTracerProvider): void }>>;
  lock: Promise<unknown>;
}

const STATE_KEY = Symbol.for('agent-credit.test.web-framework-run');

function threadState(): ThreadState {
  const g = globalThis as unknown as Record<symbol, ThreadState | undefined>;
  let state = g[STATE_KEY];
  if (!state) {
    // enabled: false so nothing is hooked before the provider is set.
    state = {
      http: new HttpInstrumentation({ enabled: false }),
      frameworks: {
        hapi: new HapiInstrumentation({ enabled: false }),
        restify: new RestifyInstrumentation({ enabled: false }),
        connect: new ConnectInstrumentation({ enabled: false }),
        nestjs: new NestInstrumentation({ enabled: false }),
      },
      lock: Promise.resolve(),
    };
    g[STATE_KEY] = state;
  }
  return state;
}

/**
 * Collects ended spans and tells when every span started so far has ended: the HTTP server span
 * ends on the response's 'finish', which may come after `fetch` has the body, and a framework's
 * span may end after it (connect's on the response's 'close').
 */
function collectSpans(into: ReadableSpan[]): SpanProcessor & { idle(): Promise<void> } {
  let open = 0;
  let waiting: (() => void) | undefined;
  return {
    onStart: () => void open++,
    onEnd: (span) => {
      into.push(span);
      if (--open === 0) waiting?.();
    },
    idle: () => (open === 0 ? Promise.resolve() : new Promise<void>((resolve) => (waiting = resolve))),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

async function recordLocked(state: ThreadState, framework: WebFramework, opts: WebRequestOptions): Promise<WebRequestRun> {
  const spans: ReadableSpan[] = [];
  const logs: ReadableLogRecord[] = [];
  const collector = collectSpans(spans);
  const resource = resourceFromAttributes({ 'service.name': 'chat-agents', 'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' });
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [collector] });
  const loggerProvider = new LoggerProvider({ resource, processors: [collectLogs(logs)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContextManager = context.setGlobalContextManager(contextManager);
  if (!ownsContextManager) contextManager.disable();
  const instrumentation = state.frameworks[framework === 'hapi plugin' ? 'hapi' : framework];
  let app: RunningApp | undefined;
  try {
    for (const i of [state.http, instrumentation]) {
      i.setTracerProvider(tracerProvider);
      i.enable();
    }
    app = await startApp(framework, handlerOf(tracerProvider.getTracer('chat-agents', '1.0.0'), loggerProvider.getLogger('chat-agents', '1.0.0'), opts));
    const health: string[] = [];
    for (let i = 0; i < (opts.healthChecks ?? 0); i++) {
      const probe = await fetch(`http://127.0.0.1:${app.port}/healthz`);
      health.push(`${probe.status} ${await probe.text()}`);
    }
    const res = await fetch(`http://127.0.0.1:${app.port}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'Book me a flight' }) });
    if (!res.ok) throw new Error(`${framework}: POST /chat answered ${res.status}: ${await res.text()}`);
    const { answer } = (await res.json()) as { answer: string };
    await collector.idle();
    return { spans: [...spans], logs: [...logs], answer, health };
  } finally {
    await app?.stop();
    state.http.disable();
    instrumentation.disable();
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
    if (ownsContextManager) context.disable();
  }
}
