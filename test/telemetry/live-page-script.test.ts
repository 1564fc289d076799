import { join } from 'node:path';
import { Script, createContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import { request as httpRequest } from 'node:http';
import { LiveSink, boardForPage, type StandingsScope } from '../../src/sinks/live/live-sink.js';
import { LIVE_PAGE_HTML } from '../../src/sinks/live/page.js';
import type { EventSink } from '../../src/sinks/types.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

/** Just enough DOM for the page script: elements with children, text and style. */
class FakeElement {
  children: FakeElement[] = [];
  parent: FakeElement | undefined;
  className = '';
  textContent = '';
  title = '';
  checked = false;
  onchange: (() => void) | undefined;
  style: Record<string, string> = {};
  constructor(readonly tag: string) {}
  /** Strings become text nodes (`#text`), as in the DOM. */
  append(...els: (FakeElement | string)[]) {
    for (const x of els) {
      const e = typeof x === 'string' ? Object.assign(new FakeElement('#text'), { textContent: x }) : x;
      (e.parent = this), this.children.push(e);
    }
  }
  prepend(e: FakeElement) {
    e.parent = this;
    this.children.unshift(e);
  }
  replaceChildren(...els: FakeElement[]) {
    this.children = [];
    this.append(...els);
  }
  remove() {
    if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this);
  }
  text(): string {
    return [this.textContent, ...this.children.map((c) => c.text())].join(' ');
  }
  /** The text as the DOM's textContent reads it: the element's and its descendants', joined as they are. */
  content(): string {
    return this.textContent + this.children.map((c) => c.content()).join('');
  }
}

