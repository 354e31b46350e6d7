/**
 * Over a real socket, as engine/main.ts serves it: request bodies are read from Node's request stream
 * (not through a WHATWG Request), so their decoding, the size limit and the shapes of the responses are
 * checked here against @hono/node-server, where app.request() in the other tests cannot reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { startEngine, type TestEngine } from '../support/engine.js';
import { testApp } from './fixtures.js';

const MAX_BODY = 16 * 1024 * 1024;

describe('the REST API over HTTP', () => {
  let e: TestEngine;
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    e = await startEngine('pglite');
    expect((await e.call('POST', '/api/meta/deploy', { documents: testApp() })).status).toBe(201);
    server = serve({ hostname: '127.0.0.1', port: 0, fetch: e.app.fetch });
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await e?.stop();
  });

  const send = (method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}) =>
    fetch(base + path, {
      method,
      body,
      headers: { authorization: `Bearer ${e.admin.token}`, 'content-type': 'application/json', ...headers },
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  const count = async () => (await (await send('GET', '/api/data/deal?count=true&limit=1')).json()).total as number;

  it('reads a JSON body, multi-byte characters split across chunks included', async () => {
    // A streamed body arrives in chunks; cut one inside a three-byte character.
    const bytes = new TextEncoder().encode(JSON.stringify({ title: '华东区域大客户 ERP 项目', code: 'HT-1' }));
    const cut = bytes.indexOf(0xe5) + 1;
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.slice(0, cut));
        controller.enqueue(bytes.slice(cut));
        controller.close();
      },
    });
    const res = await send('POST', '/api/data/deal', stream);
    expect(res.status).toBe(201);
    const created = (await res.json()).data;
    expect(created.title).toBe('华东区域大客户 ERP 项目');

    const patched = await send('PATCH', `/api/data/deal/${created.id}`, JSON.stringify({ hot: true }), { 'if-match': '"1"' });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"2"');
    const listed = await (
      await send(
        'GET',
        `/api/data/deal?fields=title,hot&filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'code' }, 'HT-1'] }))}`,
      )
    ).json();
    expect(listed).toEqual({
      data: [{ id: created.id, version: 2, title: '华东区域大客户 ERP 项目', hot: true }],
      nextCursor: null,
    });
  });

  it('refuses malformed and empty bodies with 400', async () => {
    const malformed = await send('POST', '/api/data/deal', '{"title": ');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('invalid_json');
    const empty = await send('POST', '/api/data/deal', '');
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.code).toBe('invalid_json');
  });

  it('refuses a body over 16 MiB with 413 — declared or streamed without a length — and writes nothing', async () => {
    const before = await count();
    const declared = await send('POST', '/api/data/deal', JSON.stringify({ title: 'x'.repeat(MAX_BODY) }));
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.code).toBe('body_too_large');

    // Chunked transfer: no content-length, so the limit is counted while reading.
    const chunk = new Uint8Array(1024 * 1024).fill(0x61);
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"title":"'));
        if (sent > MAX_BODY) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const streamed = await send('POST', '/api/data/deal', stream).catch((err: Error) => err);
    // The server answers 413 as soon as the limit is passed; a client still sending may see the
    // connection closed instead. Either way nothing is written.
    if (!(streamed instanceof Error)) {
      expect(streamed.status).toBe(413);
      expect((await streamed.json()).error.code).toBe('body_too_large');
    }
    expect(await count()).toBe(before);
  });
});
