import { describe, expect, it } from 'vitest';
import { conversationView, markRedactions, parseConversation, promptPreview } from './conversation.js';

describe('conversation from the stored prompt', () => {
  it('reads role lines, multi-line content and tool calls back into messages', () => {
    const prompt = [
      'system: be brief',
      'user: line one',
      'line two',
      'assistant: ',
      'tool_call get_weather: {"city":"Paris"}',
      'tool: 18C',
      'user: thanks [REDACTED:email]',
    ].join('\n');
    expect(parseConversation(prompt)).toEqual([
      { role: 'system', name: null, text: 'be brief' },
      { role: 'user', name: null, text: 'line one\nline two' },
      { role: 'assistant', name: null, text: '' },
      { role: 'tool_call', name: 'get_weather', text: '{"city":"Paris"}' },
      { role: 'tool', name: null, text: '18C' },
      { role: 'user', name: null, text: 'thanks [REDACTED:email]' },
    ]);
    expect(promptPreview(prompt)).toBe('thanks [REDACTED:email]');
  });

  it('highlights redaction markers and escapes everything else', () => {
    expect(markRedactions('<b>key</b> [REDACTED:aws_access_key]!').value).toBe(
      '&lt;b&gt;key&lt;/b&gt; <mark class="redacted" title="Redacted before storage">[REDACTED:aws_access_key]</mark>!',
    );
    const view = conversationView({ content_mode: 'redacted', prompt: 'user: hi', response: 'hello' }).value;
    expect(view).toContain('data-role="user"');
    expect(view).toContain('data-role="response"');
    expect(conversationView({ content_mode: 'encrypted', prompt: 'x', response: null }).value).not.toContain(
      'x<',
    );
  });
});
