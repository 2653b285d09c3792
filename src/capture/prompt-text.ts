/**
 * Flattens a request body's content into one text for the event's `prompt` field:
 * chat messages as `role: content` lines, tool-call arguments included, images left as a marker.
 * Reads OpenAI (chat `messages`, Responses `instructions` and `input`, `prompt`), Anthropic
 * (`system`, `messages` with `tool_use` / `tool_result` blocks) and Gemini (`systemInstruction`,
 * `contents` of `parts`) request bodies; their fields do not overlap.
 */
export function promptText(body: Record<string, unknown> | null): string | null {
  if (!body) return null;
  const parts: string[] = [];
  if (body.system !== undefined) parts.push(`system: ${contentText(body.system)}`);
  if (body.systemInstruction !== undefined)
    parts.push(`system: ${geminiContentText(body.systemInstruction)}`);
  if (Array.isArray(body.messages)) {
    for (const m of body.messages as Array<Record<string, unknown>>) {
      if (!m || typeof m !== 'object') continue;
      const role = typeof m.role === 'string' ? m.role : 'unknown';
      parts.push(`${role}: ${contentText(m.content)}`);
      if (Array.isArray(m.tool_calls)) {
        for (const call of m.tool_calls as Array<{ function?: { name?: unknown; arguments?: unknown } }>) {
          const fn = call?.function;
          if (fn)
            parts.push(
              `tool_call ${typeof fn.name === 'string' ? fn.name : ''}: ${typeof fn.arguments === 'string' ? fn.arguments : ''}`,
            );
        }
      }
    }
  }
  if (typeof body.instructions === 'string') parts.push(`instructions: ${body.instructions}`);
  if (body.prompt !== undefined) parts.push(contentText(body.prompt));
  if (body.input !== undefined) parts.push(inputText(body.input));
  if (typeof body.contents === 'string') parts.push(`user: ${body.contents}`);
  else if (Array.isArray(body.contents))
    for (const c of body.contents as unknown[]) {
      const role = c && typeof c === 'object' && typeof (c as { role?: unknown }).role === 'string';
      parts.push(`${role ? (c as { role: string }).role : 'user'}: ${geminiContentText(c)}`);
    }
  return parts.length ? parts.join('\n') : null;
}

/**
 * A Gemini `Content` (`{role, parts: [{text} | {functionCall} | {functionResponse} | {inlineData}]}`)
 * or a bare string, as text; media left as a marker.
 */
function geminiContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === null || typeof content !== 'object') return '';
  const parts = (content as { parts?: unknown }).parts;
  if (!Array.isArray(parts)) return '';
  return parts
    .map((p: unknown) => {
      if (p === null || typeof p !== 'object') return '';
      const part = p as Record<string, unknown>;
      if (typeof part.text === 'string') return part.text;
      if (part.functionCall !== undefined) return `tool_call: ${jsonText(part.functionCall)}`;
      if (part.functionResponse !== undefined) return `tool_output: ${jsonText(part.functionResponse)}`;
      if (part.inlineData !== undefined || part.fileData !== undefined) return '[file]';
      return '';
    })
    .join('');
}

function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (Array.isArray(input)) {
    return input
      .map((item: unknown) => {
        if (typeof item === 'string') return item;
        if (item && typeof item === 'object') {
          const o = item as Record<string, unknown>;
          if ('content' in o)
            return `${typeof o.role === 'string' ? o.role : 'input'}: ${contentText(o.content)}`;
          if (typeof o.arguments === 'string') return `tool_call: ${o.arguments}`;
          if (typeof o.output === 'string') return `tool_output: ${o.output}`;
        }
        return Array.isArray(item) ? `[${item.length} tokens]` : jsonText(item);
      })
      .join('\n');
  }
  return jsonText(input);
}

/** JSON text of a client value; too deep to serialise (RangeError) must not lose the event. */
function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '[unserialisable]';
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => {
        if (typeof p === 'string') return p;
        // Clients send anything: a null or a number in a content array must not lose the event.
        if (p === null || typeof p !== 'object') return '';
        const part = p as Record<string, unknown>;
        if (typeof part.text === 'string') return part.text;
        // Anthropic content blocks: a tool call's input, a tool result's content.
        if (part.type === 'tool_use') return `tool_call: ${jsonText(part.input)}`;
        if (part.type === 'tool_result') return `tool_output: ${contentText(part.content)}`;
        if (part.type === 'image_url' || part.type === 'input_image' || part.type === 'image')
          return '[image]';
        if (part.type === 'input_audio') return '[audio]';
        return '';
      })
      .join('');
  }
  return jsonText(content);
}
