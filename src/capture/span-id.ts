/**
 * The event's span id: the random tail of its UUIDv7 id (RFC 9562 §5.7 `rand_b`), 16 hex characters
 * as W3C Trace Context wants — unique, and no extra RNG call. Shared by the gateway and the SDK.
 */
export function spanIdOf(eventId: string): string {
  return eventId.slice(19, 23) + eventId.slice(24, 36);
}
