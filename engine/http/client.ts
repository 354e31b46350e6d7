/**
 * Who is calling, as far as the network tells: the client's address. Proxy headers (X-Forwarded-For)
 * are anyone's to forge, so they are believed only when the deployment says a proxy stands in front
 * (TRUST_PROXY): a number of proxy hops to trust, or `true` for all of them. Without it the address is
 * the socket's peer.
 */
import type { Context } from 'hono';

/** false: ignore proxy headers; a number n: trust the n nearest hops; true: trust every hop. */
export type TrustProxy = boolean | number;

/** TRUST_PROXY as written in the environment: unset/0/false, true, or a hop count. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = value?.trim().toLowerCase();
  if (!v || v === 'false' || v === '0' || v === 'no') return false;
  if (v === 'true' || v === 'yes') return true;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`TRUST_PROXY must be true, false or a number of proxy hops, not "${value}"`);
  return n;
}

/** The socket peer, when served by @hono/node-server (app.request in tests has none unless given). */
function peerAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? undefined;
}

export function clientAddress(c: Context, trust: TrustProxy): string | undefined {
  const peer = peerAddress(c);
  if (trust === false || trust === 0) return peer;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Right to left: the peer, then what each trusted proxy says it saw.
  const hops = [...forwarded, ...(peer ? [peer] : [])];
  if (!hops.length) return undefined;
  const index = trust === true ? 0 : Math.max(0, hops.length - 1 - trust);
  return hops[index].slice(0, 100);
}
