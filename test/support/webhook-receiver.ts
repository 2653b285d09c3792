import { createServer, type Server } from 'node:http';
import type { Alert, AlertChange } from '../../src/alerting/alert.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/alerting/webhook-signature.js';

export interface ReceivedAlert {
  change: AlertChange;
  alert: Alert;
  /** The delivery carried a valid signature for `secret` (false when no secret was given). */
  signed: boolean;
}

/**
 * A local webhook receiver that collects the alerts Tollgate delivers; given the secret, it checks
 * each delivery's signature as a real receiver would.
 */
export async function webhookReceiver(
  secret?: string,
): Promise<{ url: string; got: ReceivedAlert[]; close: () => Promise<void> }> {
  const got: ReceivedAlert[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const m = JSON.parse(body) as { change: AlertChange; alert: Alert };
      const header = req.headers[SIGNATURE_HEADER];
      const signed =
        secret !== undefined &&
        typeof header === 'string' &&
        verifyWebhookSignature(secret, header, body, Date.now(), 300);
      got.push({ change: m.change, alert: m.alert, signed });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return { url, got, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
