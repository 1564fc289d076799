/**
 * Texts the events carry are well-formed Unicode. A JS instrumentation that cuts a string by UTF-16
 * units — here the OTel JS SDK's own `spanLimits.attributeValueLengthLimit` — keeps the first half
 * of an emoji cut through, and OTLP/JSON sends that lone surrogate as a `\ud83d` escape. Held as it
 * was, the events carried it as `\ud83d` again: jq 1.6 refuses the line ("Invalid \uXXXX\uXXXX
 * surrogate pair escape") and Python cannot write the text out as UTF-8. It is U+FFFD now, as Go's
 * JSON decoders (the Collector's) read it; the digests and event ids, hashed from the UTF-8 bytes,
 * are the same as before (the UTF-8 encoder already put U+FFFD in its place).
 */
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/conventions/text.js';
import { eventJson } from '../../src/events/event-json.js';
import type { EpisodeCredit, MessageReward, PreferencePair } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans } from '../conventions/sdk.js';

const LIMIT = 32;
/** 31 UTF-16 units then an emoji (two units): the SDK's cut at 32 keeps its first half. */
const AGENT = 'Release notes writer, on call: 🚀';
const RESULT = 'The release notes were shipped 🚀 today';

/** A failed run whose tool step and agent name the SDK cut through an emoji, exported as OTLP/JSON. */
function cutRun() {
  return recordSpans(
    (r) => {
      const agent = r.start('invoke_agent writer', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': AGENT });
      const tool = r.start('execute_tool publish', 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'publish', 'gen_ai.tool.call.arguments': '{"to":"blog"}', 'gen_ai.tool.call.result': RESULT }, agent);
      tool.setStatus({ code: 2, message: 'rejected by the blog' });
      tool.end(at(5));
      agent.end(at(6));
    },
    'otlp_json',
    'writer-app',
    { attributeValueLengthLimit: LIMIT },
  );
}

/** `\ud800`–`\udfff` escapes: JSON.stringify writes a paired surrogate as the character itself, so each is a lone one. */
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/i;

describe('well-formed text in events', () => {
  it('a lone surrogate from OTLP/JSON (an emoji cut by the SDK) is U+FFFD in every event, digests unchanged', async () => {
    const spans = cutRun();
    const tool = spans.find((s) => s.name === 'execute_tool publish')!;
    expect(tool.attributes['gen_ai.tool.call.result']).toBe(RESULT.slice(0, LIMIT)); // the decoded text ends in \ud83d
    const events = await processEpisode(episodeOf(spans, 0));
    const pair = events.find((e): e is PreferencePair => e.event_type === 'preference_pair')!;
    expect(pair.rejected.output).toBe('The release notes were shipped \ufffd');
    expect(pair.rejected.output_digest).toBe(digestOf(RESULT.slice(0, LIMIT)));
    expect(pair.rejected.output_digest).toBe(digestOf(pair.rejected.output!)); // sha256 of the text as published matches
    const credit = events.find((e): e is EpisodeCredit => e.event_type === 'episode_credit')!;
    expect(credit.agents.map((a) => a.agent_name)).toEqual(['Release notes writer, on call: \ufffd']);
    expect(events.filter((e): e is MessageReward => e.event_type === 'message_reward').map((r) => r.agent_name)).toContain('Release notes writer, on call: \ufffd');
    for (const e of events) expect(eventJson(e)).not.toMatch(LONE_SURROGATE_ESCAPE);
  });
});
