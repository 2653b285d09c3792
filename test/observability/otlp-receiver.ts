import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { exportTraceServiceRequest } from './otlp-trace-proto.js';

/**
 * Metrics: the OpenTelemetry protocol definitions (opentelemetry-proto) as compiled by protobufjs
 * and shipped in @opentelemetry/otlp-transformer. Traces: see otlp-trace-proto.ts.
 */
interface ProtoType {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, options: Record<string, unknown>): Record<string, unknown>;
}
interface OtlpRoot {
  opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: ProtoType } } } } };
}
const root = createRequire(import.meta.url)(
  '@opentelemetry/otlp-transformer/build/src/generated/root.js',
) as OtlpRoot;
const { ExportMetricsServiceRequest } = root.opentelemetry.proto.collector.metrics.v1;
const ExportTraceServiceRequest: ProtoType = exportTraceServiceRequest;

/** An OTLP AnyValue as decoded. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

export type AttrValue = string | number | boolean | AttrValue[];

/** A received span, attributes flattened to plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  status: { code: number; message?: string };
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
}

/** One histogram or sum data point with its metric name. */
export interface ReceivedPoint {
  metric: string;
  unit: string;
  attributes: Record<string, AttrValue>;
  count?: number;
  sum?: number;
  value?: number;
}

function plain(v: AnyValue): AttrValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  return '';
}

function attrs(list: KeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = plain(kv.value);
  return out;
}

const hex = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('hex');
const CONVERT = { longs: String, bytes: String, defaults: false, arrays: true };

/**
 * A minimal OTLP/HTTP receiver on loopback: accepts protobuf POSTs on `/v1/traces` and
 * `/v1/metrics` (OTLP spec, "OTLP/HTTP"), keeps the raw bytes (to search for leaks) and decodes them.
 */
export class OtlpReceiver {
  readonly raw: Buffer[] = [];
  readonly spans: ReceivedSpan[] = [];
  readonly points: ReceivedPoint[] = [];
  readonly contentTypes = new Set<string>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.raw.push(body);
        this.contentTypes.add(String(req.headers['content-type']));
        try {
          if (req.url === '/v1/traces') this.onTraces(body);
          else if (req.url === '/v1/metrics') this.onMetrics(body);
          else {
            res.writeHead(404).end();
            return;
          }
        } catch {
          res.writeHead(400).end();
          return;
        }
        // An empty ExportServiceResponse is a zero-length protobuf message.
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Every byte received, as one buffer (for "never exported" checks). */
  allBytes(): Buffer {
    return Buffer.concat(this.raw);
  }

  private onTraces(body: Buffer): void {
    const req = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), CONVERT) as {
      resourceSpans?: Array<{
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
      }>;
    };
    for (const rs of req.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: hex(s.traceId as string),
            spanId: hex(s.spanId as string),
            parentSpanId: hex(s.parentSpanId as string | undefined),
            name: s.name as string,
            kind: s.kind as number,
            startMs: Number(BigInt(s.startTimeUnixNano as string) / 1000n) / 1000,
            endMs: Number(BigInt(s.endTimeUnixNano as string) / 1000n) / 1000,
            status: (s.status as ReceivedSpan['status'] | undefined) ?? { code: 0 },
            attributes: attrs(s.attributes as KeyValue[]),
            resource,
          });
        }
      }
    }
  }

  private onMetrics(body: Buffer): void {
    const req = ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(body), CONVERT) as {
      resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<Record<string, unknown>> }> }>;
    };
    for (const rm of req.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const name = m.name as string;
          const unit = (m.unit as string | undefined) ?? '';
          const hist = m.histogram as { dataPoints?: Array<Record<string, unknown>> } | undefined;
          const sum = m.sum as { dataPoints?: Array<Record<string, unknown>> } | undefined;
          for (const p of hist?.dataPoints ?? []) {
            this.points.push({
              metric: name,
              unit,
              attributes: attrs(p.attributes as KeyValue[]),
              count: Number(p.count),
              sum: Number(p.sum),
            });
          }
          for (const p of sum?.dataPoints ?? []) {
            this.points.push({
              metric: name,
              unit,
              attributes: attrs(p.attributes as KeyValue[]),
              value: Number(p.asInt ?? p.asDouble),
            });
          }
        }
      }
    }
  }
}
