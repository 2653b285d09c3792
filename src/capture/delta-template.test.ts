import { afterEach, describe, expect, it, vi } from 'vitest';
import { anthropicMessages } from '../providers/anthropic/messages.js';
import { openAIChat } from '../providers/openai/chat.js';
import { openAIResponses } from '../providers/openai/responses.js';
import type { ProviderApi, StreamSink } from '../providers/provider-api.js';
import { DeltaTemplate, TemplateCache } from './delta-template.js';
import { blankAssembledStream, SseAssembler, type AssembledStream } from './sse-assembler.js';
import { relayStreamChunk } from './stream-relay.js';

/**
 * The reference reading of a typed-event stream, written for clarity: decode everything, split the
 * events, parse every data payload in full and hand it to the spec's own reader. The assembler
 * (which reads most text deltas through a template) must agree with it at every cut point.
 */
function reference(api: ProviderApi, bytes: Buffer): AssembledStream {
  const text = new TextDecoder('utf-8').decode(bytes);
  const r: AssembledStream = blankAssembledStream(api.id, false);
  let lastCall: string | number | undefined;
  const sink: StreamSink = {
    text: (p) => {
      r.firstContentAt ??= r.chunks;
      r.text += p;
    },
    toolArguments: (p, call) => {
      r.firstContentAt ??= r.chunks;
      // Another call's arguments start on a new line (SseAssembler.toolArguments).
      if (call !== undefined && lastCall !== undefined && call !== lastCall) r.toolArguments += '\n';
      if (call !== undefined) lastCall = call;
      r.toolArguments += p;
    },
    otherContent: () => (r.firstContentAt ??= r.chunks),
    model: (m) => (r.model = m),
    usage: (u) => (r.usage = u),
    finish: (f) => (r.finishReason = f),
    error: (m, c) => {
      r.errorMessage = m;
      r.errorCode = c;
    },
    completed: () => (r.ended = true),
  };
  const reader = api.streamReader();
  for (const raw of text.split(/(?<=\r\n\r\n|\n\n)/)) {
    const data = raw
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
      .join('\n');
    if (!data) continue;
    // Chat Completions' healthy end (the typed-event APIs have none).
    if (data === '[DONE]') {
      r.ended = true;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue;
    r.chunks++;
    reader.read(parsed as Record<string, unknown>, sink);
  }
  return r;
}

function relay(
  api: ProviderApi,
  bytes: Buffer,
  cuts: number[],
  templates: TemplateCache | null = null,
): { result: AssembledStream; forwarded: Buffer } {
  const a = new SseAssembler(api, templates);
  const decoder = new TextDecoder('utf-8');
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    const o = relayStreamChunk(a, decoder, bytes.subarray(at, cut), false);
    if (o !== null) out.push(typeof o === 'string' ? Buffer.from(o) : o);
    at = cut;
  }
  a.push(decoder.decode());
  return { result: a.finish(), forwarded: Buffer.concat(out) };
}

/** Texts that try to break a template: escapes, unicode, quotes, text that spells the envelope. */
const HOSTILE = [
  'Hello',
  ' wörld',
  ' "quoted"',
  ' back\\slash\\',
  ' tab\there',
  ' line\nbreak',
  ' \u2028sep\u2029',
  ' emoji 🎉',
  ' e\u0301',
  ' "delta":"forged"',
  '","logprobs":[]}',
  '"}}',
  ' "text":"x"',
  '\\',
  '\ud800 lone',
  ' end',
];

const ev = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
const responsesDelta = (seq: number, delta: string, extra = ''): string =>
  ev(
    'response.output_text.delta',
    `{"type":"response.output_text.delta","sequence_number":${seq},"item_id":"msg_1","output_index":0,"content_index":0,"delta":${JSON.stringify(delta)},"logprobs":[]${extra}}`,
  );
const anthropicDelta = (index: number, text: string): string =>
  ev(
    'content_block_delta',
    `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}`,
  );

/** A chat chunk as OpenAI streams it (2025): a fingerprint, a service tier and a different `obfuscation` in each. */
const chatChunk = (content: string, obfuscation: string, extra = '', model = 'gpt-4.1-2025-04-14'): string =>
  `data: {"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1754000000,"model":"${model}","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":null}]${extra},"obfuscation":"${obfuscation}"}\n\n`;
const CHAT_HEAD =
  'data: {"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1754000000,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"obfuscation":"4p"}\n\n';
