import { alertStoreContract } from './alert-store.contract.js';
import { MemoryAlertStore } from './memory-alert-store.js';

alertStoreContract('memory', () => new MemoryAlertStore());
