import { v7 as uuidv7 } from 'uuid';

/** Event ids are UUIDv7 (RFC 9562): time-ordered, so stores index them well. */
export function newEventId(msecs?: number): string {
  return msecs === undefined ? uuidv7() : uuidv7({ msecs });
}