describe('live page script', () => {
  it('renders agents, rewards, first errors and pairs from real events', async () => {
    const events: CreditEvent[] = [];
    const sink: EventSink = { name: 'c', start: async () => {}, publish: (e) => void events.push(...e), flush: async () => {}, close: async () => {} };
    await replayFiles(loadConfig({ env: {} }).config, listOtlpFiles([join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')]), { sinks: [sink] });

    // opened as /?token=… (sinks.live.auth): the script takes the token out of the address bar
    const page = loadPage(200, '?token=abc');
    const byId = page.byId;
    expect(page.replaced).toEqual(['/']);
    const source = page.sources[0]!;
    source.onopen?.();
    for (const e of events) source.listeners.get(e.event_type)!({ data: JSON.stringify(e) });
    const listeners = source.listeners;

    // the fleet table: the server's standings of the same events, as pushed (`agents`)
    const board = new AgentBoard();
    board.add(events);
    const standings = board.snapshot();
    listeners.get('agents')!({ data: JSON.stringify(boardForPage(standings)) });
    const table = byId.get('board')!.children[0]!;
    expect(table.tag).toBe('table');
    const rows = table.children.filter((c) => c.tag === 'tr').slice(1);
    expect(rows.map((r) => r.children[0]!.content())).toEqual(standings.agents.map((a) => a.agent_name));
    for (const [i, a] of standings.agents.entries()) {
      const cells = rows[i]!.children.map((c) => c.textContent);
      expect(cells[1]).toBe(String(a.episodes));
      expect(cells[3]).toBe((a.credit_mean >= 0 ? '+' : '') + a.credit_mean.toFixed(3));
      expect(cells[6]).toBe(String(a.first_errors));
    }
    expect(table.children.find((c) => c.tag === 'caption')!.textContent).toContain(`${standings.episodes} episodes · ${standings.failures} failed`);

    const root = byId.get('episodes')!;
    const credits = events.filter((e) => e.event_type === 'episode_credit');
    expect(root.children.length).toBe(credits.length);
    const text = root.text();
    for (const c of credits) {
      expect(text).toContain(c.episode_id);
      // R as precise as the credits beside it and the standings' mean R (3 decimals; it had 2)
      if (c.event_type === 'episode_credit') expect(text).toContain(`${c.outcome} · R=${c.system_value.toFixed(3)}`);
      if (c.event_type === 'episode_credit') for (const a of c.agents) expect(text).toContain(a.agent_name);
    }
    expect(text).toMatch(/message rewards/);
    // the recording's third run fails: a first error and pairs to render (not only when there happen to be some)
    expect(credits.some((c) => c.event_type === 'episode_credit' && c.first_error)).toBe(true);
    expect(text).toContain('first error');
    expect(events.some((e) => e.event_type === 'preference_pair')).toBe(true);
    expect(text).toContain('pair for');
    const newest = Math.max(...events.map((e) => e.emitted_at_ms));
    expect(byId.get('count')!.textContent).toBe(`${events.length} events · newest ${new Date(newest).toDateString() === new Date().toDateString() ? new Date(newest).toLocaleTimeString() : new Date(newest).toLocaleString()}`);

    // A correction (revision 1) replaces the episode's rewards and pairs; a late revision-0 event is ignored.
    const failed = credits.find((c) => c.event_type === 'episode_credit' && c.outcome === 'failure')!;
    const own = events.filter((e) => e.episode_id === failed.episode_id);
    const pairs = own.filter((e) => e.event_type === 'preference_pair');
    expect(pairs.length).toBeGreaterThan(0);
    for (const e of own) listeners.get(e.event_type)!({ data: JSON.stringify({ ...e, episode_revision: 1 }) });
    listeners.get('preference_pair')!({ data: JSON.stringify(pairs[0]) }); // revision 0, arriving late
    const section = root.children.find((c) => c.text().includes(failed.episode_id))!;
    expect(section.text().split('pair for').length - 1).toBe(pairs.length);
    expect(section.text()).toContain(`${own.filter((e) => e.event_type === 'message_reward').length} message rewards`);
    // failed runs tag the steps that matter: the first error (and any repair, critic, dependent)
    const all = (e: FakeElement): FakeElement[] => [e, ...e.children.flatMap(all)];
    const tags = all(section).filter((e) => e.className.startsWith('tag role-'));
    const roles = own.flatMap((e) => (e.event_type === 'message_reward' && e.failure_role && ['first-error', 'independent-error', 'repair', 'critic', 'dependent'].includes(e.failure_role) ? [e.failure_role] : []));
    expect(tags.map((t) => t.className.slice('tag role-'.length)).sort()).toEqual(roles.sort());
    expect(tags.some((t) => t.textContent === 'first error')).toBe(true);
  });

  it('a fleet of more agents than a push carries: the 100 highest and 100 lowest credit sums, and the total', () => {
    const agents = Array.from({ length: 250 }, (_, i) => ({ agent_id: `a${i}`, agent_name: `a${i}`, episodes: 1, successes: 1, failures: 0, credit_sum: 250 - i, credit_mean: 250 - i, first_errors: 0, steps: 1, harmful_steps: 0, redundant_steps: 0, repairs: 0, last_seen_ms: 0 }));
    const page = boardForPage({ episodes: 250, successes: 250, failures: 0, system_value_mean: 1, partial_estimates: 0, message_rewards: 250, preference_pairs: 0, corrections: 0, corrections_unmatched: 0, duplicates: 0, agents_dropped: 0, agents });
    expect(page.agents_total).toBe(250);
    expect(page.agents.map((a) => a.agent_id)).toEqual([...agents.slice(0, 100), ...agents.slice(150)].map((a) => a.agent_id));
  });
});

/**
 * The page script with fake EventSources (every one it opens), timers and fetch under the test's
 * control, opened at `/` + `search`; `replaced` holds the addresses it put in the history.
 */
function loadPage(headStatus = 200, search = '') {
  const byId = new Map(['board', 'episodes', 'status', 'count', 'failonly'].map((id) => [id, new FakeElement('div')]));
  type FakeSource = { readyState: number; closed: boolean; onopen?: () => void; onerror?: () => void; listeners: Map<string, (ev: { data: string }) => void>; addEventListener(t: string, f: (ev: { data: string }) => void): void; close(): void };
  const sources: FakeSource[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const heads: Promise<unknown>[] = [];
  const replaced: string[] = [];
  const context = createContext({
    location: { search, pathname: '/' },
    history: { replaceState: (_s: unknown, _t: string, u: string) => replaced.push(u) },
    URLSearchParams,
    document: { getElementById: (id: string) => byId.get(id), createElement: (t: string) => new FakeElement(t) },
    EventSource: function () {
      const s: FakeSource = { readyState: 0, closed: false, listeners: new Map(), addEventListener: (t, f) => s.listeners.set(t, f), close: () => ((s.closed = true), (s.readyState = 2)) };
      sources.push(s);
      return s;
    },
    setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }),
    fetch: (path: string, init: { method: string }) => {
      expect([path, init.method]).toEqual(['events', 'HEAD']);
      const p = Promise.resolve({ status: headStatus, ok: headStatus === 200 });
      heads.push(p);
      return p;
    },
    Map,
    Math,
    Number,
    String,
    JSON,
    Date,
  });
  new Script(/<script>([\s\S]*)<\/script>/.exec(LIVE_PAGE_HTML)![1]!).runInContext(context);
  const status = () => byId.get('status')!.textContent;
  const settle = async () => {
    await Promise.all(heads);
    await new Promise((r) => setImmediate(r));
  };
  return { byId, sources, timers, status, settle, replaced };
}

describe('live page script: the stream', () => {
  it('a network error or the stream ending: the browser reconnects by itself, the page only says so', () => {
    const page = loadPage(200);
    page.sources[0]!.onopen!();
    expect(page.status()).toBe('live');
    page.sources[0]!.readyState = 0; // CONNECTING: the browser retries
    page.sources[0]!.onerror!();
    expect(page.status()).toBe('reconnecting…');
    expect(page.sources).toHaveLength(1);
    expect(page.timers).toHaveLength(0);
  });

  it('an answer that is not a stream (a proxy 502 while the job restarts, 503, 401) closes the EventSource for good: the page opens a new one, backing off, and is live again', async () => {
    const page = loadPage(502);
    page.sources[0]!.onopen!();
    for (const [i, ms] of [1000, 2000, 4000].entries()) {
      const s = page.sources[i]!;
      s.readyState = 2; // CLOSED: the browser gave up
      s.onerror!();
      expect(s.closed).toBe(true);
      await page.settle();
      expect(page.status()).toBe(`disconnected: HTTP 502 — retrying in ${ms / 1000} s`);
      expect(page.timers.map((t) => t.ms)).toEqual([1000, 2000, 4000].slice(0, i + 1));
      page.timers[i]!.fn();
      expect(page.sources).toHaveLength(i + 2);
    }
    // the job is back: the new stream's events and standings are shown
    const s = page.sources[3]!;
    expect([...s.listeners.keys()].sort()).toEqual(['agents', 'episode_credit', 'message_reward', 'preference_pair']);
    s.onopen!();
    expect(page.status()).toBe('live');
    // and the back-off starts again from 1 s
    s.readyState = 2;
    s.onerror!();
    expect(page.timers.at(-1)!.ms).toBe(1000);
  });

  it('a refused token says what to do', async () => {
    const page = loadPage(401);
    page.sources[0]!.readyState = 2;
    page.sources[0]!.onerror!();
    await page.settle();
    expect(page.status()).toMatch(/not authorized — open \/\?token=<token> again/);
  });
});

/** One standing row for the `agents` push. */
const standing = (agent_id: string, agent_name: string, credit_sum: number) => ({ agent_id, agent_name, episodes: 1, successes: 1, failures: 0, credit_sum, credit_mean: credit_sum, first_errors: 0, steps: 1, harmful_steps: 0, redundant_steps: 0, repairs: 0, last_seen_ms: 0 });
const snapshotOf = (agents: ReturnType<typeof standing>[]) => ({ episodes: agents.length, successes: agents.length, failures: 0, system_value_mean: 1, partial_estimates: 0, message_rewards: 0, preference_pairs: 0, corrections: 0, corrections_unmatched: 0, duplicates: 0, agents_dropped: 0, agents });
const all = (e: FakeElement): FakeElement[] => [e, ...e.children.flatMap(all)];

describe('live page script: the standings table', () => {
  it('tells apart two agents of one name (the demo fleet: id reviewer from one convention, agent_reviewer from another) by showing the id', () => {
    const page = loadPage();
    const agents = [standing('reviewer', 'reviewer', 3), standing('agent_reviewer', 'reviewer', 2), standing('shop/app/planner', 'planner', 1)];
    page.sources[0]!.listeners.get('agents')!({ data: JSON.stringify(boardForPage(snapshotOf(agents))) });
    const rows = page.byId.get('board')!.children[0]!.children.filter((c) => c.tag === 'tr').slice(1);
    const labels = rows.map((r) => r.children[0]!.text().replace(/\s+/g, ' ').trim());
    expect(labels).toEqual(['reviewer', 'reviewer agent_reviewer', 'shop/app/planner']);
    expect(new Set(labels).size).toBe(3);
  });
});

describe('live page script: a fleet larger than a push', () => {
  it('marks where the middle of the standings is left out, and how many agents it holds', () => {
    const page = loadPage();
    const agents = Array.from({ length: 686 }, (_, i) => standing(`a${i}`, `a${i}`, 686 - i));
    page.sources[0]!.listeners.get('agents')!({ data: JSON.stringify(boardForPage(snapshotOf(agents))) });
    const table = page.byId.get('board')!.children[0]!;
    const rows = table.children.filter((c) => c.tag === 'tr').slice(1);
    expect(rows).toHaveLength(201);
    expect(rows[99]!.children[0]!.content()).toBe('a99');
    expect(rows[100]!.text()).toContain('486 agents in between, not shown');
    expect(rows[101]!.children[0]!.content()).toBe('a586');
    expect(table.children.find((c) => c.tag === 'caption')!.textContent).toContain('showing the 200 highest and lowest of 686 agents');
  });
});

describe('live page script: failures stay on the page', () => {
  /** An episode_credit with just what the page reads. */
  const credit = (id: string, outcome: 'success' | 'failure') => ({
    event_type: 'episode_credit', episode_id: id, episode_revision: 0, emitted_at_ms: 1, outcome, system_value: outcome === 'success' ? 1 : 0,
    close_reason: 'evaluation-arrived', estimator: { name: 'closed-form', status: 'exact' }, agents: [{ agent_id: 'a', agent_name: 'a', credit: 0.5, ci_low: 0.5, ci_high: 0.5, steps: 1 }],
  });
  it('keeps up to 20 failed episodes over older successes, and a switch shows failures only', () => {
    const page = loadPage();
    const send = (id: string, outcome: 'success' | 'failure') => page.sources[0]!.listeners.get('episode_credit')!({ data: JSON.stringify(credit(id, outcome)) });
    const shown = () => page.byId.get('episodes')!.children.map((c) => c.children[0]!.content().replace(/(success|failure) · R=.*$/, '')); // the heading's id
    for (let i = 1; i <= 5; i++) send(`F${i}`, 'failure');
    for (let i = 1; i <= 60; i++) send(`S${i}`, 'success');
    // 40 cards: the 5 failures (the newest 40 alone would have dropped them 35 successes ago) and the 35 newest successes
    expect(shown()).toHaveLength(40);
    for (let i = 1; i <= 5; i++) expect(shown()).toContain(`F${i}`);
    expect(shown()).not.toContain('S25');
    expect(shown()).toContain('S26');
    // a run of failures: beyond 20 failures kept, the oldest card goes again, whatever it is
    for (let i = 6; i <= 35; i++) send(`F${i}`, 'failure');
    expect(shown().sort()).toEqual([...Array.from({ length: 30 }, (_, i) => `F${i + 6}`), ...Array.from({ length: 10 }, (_, i) => `S${i + 51}`)].sort());
    // failures only: failed cards are marked, the switch hides the others (main.failonly .ep:not(.failed))
    const cards = page.byId.get('episodes')!.children;
    expect(cards.filter((c) => c.className === 'ep failed')).toHaveLength(30);
    expect(cards.filter((c) => c.className === 'ep')).toHaveLength(10);
    const toggle = page.byId.get('failonly')!;
    toggle.checked = true;
    toggle.onchange!();
    expect(page.byId.get('episodes')!.className).toBe('failonly');
    expect(css.get('main.failonly .ep:not(.failed)')?.get('display')).toBe('none');
    toggle.checked = false;
    toggle.onchange!();
    expect(page.byId.get('episodes')!.className).toBe('');
  });
});

/** selector → declarations of the page's stylesheet (the page has one, flat: no media queries). */
const css = new Map<string, Map<string, string>>();
for (const rule of /<style>([\s\S]*)<\/style>/.exec(LIVE_PAGE_HTML)![1]!.split('}')) {
  const [selectors, body] = rule.split('{');
  if (body === undefined) continue;
  const decls = new Map(body.split(';').filter(Boolean).map((d) => [d.slice(0, d.indexOf(':')).trim(), d.slice(d.indexOf(':') + 1).trim()] as [string, string]));
  for (const sel of selectors!.split(',')) css.set(sel.trim(), new Map([...(css.get(sel.trim()) ?? []), ...decls]));
}
const colour = (selector: string, prop: string) => css.get(selector)?.get(prop) ?? '';
/** WCAG 2 contrast ratio of two #rgb / #rrggbb colours. */
const contrast = (a: string, b: string) => {
  const lum = (hex: string) => {
    const h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, (d) => d + d) : hex;
    const [r, g, bl] = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
};

describe('live page: accessibility', () => {
  it('small grey text (ids, close reasons, the chosen/rejected lines, the event count in the header) has 4.5:1 contrast on every background it sits on; the credit bars 3:1 on their track', () => {
    const muted = colour('.muted', 'color');
    for (const bg of [colour('.ep', 'background'), '#fff', colour('.pair', 'background').split(' ')[0]!, colour('body', 'background')]) expect(contrast(muted, bg), `${muted} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colour('header .muted', 'color'), colour('header', 'background')), 'the event count in the header').toBeGreaterThanOrEqual(4.5);
    for (const bar of [colour('.pos', 'background'), colour('.neg', 'background')]) expect(contrast(bar, colour('.bar', 'background'))).toBeGreaterThanOrEqual(3);
  });

  it('the connection status is a live region; the standings table has column headers with a name each', () => {
    expect(LIVE_PAGE_HTML).toMatch(/<span id="status" role="status">/);
    const page = loadPage();
    page.sources[0]!.listeners.get('agents')!({ data: JSON.stringify(boardForPage(snapshotOf([standing('a', 'a', 1)]))) });
    const head = page.byId.get('board')!.children[0]!.children.find((c) => c.tag === 'tr')!;
    expect(head.children.map((th) => th.tag)).toEqual(Array(10).fill('th'));
    for (const th of head.children) {
      expect((th as unknown as { scope: string }).scope).toBe('col');
      expect(th.text().trim()).not.toBe('');
    }
  });
});

describe('live page: long names', () => {
  it('an agent name or id of hundreds of characters without a space wraps in its cell instead of widening the table past the screen or running over the credit bars', () => {
    // every cell of the standings was white-space: nowrap (a 300-character name made the table ~2,400 px wide, the figures off screen),
    // and an episode's name column is 180 px: a longer word ran over the bar beside it
    expect(css.get('#board td:first-child')?.get('white-space')).toBe('normal');
    expect(css.get('#board td:first-child')?.get('overflow-wrap')).toBe('anywhere');
    expect(css.get('.ep')?.get('overflow-wrap')).toBe('anywhere');
    expect(css.get('.row>span')?.get('min-width')).toBe('0');
  });
});

describe('live page script: a failed episode', () => {
  it('names the first error as the rows do (step name, agent name, with their ids) and says when other steps are tied with it', () => {
    const page = loadPage();
    const send = (e: object) => page.sources[0]!.listeners.get((e as { event_type: string }).event_type)!({ data: JSON.stringify(e) });
    const header = { episode_id: 'ep1', episode_revision: 0, trace_ids: ['t1'], emitted_at_ms: 1 };
    const agent = (agent_id: string, agent_name: string, credit: number) => ({ agent_id, agent_name, credit, ci_low: credit, ci_high: credit, steps: 1 });
    send({ ...header, event_type: 'episode_credit', outcome: 'failure', system_value: 0.2, close_reason: 'evaluation-arrived', estimator: { name: 'closed-form', status: 'exact' }, agents: [agent('agent_planner', 'planner', 0.1), agent('agent_coder', 'coder', 0.1)], first_error: { step_id: 'a1a1a1a1a1a1a1a1', agent_id: 'agent_coder', evidence: ['status=error: search_docs timed out'], ties: ['b2b2b2b2b2b2b2b2'] } });
    const err = () => all(page.byId.get('episodes')!).find((x) => x.className === 'err')!.content();
    expect(err()).toBe('first error: step a1a1a1a1a1a1a1a1 by coder (agent_coder) — status=error: search_docs timed out · 1 other step equally likely: b2b2b2b2b2b2b2b2');
    // its message reward arrives: the step is named
    send({ ...header, event_type: 'message_reward', step_id: 'a1a1a1a1a1a1a1a1', agent_id: 'agent_coder', agent_name: 'coder', name: 'execute_tool search_docs', reward: -0.5, failure_role: 'first-error' });
    expect(err()).toMatch(/^first error: execute_tool search_docs \(step a1a1a1a1a1a1a1a1\) by coder \(agent_coder\)/);
  });
});

describe('live page script: a stream gone quiet', () => {
  it("shows when the newest event was made, so a fleet that stopped sending is told from a quiet minute ('live' only says the stream is open); a reconnect starts over", () => {
    const page = loadPage();
    const count = () => page.byId.get('count')!.textContent;
    const at = Date.parse('2001-01-02T03:04:05Z');
    const credit = (episode_id: string, emitted_at_ms: number) => ({ event_type: 'episode_credit', episode_id, episode_revision: 0, trace_ids: [episode_id], emitted_at_ms, outcome: 'success', system_value: 1, close_reason: 'root-ended', estimator: { name: 'exact', status: 'exact' }, agents: [] });
    page.sources[0]!.onopen!();
    page.sources[0]!.listeners.get('episode_credit')!({ data: JSON.stringify(credit('e1', at)) });
    page.sources[0]!.listeners.get('episode_credit')!({ data: JSON.stringify(credit('e0', at - 60_000)) }); // older, arriving later
    expect(count()).toBe(`2 events · newest ${new Date(at).toLocaleString()}`); // not today: with its date
    page.sources[0]!.onopen!(); // reconnected: the server replays its buffer from scratch
    expect(count()).toBe('');
  });
});

describe('live page: whose episodes the standings count', () => {
  const caption = (scope: StandingsScope | undefined) => {
    const page = loadPage();
    page.sources[0]!.listeners.get('agents')!({ data: JSON.stringify(boardForPage(snapshotOf([standing('a', 'a', 1)]), scope)) });
    return page.byId.get('board')!.children[0]!.children.find((c) => c.tag === 'caption')!.textContent;
  };
  const at = Date.parse('2001-01-02T03:04:05Z');

  it("the caption says whether the table is one job process's since it started (a restart starts at zero, a Kafka instance counts its own partitions) or every instance's, from agent-credit view", () => {
    expect(caption({ kind: 'job', since_ms: at })).toBe(`this job process, since it started ${new Date(at).toLocaleString()}: 1 episodes · 0 failed · mean R 1.000`);
    expect(caption({ kind: 'view', since_ms: at })).toMatch(/^all instances \(committed\), since .*2001.*: 1 episodes/);
    expect(caption({ kind: 'view', since_ms: null })).toMatch(/^all instances \(committed\), since the topics began: 1 episodes/);
  });

  it("the sink pushes its scope: a job's start time by default, view's window when given", async () => {
    const firstAgentsFrame = (sink: LiveSink) =>
      new Promise<{ scope?: StandingsScope }>((resolve, reject) => {
        const req = httpRequest(`${sink.address().url}/events`, (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            const m = /event: agents\ndata: (.*)\n\n/.exec(buf);
            if (m) {
              req.destroy();
              resolve(JSON.parse(m[1]!));
            }
          });
        });
        req.on('error', (e) => (e.message.includes('aborted') ? undefined : reject(e)));
        req.end();
      });
    const before = Date.now();
    const job = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 1, maxClients: 1 });
    const view = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 1, maxClients: 1, scope: { kind: 'view', fromMs: at } });
    await job.start();
    await view.start();
    try {
      const j = (await firstAgentsFrame(job)).scope!;
      expect(j.kind).toBe('job');
      expect(j.since_ms).toBeGreaterThanOrEqual(before);
      expect(j.since_ms).toBeLessThanOrEqual(Date.now());
      expect((await firstAgentsFrame(view)).scope).toEqual({ kind: 'view', since_ms: at });
    } finally {
      await job.close();
      await view.close();
    }
  });
});

describe('live page script: names that carry bidi controls', () => {
  it('renders every name, id and text from telemetry in a <bdi> of its own, so a U+202E (RIGHT-TO-LEFT OVERRIDE) in an agent name cannot reverse the credit, the names or the words beside it', () => {
    const page = loadPage();
    const send = (e: object) => page.sources[0]!.listeners.get((e as { event_type: string }).event_type)!({ data: JSON.stringify(e) });
    const RLO = '\u202E', RLI = '\u2067';
    const header = { episode_id: `ep${RLO}1`, episode_revision: 0, trace_ids: ['t1'], emitted_at_ms: 1 };
    const agent = (agent_id: string, agent_name: string, credit: number) => ({ agent_id, agent_name, credit, ci_low: credit, ci_high: credit, steps: 1 });
    const untrusted = {
      episode: header.episode_id,
      planner: `plan${RLO}ner`,
      coder: `co${RLI}der`,
      coderId: `agent_${RLO}coder`,
      step: `execute_tool ${RLO}search_docs`,
      evidence: `status=error: ${RLO}timed out`,
      tie: `b2${RLO}b2`,
      reason: `first error (${RLO}timed out) corrected by retry`,
      rejected: `search_docs ${RLO}v1`,
      chosen: `search_docs ${RLO}v2`,
      output: `${RLO}no results`,
      reviewer: `rev${RLO}iewer`,
      reviewerId: `agent_${RLO}reviewer`,
    };
    send({ ...header, event_type: 'episode_credit', outcome: 'failure', system_value: 0.2, close_reason: 'evaluation-arrived', estimator: { name: 'closed-form', status: 'exact' }, agents: [agent('agent_planner', untrusted.planner, 0.1), agent(untrusted.coderId, untrusted.coder, 0.1)], first_error: { step_id: 'a1', agent_id: untrusted.coderId, evidence: [untrusted.evidence, 'flagged'], ties: [untrusted.tie] } });
    send({ ...header, event_type: 'message_reward', step_id: 'a1', agent_id: untrusted.coderId, agent_name: untrusted.coder, name: untrusted.step, reward: -0.5, failure_role: 'first-error' });
    send({ ...header, event_type: 'preference_pair', agent_id: untrusted.coderId, margin: 0.5, reason: untrusted.reason, rejected: { name: untrusted.rejected, output: untrusted.output }, chosen: { name: untrusted.chosen, output: untrusted.output } });
    page.sources[0]!.listeners.get('agents')!({ data: JSON.stringify(boardForPage(snapshotOf([standing(untrusted.reviewerId, untrusted.reviewer, 1)]))) });

    const nodes = [...all(page.byId.get('episodes')!), ...all(page.byId.get('board')!)];
    const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
    // every piece of text holding a bidi control is a <bdi> holding one telemetry value, whole
    const carriers = nodes.filter((n) => BIDI.test(n.textContent));
    expect(carriers.filter((n) => n.tag !== 'bdi').map((n) => `<${n.tag}> ${JSON.stringify(n.textContent)}`)).toEqual([]);
    expect(new Set(carriers.map((n) => n.textContent))).toEqual(new Set(Object.values(untrusted)));
    // and the lines read as before
    const err = nodes.find((n) => n.className === 'err')!.content();
    expect(err).toBe(`first error: ${untrusted.step} (step a1) by ${untrusted.coder} (${untrusted.coderId}) — ${untrusted.evidence}; flagged · 1 other step equally likely: ${untrusted.tie}`);
    const pair = nodes.find((n) => n.className === 'pair')!;
    expect(pair.children.map((c) => c.content())).toEqual([`pair for ${untrusted.coderId} (margin 0.500): ${untrusted.reason}`, `rejected: ${untrusted.rejected} — ${untrusted.output}`, `chosen: ${untrusted.chosen} — ${untrusted.output}`]);
    expect(nodes.find((n) => n.tag === 'h2')!.content()).toMatch(new RegExp(`^${untrusted.episode}failure · R=0\\.200`));
    expect(nodes.find((n) => n.tag === 'td')!.content()).toBe(`${untrusted.reviewer} ${untrusted.reviewerId}`);
  });
});

describe('live page script: a pair output cut for the card', () => {
  it('keeps an emoji at the cut whole or leaves it out, never half of it (a lone surrogate shows as U+FFFD)', () => {
    const page = loadPage();
    const send = (e: object) => page.sources[0]!.listeners.get((e as { event_type: string }).event_type)!({ data: JSON.stringify(e) });
    const header = { episode_id: 'ep1', episode_revision: 0, trace_ids: ['t1'], emitted_at_ms: 1 };
    const output = `${'x'.repeat(159)}🚀 shipped`; // the emoji's two halves are units 160 and 161
    send({ ...header, event_type: 'preference_pair', agent_id: 'coder', margin: 0.5, reason: 'retry', rejected: { name: 'publish', output } });
    const pair = [...all(page.byId.get('episodes')!)].find((n) => n.className === 'pair')!;
    const rejected = pair.children[1]!.content();
    expect(rejected).toBe(`rejected: publish — ${'x'.repeat(159)}`);
    expect(rejected).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('live page script: a conversation opened again at revision 0', () => {
  it("shows conv:<id>'s new episode (another trace_ids[0]) beside the earlier one's revision 3 instead of dropping it as an older revision", () => {
    // conversation mode: once the conversation left the job's memory (closedEpisodeMemory,
    // retainClosedBytes), or after a restart or rebalance, its next turn opens conv:<id> again at
    // revision 0, told apart by trace_ids[0] (README, Events) — as the standings key it
    const page = loadPage();
    const send = (e: object) => page.sources[0]!.listeners.get((e as { event_type: string }).event_type)!({ data: JSON.stringify(e) });
    const credit = (revision: number, traceIds: string[], outcome: 'success' | 'failure', agent: string) => ({
      event_type: 'episode_credit', episode_id: 'conv:c1', episode_revision: revision, trace_ids: traceIds, emitted_at_ms: 1, outcome, system_value: outcome === 'success' ? 1 : 0,
      close_reason: 'evaluation-arrived', estimator: { name: 'closed-form', status: 'exact' }, agents: [{ agent_id: agent, agent_name: agent, credit: 0.5, ci_low: 0.5, ci_high: 0.5, steps: 1 }],
    });
    const [t1, t2, t3, t4, t5] = ['1', '2', '3', '4', '5'].map((d) => d.repeat(32));
    send(credit(3, [t1!, t2!, t3!, t4!], 'success', 'planner'));
    send(credit(0, [t5!], 'failure', 'coder'));
    const cards = page.byId.get('episodes')!.children;
    expect(cards).toHaveLength(2);
    const text = cards.map((c) => c.content());
    expect(text[0]).toMatch(/^conv:c1failure · R=0\.000/);
    expect(text[0]).toContain('coder');
    expect(text[1]).toMatch(/^conv:c1success · R=1\.000/);
    // a correction of the new episode still replaces its card
    send(credit(1, [t5!], 'success', 'coder'));
    expect(page.byId.get('episodes')!.children.map((c) => c.content().slice(0, 'conv:c1success'.length))).toEqual(['conv:c1success', 'conv:c1success']);
  });
});

describe('live page script: an event delivered twice', () => {
  it('shows a message reward and a preference pair read again (at-least-once output under agent-credit view, an episode re-credited after a rebalance) once, as the standings count them', () => {
    const page = loadPage();
    const send = (e: object) => page.sources[0]!.listeners.get((e as { event_type: string }).event_type)!({ data: JSON.stringify(e) });
    const header = { episode_id: 'ep1', episode_revision: 0, trace_ids: ['t1'], emitted_at_ms: 1 };
    const reward = (event_id: string, step_id: string) => ({ ...header, event_type: 'message_reward', event_id, step_id, agent_id: 'coder', agent_name: 'coder', name: 'execute_tool search', reward: -0.5, failure_role: 'first-error' });
    const pair = { ...header, event_type: 'preference_pair', event_id: 'p1', agent_id: 'coder', margin: 0.5, reason: 'first error', rejected: { name: 'execute_tool search', output: 'x' } };
    for (let i = 0; i < 2; i++) {
      send(reward('r1', 'a1a1a1a1a1a1a1a1'));
      send(reward('r2', 'b2b2b2b2b2b2b2b2'));
      send(pair);
    }
    const text = page.byId.get('episodes')!.children[0]!.content();
    expect(text).toContain('2 message rewards');
    expect(text.match(/pair for /g)).toHaveLength(1);
  });
});
