import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a request to the fake carried, decoded the way Slack decodes it. */
export interface ParsedRequest {
  readonly args: Record<string, unknown>;
  /** File parts of a multipart body (the upload URL), by field name. */
  readonly fileParts: Record<string, Buffer>;
  /** The bearer token from the Authorization header, else undefined. */
  readonly bearer: string | undefined;
  readonly contentType: string;
  readonly raw: Buffer;
}

// @slack/web-api form-encodes every call and JSON-encodes object-valued arguments into single form
// fields; Slack decodes these server-side, so the fake must too or validation would see strings.
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'files', 'metadata']);

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function decodeJsonFields(args: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(args)) {
    const value = args[key];
    if (!JSON_FIELDS.has(key) || typeof value !== 'string') continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      // Left as a string: the method's validation refuses it like Slack refuses malformed JSON.
    }
  }
  return args;
}

/** Accepts the three encodings Slack accepts: form, JSON (token in the header only) and multipart. */
export async function parseRequest(req: IncomingMessage, raw: Buffer): Promise<ParsedRequest> {
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  const auth = String(req.headers.authorization ?? '');
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  const args: Record<string, unknown> = {};
  const fileParts: Record<string, Buffer> = {};
  if (contentType.startsWith('application/json')) {
    const text = raw.toString('utf8');
    const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(args, parsed);
  } else if (contentType.startsWith('multipart/form-data')) {
    // undici (Node's fetch) already has a multipart parser; reusing it avoids writing a fragile one.
    const form = await new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type']) },
      body: raw,
    }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') args[key] = value;
      else fileParts[key] = Buffer.from(await value.arrayBuffer());
    }
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = value;
  }
  return { args: decodeJsonFields(args), fileParts, bearer, contentType, raw };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export interface BucketConfig {
  /** Requests allowed back to back before the bucket runs dry (the tolerated burst). */
  readonly capacity: number;
  /** Sustained rate once the burst is spent. */
  readonly refillPerSecond: number;
  /** One bucket per channel (Slack's message posting limit) or one per workspace (the method tiers). */
  readonly perChannel: boolean;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets keyed by method (and channel): the shape of Slack's "bursts tolerated" limits. */
export class RateBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number) {}

  /** Takes a token; when none is left, returns how long Slack would tell the caller to wait. */
  take(key: string, config: BucketConfig): { readonly ok: true } | { readonly retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: config.capacity, updatedAt: now };
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(config.capacity, bucket.tokens + elapsed * config.refillPerSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    // Retry-After is whole seconds; never 0, or a client honouring it would spin.
    return { retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / config.refillPerSecond)) };
  }
}
