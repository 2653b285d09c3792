import Database from 'better-sqlite3';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { SqliteCheckpointStore } from '../../src/store/sqlite/sqlite-checkpoints.js';
import { checkpointStoreContract } from './checkpoint-store.contract.js';

checkpointStoreContract('memory', () => new MemoryCheckpointStore());
checkpointStoreContract('sqlite', () => new SqliteCheckpointStore(new Database(':memory:')));
