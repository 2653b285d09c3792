import { describe, expect, it } from 'vitest';
import {
  ANTHROPIC_STREAM,
  cutBeforeLastEvent,
  GEMINI_STREAM,
  RESPONSES_STREAM,
} from '../../test/fixtures/streams/provider-stream-ends.js';
import { SseAssembler, streamBrokeOff, streamErrorEvent, type AssembledStream } from './sse-assembler.js';
import { relayStreamChunk, requestStreamUsage } from './stream-relay.js';
import { openAICompatibleUsage } from '../providers/openai/openai-usage.js';

interface RefChunk {
  model?: unknown;
  usage?: unknown;
  choices?: Array<{
    delta?: { content?: unknown; tool_calls?: Array<{ function?: { arguments?: unknown } }> };
    finish_reason?: unknown;
  }>;
}

/**
 * The reference reading of a stream, written for clarity: decode everything, split events, parse
 * every data payload in full. The assembler (which skips most of that work) must agree with it.
 */
function reference(
  bytes: Buffer,
  stripUsage: boolean,
): { result: Omit<AssembledStream, 'errorMessage' | 'errorCode'>; forwarded: string } {
  const text = new TextDecoder('utf-8').decode(bytes);
  const events = text.split(/(?<=\r\n\r\n|\n\n)/);
  const r = {
    text: '',
    toolArguments: '',
    finishReason: null as string | null,
    usage: null as unknown,
    model: null as string | null,
    chunks: 0,
    protocol: null as string | null,
    ended: false,
    firstContentAt: null as number | null,
  };
  let forwarded = '';
  for (const raw of events) {
    const data = raw
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
      .join('\n');
    let usageOnly = false;
    if (data === '[DONE]') r.ended = true;
    else if (data) {
      try {
        const c = JSON.parse(data) as RefChunk;
        r.chunks++;
        if (typeof c.model === 'string') r.model = c.model;
        // A usage block without counts does not replace an earlier reading.
        r.usage = openAICompatibleUsage(c.usage) ?? r.usage;
        if (Array.isArray(c.choices)) r.protocol ??= 'openai.chat';
        usageOnly = Array.isArray(c.choices) && c.choices.length === 0 && !!c.usage;
        for (const ch of c.choices ?? []) {
          if (typeof ch.delta?.content === 'string') r.text += ch.delta.content;
          for (const t of ch.delta?.tool_calls ?? [])
            if (typeof t.function?.arguments === 'string') r.toolArguments += t.function.arguments;
          const content = `${typeof ch.delta?.content === 'string' ? ch.delta.content : ''}${(ch.delta?.tool_calls ?? []).map((t) => (typeof t.function?.arguments === 'string' ? t.function.arguments : '')).join('')}`;
          if (content !== '') r.firstContentAt ??= r.chunks;
          if (typeof ch.finish_reason === 'string') r.finishReason = ch.finish_reason;
        }
      } catch {
        // malformed: forwarded, not read
      }
    }
    if (!(stripUsage && usageOnly)) forwarded += raw;
  }
  return { result: r as never, forwarded };
}

/** Feeds `bytes` cut at `cuts` through the relay, as the gateway does. */
function relay(
  bytes: Buffer,
  cuts: number[],
  stripUsage: boolean,
): { result: AssembledStream; forwarded: string } {
  const a = new SseAssembler();
  const decoder = new TextDecoder('utf-8');
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    const o = relayStreamChunk(a, decoder, bytes.subarray(at, cut), stripUsage);
    if (o !== null) out.push(typeof o === 'string' ? Buffer.from(o) : o);
    at = cut;
  }
  a.push(decoder.decode());
  return { result: a.finish(), forwarded: Buffer.concat(out).toString('utf8') };
}

const envelope = (content: string, extra = ''): string =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini"${extra},"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;
const contents = [
  'Hello',
  ' wörld',
  ' "quoted"',
  ' back\\slash\\',
  ' tab\there',
  ' line\nbreak',
  ' \u2028sep',
  ' emoji 🎉',
  ' \u00e9\u0301',
  ' "',
  '\\',
  ' end',
];

