import { join } from 'node:path';
import { Script, createContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
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
  style: Record<string, string> = {};
  constructor(readonly tag: string) {}
  append(...els: FakeElement[]) {
    for (const e of els) (e.parent = this), this.children.push(e);
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
}

describe('live page script', () => {
  it('renders agents, rewards, first errors and pairs from real events', async () => {
    const events: CreditEvent[] = [];
    const sink: EventSink = { name: 'c', start: async () => {}, publish: (e) => void events.push(...e), flush: async () => {}, close: async () => {} };
    await replayFiles(loadConfig({ env: {} }).config, listOtlpFiles([join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http')]), { sinks: [sink] });

    const byId = new Map(['episodes', 'status', 'count'].map((id) => [id, new FakeElement('div')]));
    const listeners = new Map<string, (ev: { data: string }) => void>();
    const source = { onopen: undefined as undefined | (() => void), onerror: undefined, addEventListener: (t: string, f: (ev: { data: string }) => void) => listeners.set(t, f) };
    const context = createContext({
      document: { getElementById: (id: string) => byId.get(id), createElement: (t: string) => new FakeElement(t) },
      EventSource: function () {
        return source;
      },
      Map,
      Math,
      Number,
      String,
      JSON,
    });
    new Script(/<script>([\s\S]*)<\/script>/.exec(LIVE_PAGE_HTML)![1]!).runInContext(context);
    source.onopen?.();
    for (const e of events) listeners.get(e.event_type)!({ data: JSON.stringify(e) });

    const root = byId.get('episodes')!;
    const credits = events.filter((e) => e.event_type === 'episode_credit');
    expect(root.children.length).toBe(credits.length);
    const text = root.text();
    for (const c of credits) {
      expect(text).toContain(c.episode_id);
      if (c.event_type === 'episode_credit') for (const a of c.agents) expect(text).toContain(a.agent_name);
    }
    expect(text).toMatch(/message rewards/);
    if (credits.some((c) => c.event_type === 'episode_credit' && c.first_error)) expect(text).toContain('first error');
    if (events.some((e) => e.event_type === 'preference_pair')) expect(text).toContain('pair for');
    expect(byId.get('count')!.textContent).toBe(`${events.length} events`);

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
    const roles = own.flatMap((e) => (e.event_type === 'message_reward' && e.failure_role && ['first-error', 'repair', 'critic', 'dependent'].includes(e.failure_role) ? [e.failure_role] : []));
    expect(tags.map((t) => t.className.slice('tag role-'.length)).sort()).toEqual(roles.sort());
    expect(tags.some((t) => t.textContent === 'first error')).toBe(true);
  });
});
