import { type LayerInfo, layerOf } from './layers.js';

/** One API request as the layer overlay shows it. */
export interface ApiCall extends LayerInfo {
  method: string;
  /** Path and query. */
  path: string;
  status: number;
  ms: number;
}

export interface Issue {
  path: string;
  message: string;
}

/** The server answered with an error: `{ error: { code, message, issues? } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

/** No answer at all: the browser is offline or the server unreachable, and no cache had a copy. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

export const isApiError = (error: unknown): error is ApiError => (error as Error | null)?.name === 'ApiError';
export const isNetworkError = (error: unknown): error is NetworkError =>
  (error as Error | null)?.name === 'NetworkError';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT';
  /** Sent as JSON. */
  body?: unknown;
  /** Send the signed-in user's token. Public reads leave it out, so the CDN may share them. */
  auth?: boolean;
  /** Send this bearer token (the admin token, or a token being signed out). */
  token?: string;
  /** Leave the request out of the layer overlay (polling). */
  quiet?: boolean;
}

export interface Api {
  /** The answer's JSON (undefined for 204); rejects with ApiError or NetworkError. */
  request<T>(path: string, options?: RequestOptions): Promise<T>;
}

export interface ApiDeps {
  /** The signed-in user's token, if any. */
  userToken(): string | undefined;
  /** Told about every request that got an answer. */
  record(call: ApiCall): void;
  fetch?: typeof fetch;
}

/** The one way the page calls the API: auth header, timing, and which layer answered. */
export function createApi(deps: ApiDeps): Api {
  const send = deps.fetch ?? ((input, init) => fetch(input, init));
  return {
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const method = options.method ?? 'GET';
      const headers = new Headers({ accept: 'application/json' });
      const token = options.token ?? (options.auth ? deps.userToken() : undefined);
      if (token) headers.set('authorization', `Bearer ${token}`);
      const init: RequestInit = { method, headers };
      if (options.body !== undefined) {
        headers.set('content-type', 'application/json');
        init.body = JSON.stringify(options.body);
      }
      const started = performance.now();
      let response: Response;
      let text: string;
      try {
        response = await send(path, init);
        text = await response.text();
      } catch (error) {
        throw new NetworkError(`${method} ${path} failed: ${(error as Error).message}`, { cause: error });
      }
      const ms = performance.now() - started;
      if (!options.quiet) deps.record({ method, path, status: response.status, ms, ...layerOf(response.headers) });
      const body = parseJson(text);
      if (!response.ok) throw errorFrom(response.status, body);
      return body as T;
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFrom(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' ? error.message : `the server answered ${status}`;
  const issues = Array.isArray(error?.issues) ? (error.issues as Issue[]) : [];
  return new ApiError(status, code, message, issues);
}
