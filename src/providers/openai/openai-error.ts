import type { ResponseReading } from '../provider-api.js';
import { objectOr, stringOr } from '../json-value.js';

/**
 * OpenAI's error shape, `{"error": {"message", "type", "code"}}`, which OpenAI-compatible relays,
 * Ollama's OpenAI surface and Azure share. The code falls back to the type.
 */
export function openAIError(body: Record<string, unknown>): ResponseReading['error'] {
  const err = objectOr(body.error);
  if (err) return { code: stringOr(err.code) ?? stringOr(err.type), message: stringOr(err.message) };
  // Some relays answer `{"error": "text"}`.
  if (typeof body.error === 'string') return { code: null, message: body.error };
  return null;
}
