import type { Alert, AlertChange } from './alert.js';
import type { AlertDispatcher } from './alert-dispatcher.js';
import type { AlertStore } from './alert-store.js';

/**
 * The `onAlert` of the detection engine, wired: store the alert (new or updated), then hand it
 * to the dispatcher. Storing first lets the dispatcher record delivery status against the row.
 */
export function createAlertHandler(deps: {
  store: AlertStore;
  dispatcher?: AlertDispatcher;
}): (alert: Alert, change: AlertChange) => Promise<void> {
  return async (alert, change) => {
    await deps.store.upsert(alert);
    deps.dispatcher?.dispatch(alert, change);
  };
}
