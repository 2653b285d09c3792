/**
 * The stored prompt as a conversation. Capture flattens a request's messages into one text, one
 * `role: content` line per message and `tool_call name: arguments` per tool call
 * (capture/prompt-text.ts); this reads that text back into messages. A message whose content
 * itself has a line starting with a role name would split there: the text is what was stored,
 * the split is only how it is shown.
 */
import { html, type SafeHtml } from './html-template.js';

export interface ConversationMessage {
  role: string;
  /** `tool_call` lines keep their function name here. */
  name: string | null;
  text: string;
}

const ROLE_LINE =
  /^(system|developer|user|assistant|tool|function|instructions|input|tool_output|unknown|tool_call(?: ([^:\n]{0,100}))?): ?/;

/** The messages of a stored prompt (one `text` message when it has no role lines). */
export function parseConversation(prompt: string): ConversationMessage[] {
  const out: ConversationMessage[] = [];
  for (const line of prompt.split('\n')) {
    const m = ROLE_LINE.exec(line);
    if (m) {
      const toolCall = m[1]!.startsWith('tool_call');
      out.push({
        role: toolCall ? 'tool_call' : m[1]!,
        name: toolCall ? (m[2]?.trim() ?? null) || null : null,
        text: line.slice(m[0].length),
      });
    } else if (out.length > 0) out[out.length - 1]!.text += `\n${line}`;
    else out.push({ role: 'text', name: null, text: line });
  }
  return out;
}

const MARKER = /\[REDACTED:[a-z0-9_.-]{1,40}\]/g;

/** Text with every `[REDACTED:type]` marker highlighted (the rest escaped). */
export function markRedactions(text: string): SafeHtml {
  const parts: SafeHtml[] = [];
  let at = 0;
  for (const m of text.matchAll(MARKER)) {
    parts.push(html`${text.slice(at, m.index)}`);
    parts.push(html`<mark class="redacted" title="Redacted before storage">${m[0]}</mark>`);
    at = m.index + m[0].length;
  }
  parts.push(html`${text.slice(at)}`);
  return html`${parts}`;
}

/** A one-line preview of a prompt: its last user message (or its start), at most `max` characters. */
export function promptPreview(prompt: string | null, max = 90): string {
  if (!prompt) return '';
  const messages = parseConversation(prompt);
  const user = [...messages].reverse().find((m) => m.role === 'user' || m.role === 'input');
  const text = (user ?? messages[0])?.text.replace(/\s+/g, ' ').trim() ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The conversation of an event: prompt messages, then the response, as a list of messages. */
export function conversationView(e: {
  content_mode: string;
  prompt: string | null;
  response: string | null;
}): SafeHtml {
  if (e.content_mode === 'none')
    return html`<p class="muted">Content is not stored (content mode <code>none</code>).</p>`;
  if (e.content_mode === 'encrypted')
    return html`<p class="muted">
      Content is stored encrypted (content mode <code>encrypted</code>); it is not shown here.
    </p>`;
  const messages = e.prompt ? parseConversation(e.prompt) : [];
  if (e.response !== null) messages.push({ role: 'response', name: null, text: e.response });
  if (messages.length === 0) return html`<p class="muted">No content was captured for this event.</p>`;
  return html`<ol class="conversation" aria-label="Conversation">
    ${messages.map(
      (m) =>
        html`<li class="msg msg-${m.role}" data-role="${m.role}">
          <div class="role">${m.role === 'tool_call' ? html`tool call <code>${m.name ?? ''}</code>` : m.role}</div>
          <div class="text">${markRedactions(m.text)}</div>
        </li>`,
    )}
  </ol>`;
}