const streams: Record<string, string> = {
  plain: [
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
    ...contents.map((c) => envelope(c)),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}\n\n',
    'data: [DONE]\n\n',
  ].join(''),
  // Escaped unicode in the provider's own encoding, and a content that forges the envelope's end.
  escapes: [
    envelope('a'),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"\\u00e9\\ud83c\\udf89"},"finish_reason":null}]}\n\n',
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n',
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"y"},"finish_reason":null}]}\n\n',
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"raw\u0001control"},"finish_reason":null}]}\n\n',
    // Fits the envelope's prefix and suffix, but the middle is not one string: it must be parsed.
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"total_tokens":9},"q":[{"r":{"s":""},"finish_reason":null}]}\n\n',
    'data: [DONE]\n\n',
  ].join(''),
  // The envelope changes (model, extra field) mid-stream; tool calls; legacy text.
  changing: [
    envelope('one'),
    envelope('two'),
    envelope('three', ',"system_fingerprint":"fp_1"'),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"four"},"finish_reason":null}]}\n\n',
    envelope('five'),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":1}"}}]},"finish_reason":null}]}\n\n',
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"six"},"finish_reason":null},{"index":1,"delta":{"content":"seven"},"finish_reason":null}]}\n\n',
    ': a comment\n\n',
    'event: message\ndata: {"choices":[{"delta":{"content":"multi"},\ndata: "finish_reason":"length"}]}\n\n',
    'data: not json\n\n',
    'data: [DONE]\n\n',
  ].join(''),
  // Another "content" beside the delta's, plainly or with an escaped key: no template may read the decoy.
  decoys: [
    'data: {"x":{"content":"decoy1"},"choices":[{"index":0,"delta":{"content":"same"},"finish_reason":null}]}\n\n',
    'data: {"x":{"content":"decoy2"},"choices":[{"index":0,"delta":{"content":"same"},"finish_reason":null}]}\n\n',
    'data: {"choices":[{"index":0,"delta":{"\\u0063ontent":"same"},"finish_reason":null}],"x":{"content":"decoy3"}}\n\n',
    'data: {"choices":[{"index":0,"delta":{"\\u0063ontent":"same"},"finish_reason":null}],"x":{"content":"decoy4"}}\n\n',
    'data: {"choices":[{"index":0,"delta":{"\\u0063ontent":"same"},"finish_reason":null}],"x":{"content":"decoy5"}}\n\n',
  ].join(''),
  // All ASCII: the usage chunk is cut out of the received bytes.
  ascii: [
    envelope('a'),
    envelope('b'),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}\n\n',
    envelope('c'),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13}}\n\n',
  ].join(''),
  crlf:
    [envelope('a'), envelope('b'), envelope('c')].map((e) => e.replace(/\n/g, '\r\n')).join('') +
    'data: [DONE]\r\n\r\n',
  mixedEndings:
    envelope('a') +
    'data: {"choices":[{"delta":{"content":"b"}}]}\r\n\n' +
    envelope('c') +
    'data: [DONE]\n\n',
};

function check(name: string, bytes: Buffer, cuts: number[]): void {
  for (const strip of [false, true]) {
    const want = reference(bytes, strip);
    const got = relay(bytes, cuts, strip);
    expect(
      { ...got.result, errorMessage: undefined, errorCode: undefined },
      `${name} cut at ${cuts.join(',')}`,
    ).toEqual({
      ...want.result,
      errorMessage: undefined,
      errorCode: undefined,
    });
    expect(got.forwarded, `${name} forwarded, cut at ${cuts.join(',')}`).toBe(want.forwarded);
  }
}

describe('SseAssembler', () => {
  it('reads every stream like a full parse of each event, in one chunk', () => {
    for (const [name, s] of Object.entries(streams)) check(name, Buffer.from(s), []);
  });

  it('reads every stream alike when it is cut at any byte (mid-event, mid-character)', () => {
    for (const [name, s] of Object.entries(streams)) {
      const bytes = Buffer.from(s);
      for (let cut = 1; cut < bytes.length; cut += name === 'plain' || name === 'ascii' ? 1 : 3)
        check(name, bytes, [cut]);
    }
  });

  it('reads streams cut into many small pieces', () => {
    for (const [name, s] of Object.entries(streams)) {
      const bytes = Buffer.from(s);
      for (const step of [1, 2, 5, 7, 64]) {
        const cuts: number[] = [];
        for (let c = step; c < bytes.length; c += step) cuts.push(c);
        check(name, bytes, cuts);
      }
    }
  });

  it('drops a byte order mark at the start of the stream only', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const s = Buffer.concat([bom, Buffer.from(envelope('a') + envelope('b'))]);
    expect(relay(s, [], false).result.text).toBe('ab');
    // A U+FEFF that starts a later chunk is content, whichever way the chunk is decoded.
    const later = Buffer.from(envelope('a') + envelope('\ufeffb') + envelope('é'));
    const at = later.indexOf(Buffer.from('\ufeffb'));
    expect(relay(later, [at - 2, at], false).result.text).toBe('a\ufeffbé');
    check('feff', later, [at - 2, at]);
  });

  it('hides only the usage-only chunk when asked', () => {
    const { forwarded, result } = relay(Buffer.from(streams.plain!), [], true);
    expect(forwarded).not.toContain('"usage"');
    expect(result.usage).toMatchObject({ input_tokens: 5, output_tokens: 7, total_tokens: 12 });
    expect(relay(Buffer.from(streams.plain!), [], false).forwarded).toBe(streams.plain);
  });
});