const CHAT_TAIL =
  'data: {"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1754000000,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"obfuscation":"Zq0"}\n\n' +
  'data: {"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1754000000,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13},"obfuscation":"x"}\n\n' +
  'data: [DONE]\n\n';

const RESPONSES_HEAD = ev(
  'response.created',
  '{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","model":"gpt-4.1-2025-04-14","status":"in_progress","output":[]}}',
);
const RESPONSES_TAIL = ev(
  'response.completed',
  '{"type":"response.completed","sequence_number":99,"response":{"id":"resp_1","object":"response","model":"gpt-4.1-2025-04-14","status":"completed","usage":{"input_tokens":4,"output_tokens":9,"total_tokens":13}}}',
);
const ANTHROPIC_HEAD =
  ev(
    'message_start',
    '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":12,"output_tokens":1}}}',
  ) +
  ev(
    'content_block_start',
    '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  );
const ANTHROPIC_TAIL =
  ev('content_block_stop', '{"type":"content_block_stop","index":0}') +
  ev(
    'message_delta',
    '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}',
  ) +
  ev('message_stop', '{"type":"message_stop"}');

const STREAMS: Array<[string, ProviderApi, string]> = [
  [
    'chat: hostile texts, a different obfuscation in every chunk',
    openAIChat,
    CHAT_HEAD + HOSTILE.map((t, i) => chatChunk(t, 'ob'.repeat(i % 4) + String(i))).join('') + CHAT_TAIL,
  ],
  [
    'chat: shape changes between content chunks',
    openAIChat,
    CHAT_HEAD +
      chatChunk('a', 'k1') +
      chatChunk('b', 'k"2') +
      chatChunk('c', 'k3', ',"usage":null') +
      chatChunk('d', 'k4', '', 'gpt-4.1-mini') +
      chatChunk('e', 'k5').replace('"fp_b3f1157249"', 'null') +
      chatChunk('f', 'k6').replace('"obfuscation":"k6"', '"obfuscation":6') +
      chatChunk('g', 'k7').replace('"finish_reason":null', '"finish_reason":"length"') +
      chatChunk('h', 'k8').replace('"content":"h"', '"content":"h","refusal":"no"') +
      chatChunk('i', 'k9') +
      CHAT_TAIL,
  ],
  [
    'responses: hostile texts in the template shape, varying sequence numbers',
    openAIResponses,
    RESPONSES_HEAD + HOSTILE.map((t, i) => responsesDelta(i + 1, t)).join('') + RESPONSES_TAIL,
  ],
  [
    'responses: escapes in the provider’s own encoding, odd numbers and ids, shape changes',
    openAIResponses,
    RESPONSES_HEAD +
      responsesDelta(1, 'a') +
      responsesDelta(2, 'b') +
      // Another event type in the template's shape (its `type` is never a hole).
      ev(
        'response.function_call_arguments.delta',
        '{"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"{\\"a\\":1}","logprobs":[]}',
      ) +
      // The same shape with escaped unicode, an exponent, a negative number, another item id.
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":3e2,"item_id":"msg_\\u0032","output_index":-1,"content_index":0.5,"delta":"\\u00e9\\ud83c\\udf89\\"","logprobs":[]}',
      ) +
      // Invalid JSON in each hole: a leading zero, a raw control character, a bad escape.
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":04,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"lost","logprobs":[]}',
      ) +
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"raw\u0001control","logprobs":[]}',
      ) +
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":6,"item_id":"msg\\q","output_index":0,"content_index":0,"delta":"bad escape","logprobs":[]}',
      ) +
      // A hole of another kind, a repeated key (the last wins), an escaped key, an empty text.
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":"7","item_id":"msg_1","output_index":0,"content_index":0,"delta":"string seq","logprobs":[]}',
      ) +
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":8,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"first","logprobs":[],"delta":"second"}',
      ) +
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta","sequence_number":9,"item_id":"msg_1","output_index":0,"content_index":0,"d\\u0065lta":"escaped key","logprobs":[]}',
      ) +
      responsesDelta(10, '') +
      // Whitespace; a refusal; the obfuscation field.
      ev(
        'response.output_text.delta',
        '{"type":"response.output_text.delta", "sequence_number":12,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"spaced","logprobs":[]}',
      ) +
      ev(
        'response.refusal.delta',
        '{"type":"response.refusal.delta","sequence_number":13,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"no","logprobs":[]}',
      ) +
      responsesDelta(14, 'c', ',"obfuscation":"k3J"') +
      responsesDelta(15, 'd', ',"obfuscation":"x\\"y"') +
      responsesDelta(16, 'e', ',"obfuscation":"q"') +
      responsesDelta(17, 'f', ',"logprobs":[{"token":"f"}]') +
      RESPONSES_TAIL,
  ],
  [
    'anthropic: hostile texts, varying indexes',
    anthropicMessages,
    ANTHROPIC_HEAD + HOSTILE.map((t, i) => anthropicDelta(i % 3, t)).join('') + ANTHROPIC_TAIL,
  ],
  [
    'anthropic: tool input and thinking in the same envelope, empty texts, extra keys',
    anthropicMessages,
    ANTHROPIC_HEAD +
      anthropicDelta(0, 'a') +
      anthropicDelta(0, 'b') +
      ev(
        'message_delta',
        '{"type":"message_delta","index":0,"delta":{"type":"text_delta","text":"not content"}}',
      ) +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\":"}}',
      ) +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","text":"\\"Paris\\"}"}}',
      ) +
      anthropicDelta(0, '') +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"","partial_json":"{}"}}',
      ) +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"hmm"}}',
      ) +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","text":"y"}}',
      ) +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","te\\u0078t":"escaped key"}}',
      ) +
      ev(
        'content_block_delta',
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"c"}} ',
      ) +
      anthropicDelta(7, 'd') +
      // CRLF framing and an event without an `event:` line.
      anthropicDelta(0, 'e').replace(/\n/g, '\r\n') +
      'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"f"}}\n\n' +
      ANTHROPIC_TAIL,
  ],
];

