/**
 * One OTLP/HTTP POST of an already serialized (and normally already compressed) request body, and
 * what came of it: delivered (with
 * the partial-success rejections), retry (with Retry-After), or reject. No retries in here — the
 * delivery loop owns time — and no exceptions: every failure becomes a result with a reason.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IExportLogsServiceResponse } from '@opentelemetry/otlp-transformer';
import type { BodyCompression, PayloadEncoding } from './batch-store.js';
import { gunzipBody, gzipBody } from './body-compression.js';
import { parseRetryAfter, verdictForStatus } from './retry-policy.js';

/** Largest response body read (partial-success messages are short; anything bigger is cut). */
const MAX_RESPONSE_BYTES = 64 * 1024;

export const CONTENT_TYPES: Record<PayloadEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

export interface HttpSenderOptions {
  url: string;
  headers: Record<string, string>;
  /**
   * The body's form on the wire (otlp.compression). The delivery stores bodies in this form, so
   * they are sent as stored; a batch stored in the other form is converted at send time.
   */
  compression: BodyCompression;
  /** One request, connect to last byte of the answer (ms). */
  timeoutMs: number;
  /** TLS material; the server certificate is always verified. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  userAgent: string;
  /** Decodes a 2xx answer body of each encoding (partial success). */
  decodeResponse: Record<PayloadEncoding, (body: Uint8Array) => IExportLogsServiceResponse>;
}

export type SendResult =
  | { verdict: 'delivered'; status: number; rejected: number; message: string }
  | { verdict: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }
  | { verdict: 'reject'; status: number; reason: string };

/** Shortens and flattens a server's error text for one log line. */
function snippet(body: Buffer): string {
  const t = body
    .subarray(0, 300)
    .toString('utf8')
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return t.length > 0 ? `: ${t}` : '';
}

export class HttpSender {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;

  constructor(private readonly opts: HttpSenderOptions) {
    this.url = new URL(opts.url);
    const https = this.url.protocol === 'https:';
    this.request = https ? httpsRequest : httpRequest;
    // keepAlive: one connection reused for every batch; maxSockets 1 because batches go in order.
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: true, ...opts.tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  /** The form bodies are sent in, and so the form the delivery stores them in. */
  get compression(): BodyCompression {
    return this.opts.compression;
  }

  /**
   * Sends one body, stored with `compression`: as it is when that is the wire form (the normal
   * case: no recompression at retries or replays), else gzipped or gunzipped first. Never throws.
   */
  async send(payload: Uint8Array, encoding: PayloadEncoding, compression: BodyCompression, records: number): Promise<SendResult> {
    let body: Uint8Array = payload;
    let sent = compression;
    if (compression !== this.opts.compression) {
      try {
        body = compression === 'none' ? await gzipBody(payload) : await gunzipBody(payload);
        sent = this.opts.compression;
      } catch {
        // Cannot happen for an intact body (the spool checks its checksum); sent as stored, the collector judges.
        body = payload;
      }
    }
    const headers: Record<string, string> = {
      ...this.opts.headers,
      'Content-Type': CONTENT_TYPES[encoding],
      'User-Agent': this.opts.userAgent,
    };
    if (sent === 'gzip') headers['Content-Encoding'] = 'gzip';
    headers['Content-Length'] = String(body.byteLength);
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const done = (r: SendResult): void => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      const req = this.request(this.url, { method: 'POST', headers, agent: this.agent }, (res) => {
        readBody(res, (raw) => done(this.judge(res, raw, encoding, records)));
      });
      req.setTimeout(this.opts.timeoutMs, () => {
        req.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // Refused, reset, DNS, TLS verification, timeout: the batch stays and is tried again.
        done({ verdict: 'retry', status: null, retryAfterMs: null, reason: err.code ? `${err.code}: ${err.message}` : err.message });
      });
      req.end(body);
    });
  }

  private judge(res: IncomingMessage, raw: Buffer, encoding: PayloadEncoding, records: number): SendResult {
    const status = res.statusCode ?? 0;
    const verdict = verdictForStatus(status);
    if (verdict === 'retry') {
      return {
        verdict,
        status,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now()),
        reason: `HTTP ${status}${snippet(raw)}`,
      };
    }
    if (verdict === 'reject') return { verdict, status, reason: `HTTP ${status}${snippet(raw)}` };
    let rejected = 0;
    let message = '';
    if (raw.length > 0) {
      try {
        const r = this.opts.decodeResponse[encoding](raw);
        const ps = r.partialSuccess;
        // int64 arrives as number, string or Long-like depending on the decoder.
        rejected = Math.min(records, Math.max(0, Number(ps?.rejectedLogRecords ?? 0) || 0));
        message = ps?.errorMessage ?? '';
      } catch (err) {
        message = `unreadable response body (${(err as Error).message}); taken as fully accepted`;
      }
    }
    return { verdict, status, rejected, message };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Reads at most MAX_RESPONSE_BYTES of a response (the rest is drained and discarded). */
function readBody(res: IncomingMessage, cb: (raw: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (c: Buffer) => {
    if (size < MAX_RESPONSE_BYTES) chunks.push(c);
    size += c.length;
  });
  res.on('end', () => cb(Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES)));
  res.on('error', () => cb(Buffer.concat(chunks)));
}
