/**
 * auditor.track: audit a provider call that is not OpenAI-shaped (here a made-up client), including
 * one that throws. Run: npx tsx examples/sdk-track.ts
 */
import { createAuditor } from '../src/sdk/index.js';

/** Stands in for any vendor SDK: Anthropic-style usage, and an error with a status. */
async function vendorComplete(
  prompt: string,
  fail: boolean,
): Promise<{ text: string; model: string; usage: { input_tokens: number; output_tokens: number } }> {
  await new Promise((r) => setTimeout(r, 20));
  if (fail)
    throw Object.assign(new Error('Overloaded'), { status: 529, error: { code: 'overloaded_error' } });
  return {
    text: `echo: ${prompt}`,
    model: 'claude-sonnet-4-5',
    usage: { input_tokens: prompt.split(' ').length, output_tokens: 3 },
  };
}

const auditor = await createAuditor({ store: { kind: 'memory' } });

for (const fail of [false, true]) {
  try {
    const text = await auditor.track(
      {
        provider: 'anthropic',
        endpoint: '/messages',
        model: 'claude-sonnet-4-5',
        request: { messages: [{ role: 'user', content: 'summarise the report' }] },
        attribution: { user: 'u-9', feature: 'summary' },
      },
      async (call) => {
        const r = await vendorComplete('summarise the report', fail);
        call.setModel(r.model);
        call.setUsage(r.usage);
        call.appendOutput(r.text);
        return r.text;
      },
    );
    console.log('result:', text);
  } catch (err) {
    console.log('the call threw, and was still audited:', (err as Error).message);
  }
}

await auditor.flush();
for (const e of await auditor.store.query({ order: 'asc' })) {
  console.log(
    `${e.seq} ${e.status} http=${e.http_status_code} ${e.api_provider}${e.endpoint} tokens=${e.input_tokens}/${e.output_tokens} cost=${e.cost_micro_usd} error=${e.error_code}`,
  );
}
const s = auditor.stats();
console.log(`written ${s.written}, dropped ${s.dropped}, audit errors ${s.auditErrors}`);
await auditor.close();