describe('requestStreamUsage', () => {
  const ask = (body: string) =>
    requestStreamUsage('/chat/completions', JSON.parse(body) as Record<string, unknown>, Buffer.from(body));

  it('adds include_usage to a stream that did not ask, keeping the rest of the body as sent', () => {
    const sent = ' \n{"model":"m","messages":[{"role":"user","content":"h\\u00e9"}],"stream":true}';
    const { body, stripUsage } = ask(sent);
    expect(stripUsage).toBe(true);
    expect(JSON.parse(body!.toString())).toEqual({
      ...JSON.parse(sent),
      stream_options: { include_usage: true },
    });
    expect(body!.toString()).toContain('"content":"h\\u00e9"');
  });

  it('merges into existing stream_options, and leaves bodies that asked or do not stream alone', () => {
    const merged = ask('{"stream":true,"stream_options":{"include_usage":false,"x":1}}');
    expect(JSON.parse(merged.body!.toString())).toEqual({
      stream: true,
      stream_options: { include_usage: true, x: 1 },
    });
    expect(merged.stripUsage).toBe(true);
    const asked = '{"stream":true,"stream_options":{"include_usage":true}}';
    expect(ask(asked)).toEqual({ body: Buffer.from(asked), stripUsage: false });
    expect(ask('{"stream":false}').stripUsage).toBe(false);
    expect(
      requestStreamUsage('/embeddings', { stream: true }, Buffer.from('{"stream":true}')).stripUsage,
    ).toBe(false);
  });
});

describe('SseAssembler: the healthy end of each dialect', () => {
  const read = (s: string) => relay(Buffer.from(s), [], false);

  it('ends Responses, Anthropic and Gemini streams without [DONE], and passes them on unchanged', () => {
    for (const [stream, protocol] of [
      [RESPONSES_STREAM, 'openai.responses'],
      [ANTHROPIC_STREAM, 'anthropic.messages'],
      [GEMINI_STREAM, 'gemini.generate'],
      [streams.plain!, 'openai.chat'],
    ] as const) {
      const bytes = Buffer.from(stream);
      for (let cut = 1; cut < bytes.length; cut += 17) {
        const { result, forwarded } = relay(bytes, [cut], false);
        expect(result.protocol, protocol).toBe(protocol);
        expect(result.ended, `${protocol} cut at ${cut}`).toBe(true);
        expect(streamBrokeOff(result)).toBe(false);
        expect(forwarded).toBe(stream);
      }
    }
    expect(read(RESPONSES_STREAM).result.finishReason).toBe('completed');
    expect(read(RESPONSES_STREAM).result.text).toBe('Hello there');
    expect(read(GEMINI_STREAM).result.finishReason).toBe('STOP');
  });

  it('tells a cut-off stream of a known dialect from a healthy one', () => {
    for (const stream of [RESPONSES_STREAM, ANTHROPIC_STREAM, GEMINI_STREAM, streams.plain!]) {
      const cut = read(cutBeforeLastEvent(stream)).result;
      expect(cut.ended).toBe(false);
      expect(streamBrokeOff(cut)).toBe(true);
    }
    // Nothing at all is broken; a dialect Tollgate does not read is not judged.
    expect(streamBrokeOff(read('').result)).toBe(true);
    expect(streamBrokeOff(read('data: {"token":"a"}\n\n').result)).toBe(false);
  });

  it('takes an error event as the end of an Anthropic or Responses stream', () => {
    const anthropicError =
      cutBeforeLastEvent(ANTHROPIC_STREAM) +
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const r = read(anthropicError).result;
    expect(r.ended).toBe(true);
    expect(r.errorMessage).toBe('Overloaded');
    const responsesError =
      cutBeforeLastEvent(RESPONSES_STREAM) +
      'event: error\ndata: {"type":"error","code":"server_error","message":"boom","param":null}\n\n';
    const q = read(responsesError).result;
    expect(q.ended).toBe(true);
    expect(q.errorMessage).toBe('boom');
    expect(q.errorCode).toBe('server_error');
  });

  it('writes the early-end notice in the stream’s own dialect', () => {
    const body = '{"error":{"code":"TG_ERR_UPSTREAM_STREAM_BROKEN"}}';
    const anthropic = streamErrorEvent('anthropic.messages', 'TG_ERR_UPSTREAM_STREAM_BROKEN', 'ended', body);
    expect(anthropic.startsWith('event: error\ndata: ')).toBe(true);
    expect(JSON.parse(anthropic.split('data: ')[1]!)).toMatchObject({
      type: 'error',
      error: { message: 'ended' },
    });
    const responses = streamErrorEvent('openai.responses', 'TG_ERR_UPSTREAM_STREAM_BROKEN', 'ended', body);
    expect(JSON.parse(responses.split('data: ')[1]!)).toMatchObject({
      type: 'error',
      code: 'TG_ERR_UPSTREAM_STREAM_BROKEN',
    });
    expect(streamErrorEvent('openai.chat', 'X', 'm', body)).toBe(`data: ${body}\n\n`);
  });
});
