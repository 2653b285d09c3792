import type { IncomingMessage, ServerResponse } from 'node:http';

/** Extra routes mounted beside `/v1` (admin API, dashboard, metrics, SDK ingest). */
export interface MountedRoute {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}
