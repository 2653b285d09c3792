import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { alertStoreContract, sampleAlert } from '../../alerting/alert-store.contract.js';
import { createSqliteAlertStore } from './sqlite-alerts.js';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

alertStoreContract('sqlite', () => {
  const db = new Database(':memory:');
  open.push(db);
  return createSqliteAlertStore(db);
});

describe('sqlite alert store', () => {
  it('keeps alerts across store instances on the same database', async () => {
    const db = new Database(':memory:');
    open.push(db);
    await createSqliteAlertStore(db).upsert(sampleAlert());
    expect((await createSqliteAlertStore(db).get(sampleAlert().id))?.rule_id).toBe('auth.repeated-failures');
  });
});
