/**
 * A minimal HTTP/1.1 keep-alive client for the benchmark's load generator: one socket, one request at
 * a time, bodies framed by Content-Length (what the engine always sends). The load generator shares
 * the machine's 2 vCPUs with the server and PostgreSQL, so it should cost what a remote client costs
 * the server: as near nothing as it can. undici's dispatch API spent ~85 µs of CPU per list page
 * (34 KB) on parsing, header objects and per-chunk callbacks; this spends ~30: one write per request,
 * the head parsed once, the body counted, not kept (except to explain an unexpected status).
 */
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:[ \t]*chunked/i;

export interface Response {
  status: number;
  /** Body length in bytes. */
  bytes: number;
  /** The body as text, only when the status was not the expected one. */
  text?: string;
}

interface Pending {
  expect: number;
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
}

export class Http1Connection {
  private readonly socket: net.Socket;
  private readonly ready: Promise<void>;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes of head and body of the response being read; -1 until its head is complete. */
  private total = -1;
  private bodyStart = 0;
  private status = 0;
  private pending: Pending | null = null;
  /** When the last response ended (or the connection opened), for callers that retire idle connections. */
  lastUsed = performance.now();

  constructor(
    port: number,
    private readonly host = '127.0.0.1',
  ) {
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => this.socket.once('connect', resolve).once('error', reject));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** Sends one request and resolves with its response once the whole body has arrived. */
  async request(method: string, path: string, headers: Record<string, string>, body?: string, expect = 200): Promise<Response> {
    await this.ready;
    if (this.socket.destroyed) throw new Error('the connection is closed');
    if (this.pending) throw new Error('one request at a time per connection');
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    return new Promise((resolve, reject) => {
      this.pending = { expect, resolve, reject };
      this.socket.write(body === undefined ? `${head}\r\n` : `${head}\r\n${body}`);
    });
  }

  /** Closed by either side: open a new connection instead. */
  get closed(): boolean {
    return this.socket.destroyed;
  }

  close() {
    this.socket.destroy();
  }

  private onData(chunk: Buffer) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.total < 0 && !this.readHead()) return;
    if (this.size < this.total) return;
    const pending = this.pending!;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    const response: Response = { status: this.status, bytes: this.total - this.bodyStart };
    if (this.status !== pending.expect) response.text = all.toString('utf8', this.bodyStart, this.total);
    // Keep-alive, one request in flight: nothing may follow the body.
    if (this.size > this.total) return this.fail(new Error(`${this.size - this.total} unexpected bytes after a response`));
    this.chunks = [];
    this.size = 0;
    this.total = -1;
    this.pending = null;
    this.lastUsed = performance.now();
    pending.resolve(response);
  }

  /** Parses the head once it is complete; false while it is not. */
  private readHead(): boolean {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    const end = all.indexOf(HEAD_END);
    if (end < 0) return false;
    const head = all.toString('latin1', 0, end);
    this.status = Number(head.slice(9, 12));
    const length = CONTENT_LENGTH.exec(head);
    if (!length) {
      this.fail(
        new Error(
          CHUNKED.test(head)
            ? 'chunked responses are not supported by the benchmark client'
            : 'a response without Content-Length',
        ),
      );
      return false;
    }
    this.bodyStart = end + HEAD_END.length;
    this.total = this.bodyStart + Number(length[1]);
    return true;
  }

  private fail(error: Error) {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }
}