afterEach(() => vi.restoreAllMocks());

describe('typed text deltas read through a template', () => {
  it.each(STREAMS)('%s: reads like a full parse of each event, whole and at every byte cut', (_n, api, s) => {
    const bytes = Buffer.from(s);
    const want = reference(api, bytes);
    const whole = relay(api, bytes, []);
    expect(whole.result).toEqual(want);
    expect(whole.forwarded.equals(bytes)).toBe(true);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { result, forwarded } = relay(api, bytes, [cut]);
      expect(result, `cut at ${cut}`).toEqual(want);
      expect(forwarded.equals(bytes), `bytes at cut ${cut}`).toBe(true);
    }
    for (const step of [1, 3, 7, 64]) {
      const cuts: number[] = [];
      for (let c = step; c < bytes.length; c += step) cuts.push(c);
      const { result, forwarded } = relay(api, bytes, cuts);
      expect(result, `cut every ${step} bytes`).toEqual(want);
      expect(forwarded.equals(bytes)).toBe(true);
    }
  });

  it('parses the events that make up a stream once per stream, not once per delta', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const responses =
      RESPONSES_HEAD + ['a', 'b', 'c', 'd', 'e'].map((t, i) => responsesDelta(i + 1, t)).join('');
    relay(openAIResponses, Buffer.from(responses + RESPONSES_TAIL), []);
    // head, the first delta, tail: the other four deltas fit the first one's template.
    expect(parse).toHaveBeenCalledTimes(3);
    parse.mockClear();
    const anthropic = ANTHROPIC_HEAD + ['a', 'b', 'c', 'd', 'e'].map((t) => anthropicDelta(0, t)).join('');
    relay(anthropicMessages, Buffer.from(anthropic + ANTHROPIC_TAIL), []);
    expect(parse).toHaveBeenCalledTimes(2 + 1 + 3);
  });
});

