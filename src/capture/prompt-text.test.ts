import { describe, expect, it } from 'vitest';
import { promptText } from './prompt-text.js';

describe('promptText', () => {
  it('reads an Anthropic body: system, text blocks, tool use and tool results', () => {
    expect(
      promptText({
        model: 'claude-sonnet-4-5',
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 't1', name: 'weather', input: { city: 'Paris' } }],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '21 C' }] },
        ],
      }),
    ).toBe(
      'system: Be brief.\nuser: Weather in Paris?\nassistant: tool_call: {"city":"Paris"}\nuser: tool_output: 21 C',
    );
  });

  it('reads a Gemini body: systemInstruction and contents of parts, media as a marker', () => {
    expect(
      promptText({
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'What is ' },
              { text: 'this?' },
              { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
            ],
          },
          { role: 'model', parts: [{ functionCall: { name: 'look', args: { x: 1 } } }] },
        ],
      }),
    ).toBe('system: Be brief.\nuser: What is this?[file]\nmodel: tool_call: {"name":"look","args":{"x":1}}');
    expect(promptText({ contents: 'hello' })).toBe('user: hello');
  });

  it('keeps the OpenAI shapes', () => {
    expect(promptText({ messages: [{ role: 'user', content: 'hi' }] })).toBe('user: hi');
    expect(promptText({ instructions: 'Be brief.', input: 'hi' })).toBe('instructions: Be brief.\nhi');
    expect(promptText({})).toBeNull();
  });
});
