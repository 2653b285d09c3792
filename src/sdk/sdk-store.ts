import type { EventStore } from '../store/event-store.js';
import { MemoryEventStore } from '../store/memory/memory-event-store.js';
import { HttpEventSink } from './http-event-sink.js';
import { JsonlEventStore } from './jsonl-event-store.js';

/** Where the SDK keeps its events, when not given an EventStore instance. */
export type SdkStoreChoice =
  | { kind: 'sqlite'; path: string }
  | { kind: 'jsonl'; path: string }
  | { kind: 'http'; url: string; token: string; timeoutMs?: number }
  | { kind: 'memory' };

/**
 * Opens the chosen store. SQLite is imported on demand so that the SDK entry point never loads
 * the `better-sqlite3` native module unless that store is chosen (test/sdk/sdk-lazy-sqlite.test.ts).
 */
export async function openSdkStore(choice: SdkStoreChoice): Promise<EventStore> {
  switch (choice.kind) {
    case 'sqlite': {
      const [{ openSqlite }, { SqliteEventStore }] = await Promise.all([
        import('../store/sqlite/open-sqlite.js'),
        import('../store/sqlite/sqlite-event-store.js'),
      ]);
      return new SqliteEventStore(openSqlite(choice.path));
    }
    case 'jsonl':
      return new JsonlEventStore(choice.path);
    case 'http':
      return new HttpEventSink({
        url: choice.url,
        token: choice.token,
        ...(choice.timeoutMs ? { timeoutMs: choice.timeoutMs } : {}),
      });
    case 'memory':
      return new MemoryEventStore();
  }
}
