import {
  MSG_LOGOUT,
  MSG_PURGE,
  MSG_RESET,
  MSG_SET_USER,
  MSG_STATS,
  type ReplyTo,
  type StrataMessage,
} from '@strata/policy/protocol';
import { type AppliedPurge, type AppliedReset, type ClientEvents, noopClient, type StrataClient } from './client.js';
import { Emitter } from './emitter.js';
import { electLeader } from './leader.js';
import { askWorker } from './messenger.js';
import { resumePoint, streamUrl } from './resume.js';
import { PurgeStream, type StreamOptions } from './stream.js';
import { watchUpdates } from './update.js';

export interface RegisterOptions {
  /** The service worker script, e.g. `/sw.js` (what the Vite plugin emits). */
  swUrl: string;
  /** The purge stream (Server-Sent Events), e.g. `/strata/events`. */
  events: string;
  /**
   * Headers of the purge stream's request: the app's credential (`{ authorization: 'Bearer …' }`),
   * so the server knows the user and sends their private purges. A function is called on every
   * (re)connect, so a refreshed token applies. Default: none (an anonymous stream: public purges only).
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** The purge stream's `credentials` mode (cookie sessions). Default `'same-origin'`. */
  credentials?: RequestCredentials;
  /** The registration scope. Default: the script's directory. */
  scope?: string;
  /** Reconnection backoff of the purge stream, in ms. Default 1,000 doubling to 30,000. */
  reconnect?: { initialDelay?: number; maxDelay?: number };
  /** How long to wait for the worker's acknowledgement, in ms. Default 10,000. */
  ackTimeout?: number;
  /** How long to wait for the worker to control the page, in ms. Default 10,000. */
  controlTimeout?: number;
  /**
   * `'auto'` (default): a new worker takes over by itself (`update` event). `'prompt'`, for a
   * worker built with `skipWaiting: false`: a new worker waits, every tab gets `waiting` once, and
   * `applyUpdate()` switches (each tab then reloads once).
   */
  updates?: 'auto' | 'prompt';
}

type Broadcast =
  | { type: 'purge'; event: AppliedPurge }
  | { type: 'reset'; event: AppliedReset }
  /** The user changed in some tab: the leader reopens the stream with the new credential. */
  | { type: 'restart' };

/**
 * Registers the Strata service worker, waits until it controls the page, and — in the one tab
 * elected leader — holds the purge stream, forwarding each purge to the worker and recording its
 * id once acknowledged. Never throws: without service workers it returns a no-op client.
 */
