import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('memory', async () => ({ store: new MemoryEventStore() }));
