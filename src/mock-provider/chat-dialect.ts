/**
 * The mock's OpenAI Chat Completions (`POST /v1/chat/completions`) and legacy Completions
 * (`POST /v1/completions`), in the shapes of https://platform.openai.com/docs/api-reference/chat
 * (2025): a `chat.completion` / `text_completion` body, or `chat.completion.chunk` events (a role
 * chunk first, the finish chunk, the usage chunk when `stream_options.include_usage` asks for it)
 * ending in `data: [DONE]`. A forced function (mock-tools.ts) is answered with `tool_calls`: its
 * id, name and empty arguments in the first chunk, the JSON arguments in `function.arguments`
 * fragments, then `finish_reason: "tool_calls"` (https://platform.openai.com/docs/guides/function-calling,
 * "Streaming").
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import { sse, writeStream } from './mock-stream.js';
import { capOf, completionFor, mockId, promptOf, sendJson, splitInto } from './mock-text.js';
import { fragments, openAIToolCall, toolCallTokens } from './mock-tools.js';

export async function answerChat(path: string, ctx: MockContext, res: ServerResponse): Promise<void> {
  const { json, model, script } = ctx;
  // Like a real provider, never more output than the request's cap (one word is one token here).
  const cap = capOf(json.max_completion_tokens, json.max_tokens, json.max_output_tokens);
  const c = completionFor(promptOf(json), cap, script, ctx.chunks);
  const text = c.text;
  const cached = c.cachedTokens;
  const reasoning = c.reasoningTokens;
  const call = path === '/completions' ? null : openAIToolCall(json, script);
  const output = call ? toolCallTokens(call) : c.outputTokens;
  const usage = script.omitUsage
    ? undefined
    : {
        prompt_tokens: c.inputTokens,
        completion_tokens: output + reasoning,
        total_tokens: c.inputTokens + output + reasoning,
        prompt_tokens_details: { cached_tokens: cached },
        completion_tokens_details: { reasoning_tokens: reasoning },
      };
  const id = mockId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const servedModel = servedModelOf(model);
  const callId = mockId('call_');
  const args = call ? JSON.stringify(call.input) : '';
  const finish = call ? 'tool_calls' : 'stop';

  if (json.stream !== true) {
    const choice =
      path === '/completions'
        ? { index: 0, text, finish_reason: 'stop', logprobs: null }
        : {
            index: 0,
            message: call
              ? {
                  role: 'assistant',
                  content: null,
                  tool_calls: [
                    { id: callId, type: 'function', function: { name: call.name, arguments: args } },
                  ],
                  refusal: null,
                }
              : { role: 'assistant', content: text, refusal: null },
            finish_reason: finish,
            logprobs: null,
          };
    return sendJson(res, 200, {
      id,
      object: path === '/completions' ? 'text_completion' : 'chat.completion',
      created,
      model: servedModel,
      choices: [choice],
      ...(usage ? { usage } : {}),
    });
  }

  // Streaming, in the shape of OpenAI's chat.completion.chunk events.
  const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
    sse({
      id,
      object: 'chat.completion.chunk',
      created,
      model: servedModel,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
  const includeUsage =
    (json.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const tail = [chunk({}, finish)];
  if (includeUsage && usage)
    tail.push(sse({ id, object: 'chat.completion.chunk', created, model: servedModel, choices: [], usage }));
  tail.push('data: [DONE]\n\n');
  return writeStream(
    res,
    {
      contentType: 'text/event-stream',
      head: [
        chunk(
          call
            ? {
                role: 'assistant',
                content: null,
                tool_calls: [
                  { index: 0, id: callId, type: 'function', function: { name: call.name, arguments: '' } },
                ],
                refusal: null,
              }
            : { role: 'assistant', content: '' },
          null,
        ),
      ],
      pieces: call
        ? fragments(args, ctx.chunks).map((a) =>
            chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] }, null),
          )
        : splitInto(text, ctx.chunks).map((p) => chunk({ content: script.chunkText ?? p }, null)),
      tail,
      endlessPiece: (t) => chunk({ content: t }, null),
    },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}

/** The model a provider reports serving: OpenAI answers a `gpt-4.1` alias with its snapshot. */
export function servedModelOf(model: string): string {
  return model.startsWith('gpt-4.1') && !model.includes('-20') ? `${model}-2025-04-14` : model;
}