describe('text-delta templates shared between streams', () => {
  it('reads each stream like a full parse of it, with templates learnt from the streams before', () => {
    const templates = new TemplateCache(2);
    const streams: Array<[ProviderApi, string]> = [
      [openAIChat, CHAT_HEAD + ['a', 'b', 'c'].map((t, i) => chatChunk(t, `o${i}`)).join('') + CHAT_TAIL],
      // Another stream of the same model: other id, time and fingerprint.
      [
        openAIChat,
        (CHAT_HEAD + ['x', 'y'].map((t, i) => chatChunk(t, `p${i}`)).join('') + CHAT_TAIL)
          .replace(/chatcmpl-Bx1/g, 'chatcmpl-Cy2')
          .replace(/1754000000/g, '1754000123')
          .replace(/fp_b3f1157249/g, 'fp_0'),
      ],
      // Another model in the same envelope: its chunks must not be read as the first model's.
      [openAIChat, CHAT_HEAD + chatChunk('m', 'q', '', 'gpt-4.1-mini') + CHAT_TAIL],
      [
        openAIResponses,
        RESPONSES_HEAD + HOSTILE.map((t, i) => responsesDelta(i + 1, t)).join('') + RESPONSES_TAIL,
      ],
      [
        openAIResponses,
        (
          RESPONSES_HEAD +
          ['u', 'v'].map((t, i) => responsesDelta(i + 5, t)).join('') +
          RESPONSES_TAIL
        ).replace(/msg_1/g, 'msg_2'),
      ],
      [
        anthropicMessages,
        ANTHROPIC_HEAD + HOSTILE.map((t, i) => anthropicDelta(i % 3, t)).join('') + ANTHROPIC_TAIL,
      ],
    ];
    for (const round of [1, 2]) {
      for (const [api, s] of streams) {
        const bytes = Buffer.from(s);
        const want = reference(api, bytes);
        for (const cuts of [[], [Math.floor(bytes.length / 2)]]) {
          const { result, forwarded } = relay(api, bytes, cuts, templates);
          expect(result, `round ${round}, ${api.id}`).toEqual(want);
          expect(forwarded.equals(bytes)).toBe(true);
        }
      }
    }
  });

  it('parses no text delta of a stream whose shape an earlier stream taught', () => {
    const templates = new TemplateCache();
    const chat = (id: string): Buffer =>
      Buffer.from(
        (CHAT_HEAD + ['a', 'b', 'c', 'd'].map((t, i) => chatChunk(t, `z${i}`)).join('') + CHAT_TAIL).replace(
          /chatcmpl-Bx1/g,
          id,
        ),
      );
    const parse = vi.spyOn(JSON, 'parse');
    relay(openAIChat, chat('chatcmpl-1'), [], templates);
    // role chunk, the first content chunk, finish, usage: the other three fit the first's template.
    expect(parse).toHaveBeenCalledTimes(4);
    parse.mockClear();
    relay(openAIChat, chat('chatcmpl-2'), [], templates);
    expect(parse).toHaveBeenCalledTimes(3);
    parse.mockClear();
    const responses = (item: string): Buffer =>
      Buffer.from(
        (
          RESPONSES_HEAD +
          ['a', 'b', 'c'].map((t, i) => responsesDelta(i + 1, t)).join('') +
          RESPONSES_TAIL
        ).replace(/msg_1/g, item),
      );
    relay(openAIResponses, responses('msg_a'), [], templates);
    expect(parse).toHaveBeenCalledTimes(3);
    parse.mockClear();
    relay(openAIResponses, responses('msg_b'), [], templates);
    expect(parse).toHaveBeenCalledTimes(2);
  });
});

describe('DeltaTemplate', () => {
  const kinds = anthropicMessages.textDeltas!;
  const of = (data: string) => DeltaTemplate.from(data, JSON.parse(data) as Record<string, unknown>, kinds);

  it('is taken only from a delta with a non-empty text, plain keys and no key twice', () => {
    expect(
      of('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}'),
    ).not.toBeNull();
    expect(of('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}')).toBeNull();
    expect(of('{"type":"message_delta","delta":{"text":"a"}}')).toBeNull();
    expect(of('{"type":"content_block_delta","delta":{"te\\u0078t":"a","text":"b"}}')).toBeNull();
    expect(of('{"type":"content_block_delta","delta":{"text":"a"},"delta":{"text":"b"}}')).toBeNull();
  });

  it('reads the text of an event of its shape and refuses anything else', () => {
    const t = of('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}')!;
    const d = (index: string, text: string) =>
      `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${text}}}`;
    expect(t.textOf(d('12', '"b\\n\\"c"'))).toBe('b\n"c');
    expect(t.textOf(d('-1.5e3', '"é"'))).toBe('é');
    expect(t.textOf(d('1', '""'))).toBeNull();
    expect(t.textOf(d('01', '"b"'))).toBeNull();
    expect(t.textOf(d('"1"', '"b"'))).toBeNull();
    expect(t.textOf(d('1', '"b\\x"'))).toBeNull();
    expect(t.textOf(d('1', '"b\u0000"'))).toBeNull();
    expect(t.textOf(d('1', '"b"') + ' x')).toBeNull();
    expect(t.textOf(d('1', '"b"').replace('text_delta', 'input_json_delta'))).toBeNull();
  });
});
