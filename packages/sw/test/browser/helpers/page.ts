/**
 * Types of the page globals the browser tests touch inside `page.evaluate`. The test program is
 * type-checked with Node's types only (the DOM lib would clash with them), so callbacks that run
 * in the page read what they need through `globalThis as unknown as PageGlobals`.
 */
export interface WorkerLike {
  readonly scriptURL: string;
  readonly state: string;
  postMessage(message: unknown, transfer?: unknown[]): void;
  addEventListener(type: 'statechange', listener: () => void): void;
}

export interface RegistrationLike {
  readonly active: WorkerLike | null;
  update(): Promise<unknown>;
  unregister(): Promise<boolean>;
}

export interface CacheLike {
  keys(request?: string, options?: { ignoreVary?: boolean }): Promise<Request[]>;
  match(request: Request | string, options?: { ignoreVary?: boolean }): Promise<Response | undefined>;
}

export interface PortLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

export interface PageGlobals {
  MessageChannel: new () => { port1: PortLike; port2: PortLike };
  navigator: {
    serviceWorker: {
      readonly controller: WorkerLike | null;
      register(url: string, options?: { scope?: string }): Promise<RegistrationLike>;
      getRegistration(): Promise<RegistrationLike | undefined>;
      addEventListener(type: 'controllerchange', listener: () => void, options?: { once?: boolean }): void;
    };
  };
  caches: {
    keys(): Promise<string[]>;
    open(name: string): Promise<CacheLike>;
    match(
      request: Request | string,
      options?: { ignoreVary?: boolean; cacheName?: string },
    ): Promise<Response | undefined>;
  };
  localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  document: { cookie: string };
  location: { href: string };
}
