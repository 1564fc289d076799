/**
 * Computes the worked three-agent example of docs/credit.md with the real code. Run
 * `npx tsx test/credit/worked-example.ts` to print the Markdown block; docs.test.ts checks that
 * docs/credit.md contains exactly this output, so the document's numbers cannot drift from the code.
 */
import { creditEpisode, exactShapley, provenanceGames, type CreditOutcome } from '../../src/credit/index.js';
import { episode, threeAgentSteps } from './episode-builder.js';

const f = (x: number) => (Math.abs(x) < 5e-7 ? '0' : x.toFixed(6).replace(/0+$/, '').replace(/\.$/, ''));
const short = (id: string) => `s${parseInt(id, 16)}`;

function rewardsTable(out: CreditOutcome): string[] {
  const lines = ['| step | agent | role | δ_m | credit_share | marginal | (redundancy) | (sabotage) | blame | repair | shrink | **r_m** |', '|---|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const m of out.messages) {
    const c = m.components;
    const role = m.failureRole ?? out.provenance?.roles.get(m.step.stepId) ?? '';
    lines.push(`| ${short(m.step.stepId)} ${m.step.name} | ${m.step.agentId} | ${role} | ${f(m.delta)} | ${f(c.credit_share)} | ${f(c.marginal)} | ${f(c.redundancy)} | ${f(c.sabotage)} | ${f(c.blame)} | ${f(c.repair)} | ${f(c.shrink)} | **${f(m.reward)}** |`);
  }
  return lines;
}

export async function workedExampleMarkdown(): Promise<string> {
  const steps = threeAgentSteps({ toolFails: true });
  const L: string[] = [];
  L.push('Steps (causal/time order; `inputs` = causalInputs):', '', '| step | agent | kind | name | inputs | status |', '|---|---|---|---|---|---|');
  for (const s of steps) L.push(`| ${short(s.stepId)} | ${s.agentId} | ${s.kind} | ${s.name} | ${s.causalInputs.map(short).join(', ') || '—'} | ${s.status.ok ? 'ok' : 'error'} |`);

  const R = 0.9;
  const b = 0;
  const agents = ['planner', 'researcher', 'writer'].map((a) => ({ agentId: a, agentName: a }));
  const pg = provenanceGames('example', steps, agents, { systemValue: R, baseline: b });
  const a = pg.analysis;
  const roles = [...a.roles].map(([id, r]) => `${short(id)}: ${r}`).join(', ');
  const p = [...a.roles.values()].filter((r) => r === 'useful').length;
  const q = [...a.roles.values()].filter((r) => r === 'harmful').length;
  L.push('', `**Success run, R = ${R}, b = ${b}.** Output message: ${a.outputStepIds.map(short).join(', ')}. Roles: ${roles}.`);
  L.push(`p = ${p} useful, q = ${q} harmful; h = harmWeight·scale/(p+q) = 1/${p + q} = ${f(a.harmWeight)}; u = (Δ + q·h)/p = (${R - b} + ${q}·${f(a.harmWeight)})/${p} = ${f(a.usefulWeight)}.`);
  L.push('', '| term of | message carriers | agent carriers | weight |', '|---|---|---|---|');
  const author = new Map(steps.map((s) => [s.stepId, s.agentId] as const));
  for (const [id, c] of a.carriers) L.push(`| ${short(id)} | {${c.map(short).join(', ')}} | {${[...new Set(c.map((x) => author.get(x)!))].join(', ')}} | ${f(a.usefulWeight)} |`);
  for (const [id, r] of a.roles) if (r === 'harmful') L.push(`| ${short(id)} (harm) | {${short(id)}} | {${author.get(id)}} | ${f(-a.harmWeight)} |`);

  const cf = pg.agentGame.closedForm();
  const ex = await exactShapley(pg.agentGame);
  L.push('', '| agent | φ_i closed form | φ_i exact enumeration | leave-one-out |', '|---|---|---|---|');
  const loo = pg.agentGame.leaveOneOut();
  agents.forEach((ag, i) => L.push(`| ${ag.agentId} | ${f(cf[i]!)} | ${f(ex.values[i]!)} | ${f(loo[i]!)} |`));
  L.push(`| Σ | ${f(cf.reduce((x, y) => x + y, 0))} | ${f(ex.values.reduce((x, y) => x + y, 0))} | |`);

  const success = await creditEpisode(episode(steps, R), {});
  L.push('', `creditEpisode (defaults: bound C·(Rmax−Rmin) = ${success.rewardBound}, estimator ${success.estimator.name}/${success.estimator.status}, ${success.estimator.evaluations} evaluations):`, '');
  L.push(...rewardsTable(success));
  L.push(`| Σ | | | | | | | | | | | **${f(success.messages.reduce((x, m) => x + m.reward, 0))}** |`);

  const failed = await creditEpisode(episode(steps, 0.2), {});
  L.push('', `**Failure run: same steps, R = 0.2 < τ = ${failed.successThreshold}.** First error: ${short(failed.firstError!.stepId)} (${failed.firstError!.evidence.join('; ')}), ties: ${failed.firstError!.ties.length === 0 ? 'none' : failed.firstError!.ties.map(short).join(', ')}.`);
  L.push('Agent credit: ' + failed.agents.map((x) => `${x.agentId} ${f(x.credit)}`).join(', ') + '.', '');
  L.push(...rewardsTable(failed));
  L.push(`| Σ | | | | | | | | | | | **${f(failed.messages.reduce((x, m) => x + m.reward, 0))}** |`);
  L.push('', 'Preference pairs:');
  for (const pp of failed.pairs) L.push(`- chosen ${pp.chosen ? short(pp.chosen.stepId) : '—'}, rejected ${short(pp.rejected.stepId)}, margin ${f(pp.margin)}, rejected_only ${pp.rejectedOnly}: ${pp.reason}`);
  return L.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await workedExampleMarkdown());
}
