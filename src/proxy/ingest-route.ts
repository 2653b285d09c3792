import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEvent } from '../core/audit-event.js';
import { ERROR_CATALOG, TollgateError, type ErrorCode } from '../core/errors.js';
import { verifyAdminToken } from '../access/admin-token.js';
import { extractApiKey } from '../access/authenticate.js';
import type { MountedRoute } from '../http/mounted-route.js';
import { readBody } from '../http/request-body.js';
import type { EventStore } from '../store/event-store.js';
import { firstBrokenLink, ingestProblem } from './ingest-validation.js';

export interface IngestRouteOptions {
  store: EventStore;
  /** The bearer token senders present (the gateway's admin token). */
  token: string;
  /** Where the route is mounted; default `/ingest`. */
  prefix?: string;
  /** Largest accepted body, bytes; default 8 MiB. */
  maxBodyBytes?: number;
  /** Most events per POST; default 5,000. */
  maxEvents?: number;
  /** Told about every stored batch (detectors, checkpoints, live views). Never throws into the route. */
  onIngested?: (events: readonly AuditEvent[]) => void;
}

/**
 * The server side of the SDK's HTTP sink: `POST <prefix>` with `Authorization: Bearer <token>` and
 * a JSON array of SDK events. Every event is checked (schema v1, an `sdk-…` chain, chain fields
 * present, the hash recomputed, links within the batch) before the batch is appended whole;
 * anything wrong refuses the whole batch with the index and field, never the content. Appends are
 * idempotent on event id, so a sender's retry after a lost answer stores nothing twice.
 */
export function createIngestRoute(o: IngestRouteOptions): MountedRoute {
  const prefix = o.prefix ?? '/ingest';
  const maxBody = o.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxEvents = o.maxEvents ?? 5_000;
  return {
    prefix,
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const path = (req.url ?? '').split('?')[0];
      if (path !== prefix) return send(res, 'TG_ERR_ROUTE_NOT_FOUND');
      if (!verifyAdminToken(o.token, extractApiKey(req.headers).key))
        return send(res, 'TG_ERR_ADMIN_UNAUTHORIZED');
      if (req.method !== 'POST') return send(res, 'TG_ERR_ROUTE_NOT_FOUND');
      let parsed: unknown;
      try {
        const raw = await readBody(req, maxBody);
        parsed = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        if (err instanceof TollgateError) return send(res, err.code);
        return send(res, 'TG_ERR_REQUEST_INVALID_JSON');
      }
      if (!Array.isArray(parsed)) return send(res, 'TG_ERR_REQUEST_INVALID_JSON', { reason: 'not_an_array' });
      if (parsed.length > maxEvents)
        return send(res, 'TG_ERR_REQUEST_BODY_TOO_LARGE', { max_events: maxEvents });
      for (let i = 0; i < parsed.length; i++) {
        const field = ingestProblem(parsed[i]);
        if (field !== null) return send(res, 'TG_ERR_INGEST_INVALID_EVENT', { index: i, field });
      }
      const events = parsed as AuditEvent[];
      const broken = firstBrokenLink(events);
      if (broken >= 0) return send(res, 'TG_ERR_INGEST_INVALID_EVENT', { index: broken, field: 'prev_hash' });
      try {
        await o.store.append(events);
      } catch {
        return send(res, 'TG_ERR_STORE_WRITE');
      }
      try {
        o.onIngested?.(events);
      } catch {
        // a listener never fails an ingest that is already stored
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: events.length }));
    },
  };
}

function send(res: ServerResponse, code: ErrorCode, detail: Record<string, string | number> = {}): void {
  res.writeHead(ERROR_CATALOG[code].http, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      error: { message: ERROR_CATALOG[code].message, type: 'tollgate_error', code, ...detail },
    }),
  );
}
