/**
 * The bench agent: runs on the target device and measures ONNX models sent
 * over HTTP with the same core as local measurements, returning the same
 * JSON. It listens on loopback unless told otherwise, requires a bearer token
 * (compared in constant time), caps the body size, answers malformed requests
 * with 4xx and keeps serving, and never touches the file system for a
 * request: the model's bytes go straight to onnxruntime. Requests from
 * several machines are measured one at a time in the order they arrived, each
 * with its whole timeout from when its measurement starts (fifo-slots.ts).
 *
 *   GET  /health                         → { ok, environment }
 *   POST /measure   body: ONNX bytes     → Measurement JSON
 *        Authorization: Bearer <token>
 *        X-Nas-Options: {json MeasureOptions}   (optional)
 *        X-Nas-Model-Name: label           (optional, a label only)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_AGENT_MAX_BYTES } from './constants.js';
import { captureEnvironment } from './environment.js';
import { LatencyPool } from './pool.js';
import { measureOptionsSchema } from './schema.js';
import type { Measurement } from './types.js';

/** How {@link startAgent} serves. */
export interface AgentOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Required bearer token. */
  token: string;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Largest accepted model in bytes. @default 64 MiB */
  maxBytes?: number;
  /** Pool to measure with. @default a new pool, closed with the agent */
  pool?: LatencyPool;
}

/** A started bench agent: its URL, and how to stop it. */
export interface RunningAgent {
  url: string;
  close(): Promise<void>;
}

/** Constant-time token check: both sides hashed first so lengths never leak. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the body, refusing (413) as soon as it passes `maxBytes`. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      reject(new HttpError(413, `model is ${declared} bytes; this agent accepts at most ${maxBytes}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new HttpError(413, `model exceeds ${maxBytes} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function parseOptions(header: string | string[] | undefined) {
  if (header === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(Array.isArray(header) ? header[0] : header);
  } catch {
    throw new HttpError(400, 'X-Nas-Options is not valid JSON');
  }
  const parsed = measureOptionsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `X-Nas-Options.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Starts an agent; resolves once it listens. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  if (!options.token) throw new RangeError('a bench agent needs a non-empty token');
  const maxBytes = options.maxBytes ?? DEFAULT_AGENT_MAX_BYTES;
  const pool = options.pool ?? new LatencyPool();
  const ownsPool = !options.pool;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    if (req.method === 'GET' && path === '/health') return send(res, 200, { ok: true, environment: captureEnvironment() });
    if (path !== '/measure') return send(res, 404, { error: `no route ${req.method} ${path}` });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST /measure' });
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!tokenMatches(token, options.token)) {
      req.resume();
      return send(res, 401, { error: 'missing or wrong bearer token' });
    }
    const measureOptions = parseOptions(req.headers['x-nas-options']);
    const body = await readBody(req, maxBytes);
    if (body.length === 0) throw new HttpError(400, 'empty body: send the ONNX model bytes');
    const label = String(req.headers['x-nas-model-name'] ?? 'model').replace(/[^\w.\-]/g, '_').slice(0, 128);
    const measurement: Measurement = await pool.measure(body, label, measureOptions);
    // An unloadable model is the client's fault: 422, with the same JSON.
    send(res, measurement.state === 'errored' && measurement.error.code === 'E_BENCH' ? 422 : 200, measurement);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (!res.headersSent) send(res, status, { error: (error as Error).message });
      if (status === 413) req.socket.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      if (ownsPool) await pool.close();
    },
  };
}
