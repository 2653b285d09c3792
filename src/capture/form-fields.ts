/**
 * The text fields of a `multipart/form-data` request (an audio transcription, an image edit):
 * `model`, `prompt`, `language`, `stream`, … become the request body the event reads. Uploaded
 * files are skipped: an audio file or an image is forwarded, never kept or stored.
 */

/** Longest text field kept (a prompt); longer ones are cut. */
const MAX_FIELD_CHARS = 64 * 1024;

/** True for a `multipart/form-data` content type. */
export function isMultipart(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*multipart\/form-data\b/i.test(contentType);
}

/**
 * Reads the text fields of a multipart body with the platform's parser (undici's `FormData`
 * parsing, RFC 7578); null when the body does not parse. A field sent twice keeps its first value.
 */
export async function formFields(body: Buffer, contentType: string): Promise<Record<string, unknown> | null> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return null;
  }
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string' || name in fields) continue;
    fields[name] = name === 'stream' ? value === 'true' : value.slice(0, MAX_FIELD_CHARS);
  }
  return fields;
}
