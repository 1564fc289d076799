/**
 * The live page: one self-contained HTML document (no external assets). It subscribes to
 * `/events` (SSE) and renders the fleet's standings (`agents` pushes: per agent since start,
 * credit summed and averaged over its episodes, failures it started, harmful and redundant steps,
 * repairs) and, per episode (newest first; 40 cards, of which up to 20 failed ones are kept over
 * older successes, and a "failures only" switch): the outcome and system
 * value, each agent's Shapley credit as a signed bar with its interval, per-message rewards, and
 * for failures the first error (named, with its ties) and the preference pairs. All telemetry text
 * is inserted with `textContent` (span names and outputs are untrusted), each name, id and text
 * from telemetry in a `<bdi>` of its own: a bidi control in it (U+202E RIGHT-TO-LEFT OVERRIDE…)
 * then reorders only itself, not the words, figures and other names beside it. The header shows the
 * connection and the newest event's time; a stream the browser gives up on (an answer that is not
 * a stream) is reopened with back-off.
 */
export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>agent-credit — live</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{padding:12px 20px;background:#1d2330;color:#fff;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}#status{font-size:12px;opacity:.8}
main{padding:16px 20px;display:grid;gap:12px}
.ep{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002;overflow-wrap:anywhere}
.ep h2{font-size:14px;margin:0 0 6px;font-family:ui-monospace,monospace}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;margin-left:6px}
.success{background:#d8f3df;color:#17642d}.failure{background:#fbe0e0;color:#8a1c1c}
.row{display:grid;grid-template-columns:180px 1fr 80px;gap:8px;align-items:center;margin:2px 0}.row>span{min-width:0}
.bar{position:relative;height:12px;background:#eef0f4;border-radius:3px}
.bar i{position:absolute;top:0;bottom:0;border-radius:3px}.pos{background:#2f8f52}.neg{background:#d0483c}
.bar .mid{position:absolute;left:50%;top:-2px;bottom:-2px;width:1px;background:#888}
.num{font-family:ui-monospace,monospace;text-align:right}
details{margin-top:6px}summary{cursor:pointer;color:#445}
.err{color:#8a1c1c;margin-top:6px}.pair{font-size:12px;margin:4px 0;padding:4px 8px;background:#fafafa;border-left:3px solid #d0483c}
.muted{color:#5c6370;font-size:12px}header .muted{color:#c5cad3}
main.failonly .ep:not(.failed){display:none}header label{margin-left:auto;font-size:12px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
#board{padding:16px 20px 0}#board table{width:100%;border-collapse:collapse;background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002;font-size:13px}
#board th,#board td{padding:4px 10px;text-align:right;white-space:nowrap}#board th{font-weight:600;color:#445;border-bottom:1px solid #e3e6ec}
#board th:first-child,#board td:first-child{text-align:left}#board td.gap{text-align:center}
#board td:first-child{white-space:normal;overflow-wrap:anywhere;min-width:10em}#board td.barcell{width:30%}#board caption{text-align:left;padding:0 0 6px;color:#445}
.role-first-error,.role-independent-error{background:#fbe0e0;color:#8a1c1c}.role-repair,.role-critic{background:#d8f3df;color:#17642d}.role-dependent{background:#f3ecd8;color:#6b5417}
</style></head><body>
<header><h1>agent-credit</h1><span id="status" role="status">connecting…</span><span id="count" class="muted"></span><label><input type="checkbox" id="failonly"> failures only</label></header>
<section id="board"></section>
<main id="episodes"></main>
<script>
// opened as /?token=… (sinks.live.auth): the cookie is set, the token leaves the address bar and history
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname);
// 40 cards; a failure is what an operator comes back for, so up to 20 failed episodes are kept
// over older successes (on a busy fleet the newest 40 alone replaced a failure within seconds)
const MAX = 40, MAX_FAILED_KEPT = 20, episodes = new Map(), root = document.getElementById('episodes');
const isFailed = (e) => e.credit !== null && e.credit.outcome === 'failure';
const failOnly = document.getElementById('failonly');
failOnly.onchange = () => { root.className = failOnly.checked ? 'failonly' : ''; };
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = String(text); return e; };
// Telemetry's own text (agent and step names, ids, evidence) in an isolate: a name ending in U+202E
// (RIGHT-TO-LEFT OVERRIDE) would otherwise reverse what follows it on the line — the credit, the
// next name — and one with U+202B/U+2067 reorder its neighbours
const iso = (text) => el('bdi', '', text);
// an element of text and isolates (strings become text nodes)
const line = (tag, cls, ...parts) => { const e = el(tag, cls); e.append(...parts); return e; };
// telemetry texts, each an isolate, with sep between them
const joined = (texts, sep) => texts.flatMap((t, i) => (i ? [sep, iso(t)] : [iso(t)]));
// the first n UTF-16 units of a text, one fewer when the n-th is the first half of a pair: cut there,
// an emoji showed as � (a lone surrogate)
const head = (t, n) => { const c = t.length > n ? t.charCodeAt(n - 1) : 0; return t.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n); };
// a time of day today, with the date otherwise
const when = (ms) => { const d = new Date(ms); return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString(); };
const fmt = (x) => (x >= 0 ? '+' : '') + Number(x).toFixed(3);
const ROLE_TAGS = { 'first-error': 'first error', 'independent-error': 'independent error', repair: 'repair', critic: 'critic', dependent: 'dependent' };
function bar(value, scale) {
  const b = el('div', 'bar'), i = el('i', value >= 0 ? 'pos' : 'neg'), w = Math.min(50, Math.abs(value) / (scale || 1) * 50);
  i.style.width = w + '%'; i.style.left = value >= 0 ? '50%' : (50 - w) + '%';
  b.append(el('span', 'mid'), i); return b;
}
function entry(key, id) {
  let e = episodes.get(key);
  if (!e) { e = { id, credit: null, rewards: [], pairs: [], node: el('section', 'ep') }; episodes.set(key, e); root.prepend(e.node);
    while (episodes.size > MAX) {
      let failed = 0, oldestOther;
      for (const [k, v] of episodes) { if (isFailed(v)) failed++; else if (oldestOther === undefined) oldestOther = k; }
      const k = oldestOther !== undefined && failed <= MAX_FAILED_KEPT ? oldestOther : episodes.keys().next().value;
      episodes.get(k).node.remove(); episodes.delete(k);
    } }
  return e;
}
// The first error as the rows above name things: the step's name (from its message reward, once
// that has arrived) and the agent's name, with the ids; and the steps tied with it, which the event
// reports rather than hides — a tie means the localization is not certain.
function firstError(fe, agents, rewards) {
  const step = rewards.find((m) => m.step_id === fe.step_id), agent = agents.find((a) => a.agent_id === fe.agent_id);
  const who = agent && agent.agent_name !== fe.agent_id ? [iso(agent.agent_name), ' (', iso(fe.agent_id), ')'] : [iso(fe.agent_id)];
  const ties = fe.ties || [];
  return ['first error: ', ...(step ? [iso(step.name), ' (step ', iso(fe.step_id), ')'] : ['step ', iso(fe.step_id)]), ' by ', ...who, ' — ', ...joined(fe.evidence, '; '),
    ...(ties.length ? [' · ' + ties.length + (ties.length === 1 ? ' other step' : ' other steps') + ' equally likely: ', ...joined(ties, ', ')] : [])];
}
function render(key) {
  const e = episodes.get(key); if (!e) return; const n = e.node; n.replaceChildren(); n.className = isFailed(e) ? 'ep failed' : 'ep';
  const c = e.credit, h = line('h2', '', iso(e.id));
  if (c) { h.append(el('span', 'tag ' + c.outcome, c.outcome + ' · R=' + c.system_value.toFixed(3)), el('span', 'muted', ' ' + c.close_reason + ' · ' + c.estimator.name + ' (' + c.estimator.status + ')')); }
  n.append(h);
  if (c) {
    const scale = Math.max(1e-9, ...c.agents.map((a) => Math.abs(a.credit)));
    for (const a of c.agents) { const r = el('div', 'row'); r.append(line('span', '', iso(a.agent_name)), bar(a.credit, scale), el('span', 'num', fmt(a.credit))); r.title = 'CI [' + a.ci_low.toFixed(3) + ', ' + a.ci_high.toFixed(3) + '] · ' + a.steps + ' steps'; n.append(r); }
    if (c.first_error) n.append(line('div', 'err', ...firstError(c.first_error, c.agents, e.rewards)));
  }
  if (e.rewards.length) {
    const d = el('details'); d.append(el('summary', '', e.rewards.length + ' message rewards'));
    const scale = Math.max(1e-9, ...e.rewards.map((r) => Math.abs(r.reward)));
    for (const m of e.rewards) {
      const r = el('div', 'row'), name = line('span', '', iso(m.agent_name), ' · ', iso(m.name));
      // failed runs: who erred, who fixed or flagged it, who built on the error (roles that say nothing stay a tooltip)
      if (ROLE_TAGS[m.failure_role]) name.append(el('span', 'tag role-' + m.failure_role, ROLE_TAGS[m.failure_role]));
      r.append(name, bar(m.reward, scale), el('span', 'num', fmt(m.reward)));
      if (m.failure_role) r.title = m.failure_role;
      d.append(r);
    }
    n.append(d);
  }
  for (const p of e.pairs) {
    const d = el('div', 'pair'); d.append(line('div', '', 'pair for ', iso(p.agent_id), ' (margin ' + p.margin.toFixed(3) + '): ', iso(p.reason)));
    const side = (label, s) => line('div', 'muted', label, iso(s.name), ...(s.output ? [' — ', iso(head(s.output, 160))] : []));
    d.append(side('rejected: ', p.rejected));
    if (p.chosen) d.append(side('chosen: ', p.chosen));
    n.append(d);
  }
}
const board = document.getElementById('board');
const BAR_COLUMN = 'mean credit as a bar', BOARD_COLUMNS = ['agent', 'episodes', 'success', 'mean credit', BAR_COLUMN, 'total credit', 'first errors', 'harmful steps', 'redundant steps', 'repairs'];
// The standings are per agent id: two agents of one name (another convention's id, another app's) are two
// rows, so a name alone would show the same name twice with different figures. The id is shown
// beside the name when it says more than the name (a scoped id, shop/app/planner, already holds it).
function agentCell(id, name) {
  const td = line('td', '', iso(id === name || id.endsWith('/' + name) ? id : name));
  if (id !== name && !id.endsWith('/' + name)) td.append(line('span', 'muted', ' ', iso(id)));
  return td;
}
// Whose episodes the table counts: one job process's since it started (a restart starts again at
// zero; an instance of a Kafka group counts its own partitions), or — agent-credit view — every
// instance's committed ones from a time on.
function scopeText(scope) {
  if (!scope) return '';
  if (scope.kind === 'view') return 'all instances (committed), since ' + (scope.since_ms === null ? 'the topics began' : when(scope.since_ms)) + ': ';
  return 'this job process, since it started ' + when(scope.since_ms) + ': ';
}
// the fleet since the job started (server-side standings: corrections replace, re-deliveries count once)
function onAgents(ev) {
  const s = JSON.parse(ev.data), t = el('table');
  t.append(el('caption', '', scopeText(s.scope) + s.episodes + ' episodes · ' + s.failures + ' failed · mean R ' + Number(s.system_value_mean).toFixed(3) + (s.agents_total > s.agents.length ? ' · showing the ' + s.agents.length + ' highest and lowest of ' + s.agents_total + ' agents' : '')));
  // column headers (scope col) for screen readers; the bar column's is for them only
  const head = el('tr');
  for (const c of BOARD_COLUMNS) { const th = el('th', '', c === BAR_COLUMN ? undefined : c); if (c === BAR_COLUMN) th.append(el('span', 'sr-only', c)); th.scope = 'col'; head.append(th); }
  t.append(head);
  const scale = Math.max(1e-9, ...s.agents.map((a) => Math.abs(a.credit_mean)));
  // a push of a large fleet holds its highest and its lowest half: a row marks where the middle is left out
  const hidden = s.agents_total > s.agents.length ? s.agents_total - s.agents.length : 0;
  for (const [i, a] of s.agents.entries()) {
    if (hidden && i === s.agents.length / 2) { const gap = el('td', 'muted gap', '⋯ ' + hidden + ' agents in between, not shown (all of them: /api/agents)'); gap.colSpan = BOARD_COLUMNS.length; const g = el('tr'); g.append(gap); t.append(g); }
    const r = el('tr'), b = el('td', 'barcell');
    b.append(bar(a.credit_mean, scale));
    r.append(agentCell(a.agent_id, a.agent_name), el('td', 'num', a.episodes), el('td', 'num', a.episodes ? Math.round(100 * a.successes / a.episodes) + '%' : '–'), el('td', 'num', fmt(a.credit_mean)), b,
      el('td', 'num', fmt(a.credit_sum)), el('td', 'num', a.first_errors), el('td', 'num', a.harmful_steps), el('td', 'num', a.redundant_steps), el('td', 'num', a.repairs));
    r.title = a.agent_id + ' · ' + a.steps + ' rewarded steps';
    t.append(r);
  }
  board.replaceChildren(s.agents.length ? t : el('span', 'muted', 'no credited episode yet'));
}
// 'live' says the stream is open, not that credit still comes: the newest event's time tells a fleet
// (or a pipeline) that stopped sending from a quiet minute
let total = 0, newest = 0;
function onEvent(ev) {
  const e = JSON.parse(ev.data);
  // a card per (episode_id, trace_ids[0]), as the standings key them: in conversation mode a
  // conversation that left the job's memory (or a restart, a rebalance) opens conv:<id> again at
  // revision 0 with another first trace — a new episode, not an older revision of the shown one
  const key = JSON.stringify([e.episode_id, (e.trace_ids && e.trace_ids[0]) || '']), x = entry(key, e.episode_id); total++; newest = Math.max(newest, e.emitted_at_ms || 0);
  // A correction (higher revision) replaces everything shown for the episode; older revisions' events are ignored.
  const rev = e.episode_revision || 0;
  if (x.rev === undefined || rev > x.rev) { x.rev = rev; x.credit = null; x.rewards = []; x.pairs = []; }
  // an event delivered again (at-least-once output read by agent-credit view, an episode credited
  // again after a rebalance) is the same event_id: shown once, as the standings count it once
  const again = (list) => list.some((o) => o.event_id === e.event_id);
  if (rev === x.rev) {
    if (e.event_type === 'episode_credit') x.credit = e;
    else if (e.event_type === 'message_reward') { if (!again(x.rewards)) x.rewards.push(e); }
    else if (e.event_type === 'preference_pair') { if (!again(x.pairs)) x.pairs.push(e); }
  }
  render(key); document.getElementById('count').textContent = total + ' events' + (newest ? ' · newest ' + when(newest) : '');
}
const status = (text) => { document.getElementById('status').textContent = text; };
// The browser reconnects by itself only after a network error or the end of the stream (the job
// stopping). An answer that is not a stream — 401 (a restarted job with another token), 503
// (maxClients), a proxy's 502 while the job restarts — closes the EventSource for good
// (readyState 2): then the page opens a new one, backing off up to 30 s, and says so.
let retryMs = 1000, current;
function connect() {
  const src = current = new EventSource('events');
  for (const t of ['episode_credit', 'message_reward', 'preference_pair']) src.addEventListener(t, onEvent);
  src.addEventListener('agents', onAgents);
  src.onopen = () => { retryMs = 1000; episodes.clear(); root.replaceChildren(); total = 0; newest = 0; document.getElementById('count').textContent = ''; /* the server replays its buffer on every (re)connect */ status('live'); };
  src.onerror = () => {
    if (src.readyState !== 2) return status('reconnecting…');
    src.close(); current = undefined;
    const wait = retryMs; retryMs = Math.min(30000, retryMs * 2);
    status('disconnected — retrying in ' + Math.round(wait / 1000) + ' s');
    // why, when the server says (HEAD /events takes no client slot): a refused token needs the page reopened
    fetch('events', { method: 'HEAD' }).then((r) => { if (current !== undefined) return; /* reconnecting already */ if (r.status === 401) status('disconnected: not authorized — open /?token=<token> again (retrying in ' + Math.round(wait / 1000) + ' s)'); else if (!r.ok) status('disconnected: HTTP ' + r.status + ' — retrying in ' + Math.round(wait / 1000) + ' s'); }, () => {});
    setTimeout(connect, wait);
  };
}
connect();
</script></body></html>
`;
