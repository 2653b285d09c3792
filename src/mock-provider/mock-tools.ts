/**
 * Tool calls and thinking in the mock: when a dialect answers with a call of a tool instead of
 * text, and when it thinks aloud first. As the real providers do, from the request — a tool the
 * request forces (OpenAI `tool_choice: "required"` or a named function, Anthropic
 * `tool_choice: {type: "tool" | "any"}`, Gemini `toolConfig.functionCallingConfig.mode: "ANY"`),
 * thinking the request turns on (Anthropic
 * `thinking: {type: "enabled"}`, Gemini `thinkingConfig.includeThoughts`) — or from the script.
 */
import type { MockScript } from './mock-context.js';
import { countWords } from './mock-text.js';

/** A call of one tool, with its arguments. */
export interface MockToolCall {
  name: string;
  input: Record<string, unknown>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj).filter((x) => x !== undefined) : []);

/** Arguments that fit a JSON schema's `properties`: a word for strings, 1 for numbers (deterministic). */
export function argumentsFor(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(obj(obj(schema)?.properties) ?? {})) {
    const t = obj(prop)?.type;
    const type = typeof t === 'string' ? t.toLowerCase() : 'string';
    out[name] =
      type === 'number' || type === 'integer'
        ? 1
        : type === 'boolean'
          ? true
          : type === 'string'
            ? 'Paris'
            : null;
  }
  return out;
}

/** Anthropic: the tool the request forces (`tool_choice` `tool` names it; `any` takes the first tool). */
export function anthropicToolCall(json: Json, script: MockScript): MockToolCall | null {
  if (script.toolCall) return script.toolCall;
  const choice = obj(json.tool_choice);
  const tools = list(json.tools);
  const tool =
    choice?.type === 'tool'
      ? tools.find((t) => t.name === choice.name)
      : choice?.type === 'any'
        ? tools[0]
        : undefined;
  return tool && typeof tool.name === 'string'
    ? { name: tool.name, input: argumentsFor(tool.input_schema) }
    : null;
}

/**
 * OpenAI Chat Completions and Responses: the function `tool_choice` forces — `"required"` takes the
 * first function tool; `{type: "function", function: {name}}` (chat) or `{type: "function", name}`
 * (Responses) names one. Tools are `{type: "function", function: {name, parameters}}` in chat and
 * `{type: "function", name, parameters}` in Responses
 * (https://platform.openai.com/docs/guides/function-calling, 2025).
 */
export function openAIToolCall(json: Json, script: MockScript): MockToolCall | null {
  if (script.toolCall) return script.toolCall;
  const functions = list(json.tools)
    .filter((t) => t.type === 'function')
    .map((t) => obj(t.function) ?? t);
  const choice = json.tool_choice;
  const named = obj(choice)?.type === 'function' ? (obj(obj(choice)?.function) ?? obj(choice)) : undefined;
  const fn =
    choice === 'required' ? functions[0] : named ? functions.find((f) => f.name === named.name) : undefined;
  return fn && typeof fn.name === 'string' ? { name: fn.name, input: argumentsFor(fn.parameters) } : null;
}

/** Gemini: the function mode `ANY` forces (the first allowed name, else the first declared). */
export function geminiFunctionCall(json: Json, script: MockScript): MockToolCall | null {
  if (script.toolCall) return script.toolCall;
  const config = obj(obj(json.toolConfig ?? json.tool_config)?.functionCallingConfig);
  if (typeof config?.mode !== 'string' || config.mode.toUpperCase() !== 'ANY') return null;
  const declared = list(json.tools).flatMap((t) => list(t.functionDeclarations ?? t.function_declarations));
  const allowed = Array.isArray(config?.allowedFunctionNames) ? config.allowedFunctionNames : [];
  const fn = declared.find((d) => allowed.length === 0 || allowed.includes(d.name)) ?? null;
  return fn && typeof fn.name === 'string'
    ? { name: fn.name, input: argumentsFor(fn.parameters ?? fn.parametersJsonSchema) }
    : null;
}

/** The thinking text of an Anthropic answer (`thinking: {type: "enabled"}`), else null. */
export function anthropicThinking(json: Json, script: MockScript): string | null {
  if (script.thinking !== undefined) return script.thinking;
  return obj(json.thinking)?.type === 'enabled' ? THINKING : null;
}

/** The thought text of a Gemini answer (`generationConfig.thinkingConfig.includeThoughts`), else null. */
export function geminiThoughts(json: Json, script: MockScript): string | null {
  if (script.thinking !== undefined) return script.thinking;
  const config = obj(json.generationConfig ?? json.generation_config);
  const thinking = obj(config?.thinkingConfig ?? config?.thinking_config);
  return thinking?.includeThoughts === true || thinking?.include_thoughts === true ? THINKING : null;
}

const THINKING = 'Let me think about this step by step before I answer.';

/** The mock's token count of a tool call: the words of its JSON arguments (at least one). */
export function toolCallTokens(call: MockToolCall): number {
  return Math.max(1, countWords(JSON.stringify(call.input).replace(/[{}":,]/g, ' ')));
}

/** `text` in at most `n` pieces of characters (JSON arguments are streamed in such fragments). */
export function fragments(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