export async function registerStrata(options: RegisterOptions): Promise<StrataClient> {
  const container = typeof navigator === 'undefined' ? undefined : navigator.serviceWorker;
  if (!container) {
    console.warn('[strata] service workers are not available here: caching and purges are off');
    return noopClient();
  }
  let registration: ServiceWorkerRegistration;
  try {
    registration = await container.register(options.swUrl, options.scope ? { scope: options.scope } : undefined);
    await controlled(container, options.controlTimeout ?? 10_000);
  } catch (error) {
    console.warn('[strata] the service worker could not be registered: caching and purges are off', error);
    return noopClient();
  }

  const ackTimeout = options.ackTimeout ?? 10_000;
  const emitter = new Emitter<ClientEvents>();
  const events = new URL(options.events, location.href).href;
  const resume = resumePoint(`strata:last-purge-id:${events}`);
  const worker = () => container.controller ?? registration.active;
  const ask = <M extends StrataMessage>(message: M): Promise<ReplyTo[M['type']]> =>
    askWorker(worker(), message, ackTimeout) as Promise<ReplyTo[M['type']]>;
  // Tabs learn of purges the leader applied; the channel never carries work for the worker.
  const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(`strata:${events}`);
  let stream: PurgeStream | undefined;
  channel?.addEventListener('message', ({ data }: MessageEvent<Broadcast>) => {
    if (data.type === 'restart') stream?.restart();
    else emitter.emit(data.type, data.event);
  });
  // After a user change the stream must carry the new credential: this tab's stream, or the leader's.
  const restartStream = (): void => {
    stream?.restart();
    channel?.postMessage({ type: 'restart' } satisfies Broadcast);
  };
  const { headers = {}, credentials = 'same-origin' } = options;
  /** The user this tab last set; unknown at first, so the first `setUser` reopens the stream too. */
  let lastUser: string | null | undefined;

  const apply: StreamOptions['apply'] = async (event) => {
    // The first stream of this origin learns where it joined the log: from then on a closed tab
    // resumes from there, so purges made while no tab was open are replayed.
    if ('position' in event) {
      if (event.position !== '' && resume.get() === null) resume.set(event.position);
      return;
    }
    const { id } = event;
    if (id !== '' && resume.seen(id)) return; // a replay: purges are idempotent, but skip the work
    let evicted = 0;
    try {
      // The event itself goes to the worker: a reset when it drops everything tagged.
      evicted = (await ask({ ...event, type: event.all ? MSG_RESET : MSG_PURGE })).evicted ?? 0;
    } catch (error) {
      // A purge the worker calls malformed will never apply: skip it rather than retry forever.
      if ((error as { code?: unknown }).code !== 'E_MESSAGE_INVALID') throw error;
      console.error('[strata] the service worker refused a purge from the stream', event, error);
    }
    if (id !== '') resume.set(id);
    const broadcast: Broadcast = event.all
      ? { type: 'reset', event: { id, evicted } }
      : { type: 'purge', event: { id, tags: event.tags, keys: event.keys, evicted } };
    emitter.emit(broadcast.type, broadcast.event);
    channel?.postMessage(broadcast);
  };

  const offline = () => emitter.emit('offline', { reason: 'network' });
  addEventListener('offline', offline);
  const onControllerChange = () => {
    const scriptURL = container.controller?.scriptURL;
    if (scriptURL) emitter.emit('update', { scriptURL });
  };
  container.addEventListener('controllerchange', onControllerChange);
  const updates =
    options.updates === 'prompt'
      ? watchUpdates(container, registration, ({ scriptURL }) => emitter.emit('waiting', { scriptURL }))
      : undefined;

  const leadership =
    typeof ReadableStream === 'undefined'
      ? undefined
      : electLeader(`strata:purge-stream:${events}`, () => {
          const held = new PurgeStream({
            url: () => streamUrl(events, resume.get(), location.href),
            headers: typeof headers === 'function' ? headers : () => headers,
            credentials,
            lastEventId: () => resume.get(),
            apply,
            onOffline: () => emitter.emit('offline', { reason: 'stream' }),
            initialDelay: options.reconnect?.initialDelay ?? 1000,
            maxDelay: options.reconnect?.maxDelay ?? 30_000,
          });
          stream = held;
          held.open();
          return () => {
            held.close();
            stream = undefined;
          };
        });
  if (!leadership) console.warn('[strata] no streaming fetch here: purges from the server are not received');

  return {
    on: (type, listener) => emitter.on(type, listener),
    stats: async () => {
      const { type: _, ...snapshot } = await ask({ type: MSG_STATS });
      return snapshot;
    },
    setUser: async (user) => {
      await ask({ type: MSG_SET_USER, user });
      // The same user again (a page load confirming the session) keeps the stream it has.
      if (user !== lastUser) restartStream();
      lastUser = user;
    },
    logout: async () => {
      const { evicted } = await ask({ type: MSG_LOGOUT });
      restartStream();
      lastUser = null;
      return evicted;
    },
    applyUpdate: () => updates?.apply() ?? false,
    get leader() {
      return leadership?.leading ?? false;
    },
    supported: true,
    close() {
      leadership?.release();
      channel?.close();
      removeEventListener('offline', offline);
      container.removeEventListener('controllerchange', onControllerChange);
      updates?.close();
      emitter.clear();
    },
  };
}

/**
 * Resolves once a service worker controls the page (Strata's worker claims clients on activate).
 * A worker installed with `clientsClaim: false` controls the page only after a reload: after the
 * timeout the client goes on, messaging the active worker directly.
 */
async function controlled(container: ServiceWorkerContainer, timeoutMs: number): Promise<void> {
  await container.ready;
  if (container.controller) return;
  const claimed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const claim = () => {
      clearTimeout(timer);
      resolve(true);
    };
    container.addEventListener('controllerchange', claim, { once: true });
  });
  if (!claimed)
    console.warn(`[strata] no service worker controls this page after ${timeoutMs} ms; it will after a reload`);
}
