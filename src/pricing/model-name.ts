/**
 * Turns the model string a client or provider reported into the names a price row may be filed
 * under, most specific first. The catalog tries them in order, so an exact snapshot row
 * (`gpt-4o-2024-05-13`) wins over its family row (`gpt-4o`).
 */

/** `-2025-04-14` (OpenAI snapshots) or `-20250929` (Anthropic snapshots) at the end of a name. */
const DATED_SNAPSHOT = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;
/** Bedrock ids carry a vendor prefix and a version suffix: `anthropic.claude-…-v1:0`. */
const BEDROCK_VENDOR = /^(?:[a-z]{2}\.)?(?:anthropic|meta|amazon|cohere|mistral|deepseek)\./;
const BEDROCK_VERSION = /-v\d+(?::\d+)?$/;

/** Candidate catalog names for a reported model string; empty for a blank string. */
export function modelNameCandidates(reported: string): string[] {
  const full = reported.trim().toLowerCase();
  if (full === '') return [];
  let name = full;
  // Routers and SDKs prefix the provider (`openai/gpt-4.1`), Gemini answers `models/gemini-…`.
  const slash = name.lastIndexOf('/');
  if (slash >= 0) name = name.slice(slash + 1);
  // Vertex AI names Anthropic snapshots `claude-sonnet-4-5@20250929`.
  name = name.replace('@', '-');
  // The full string first: a catalog may file a name with a slash (`acme/llm-v1`) as an alias.
  const out: string[] = [full];
  const push = (n: string): void => {
    if (n !== '' && !out.includes(n)) out.push(n);
  };
  push(name);
  if (BEDROCK_VENDOR.test(name)) push(name.replace(BEDROCK_VENDOR, '').replace(BEDROCK_VERSION, ''));
  for (const n of [...out]) {
    push(n.replace(DATED_SNAPSHOT, ''));
    push(n.replace(/-latest$/, ''));
  }
  return out;
}
