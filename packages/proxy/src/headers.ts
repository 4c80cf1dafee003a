import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1): a proxy never forwards
 * them, nor the fields `Connection` names. `Proxy-*` fields are for this hop too (credentials
 * meant for the proxy must not reach the origin). `Expect` is answered by Node's server itself.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'http2-settings',
]);

/** The forwarding fields a client may forge: replaced unless the hop before is trusted. */
const FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);

/** The field names one message's `Connection` header lists, lower-cased. */
function connectionTokens(values: Iterable<string>): Set<string> {
  const named = new Set<string>();
  for (const value of values)
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name) named.add(name);
    }
  return named;
}

function isHopByHop(name: string, named: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named.has(name);
}

/**
 * A message's fields as `[name, value]` pairs (Node's `rawHeaders` order), without the
 * hop-by-hop ones. `Host` is dropped too: the next hop gets the host it is addressed by.
 */
export function endToEnd(raw: readonly string[]): [string, string][] {
  const connection: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() === 'connection') connection.push(raw[i + 1] as string);
  const named = connectionTokens(connection);
  const fields: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!name.startsWith(':') && !isHopByHop(name.toLowerCase(), named)) fields.push([name, raw[i + 1] as string]);
  }
  return fields;
}

/** A node for `Forwarded: for=` (RFC 7239 §6): IPv6 in brackets, quoted; unknown when Node has none. */
function forwardedNode(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.includes(':') ? `"[${address}]"` : address;
}

/** A `Forwarded` parameter value: a token as it is, anything else (`host:port`) quoted (RFC 7239 §4). */
function forwardedValue(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export interface ForwardingOptions {
  /** Keep the client's `Forwarded`/`X-Forwarded-*` and append to them: only behind a proxy that sets them. */
  trustForwarded: boolean;
  /** The `Via` pseudonym of this proxy (RFC 9110 §7.6.3). */
  pseudonym: string;
}

/**
 * Rewrites the request's fields as the origin should see them: hop-by-hop fields removed, `Via`
 * appended (the protocol the client spoke, and the pseudonym), and the forwarding fields set for
 * this hop: `Forwarded: for=…;host=…;proto=…` (RFC 7239) and `X-Forwarded-For`/`-Host`/`-Proto`.
 * A client's own forwarding fields are dropped unless `trustForwarded`: any client could claim
 * any address. `Host` is kept here (the adapter builds the request URL from it) and dropped when
 * the request leaves for the origin.
 */
export function forwardRequestFields(req: IncomingMessage, options: ForwardingOptions): void {
  const host = req.headers.host;
  const fields = endToEnd(req.rawHeaders).filter(
    ([name]) => options.trustForwarded || !FORWARDING.has(name.toLowerCase()),
  );
  const proto = (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  const address = req.socket.remoteAddress;
  const element = [
    `for=${forwardedNode(address)}`,
    ...(host ? [`host=${forwardedValue(host)}`] : []),
    `proto=${proto}`,
  ];
  fields.push(
    ['Via', `${req.httpVersion} ${options.pseudonym}`],
    ['Forwarded', element.join(';')],
    ['X-Forwarded-For', address ?? 'unknown'],
  );
  // Host and scheme are the first hop's: a trusted one already named them.
  const has = (name: string) => fields.some(([field]) => field.toLowerCase() === name);
  if (!has('x-forwarded-proto')) fields.push(['X-Forwarded-Proto', proto]);
  if (host && !has('x-forwarded-host')) fields.push(['X-Forwarded-Host', host]);
  if (host) fields.unshift(['Host', host]);
  req.rawHeaders.length = 0;
  for (const [name, value] of fields) req.rawHeaders.push(name, value);
}

/** The origin's response fields for the client: hop-by-hop ones removed, `Via` appended. */
export function forwardResponseFields(res: IncomingMessage, pseudonym: string): Headers {
  const headers = new Headers();
  for (const [name, value] of endToEnd(res.rawHeaders)) headers.append(name, value);
  headers.append('via', `${res.httpVersion} ${pseudonym}`);
  return headers;
}
