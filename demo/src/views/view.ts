import type { StrataClient } from '@strata/client';
import type { Api } from '../api.js';
import type { PurgeLog } from '../purges.js';
import type { SessionStore } from '../session.js';

export interface NavigateOptions {
  /** Replace the history entry instead of adding one. */
  replace?: boolean;
  /** A selector to focus once the new page is shown, instead of its heading. */
  focus?: string;
  /** Shown once the new page is on screen. */
  notice?: string;
}

/** What every view is given: built once in main.ts and passed down, never imported as a module instance. */
export interface AppContext {
  api: Api;
  client: StrataClient;
  session: SessionStore;
  purges: PurgeLog;
  navigate(path: string, options?: NavigateOptions): void;
  notify(text: string): void;
  signIn(token: string, account: { username: string; label: string }): Promise<void>;
  signOut(): Promise<void>;
}

/** One page of the app. */
export interface View {
  readonly title: string;
  /** Tags of the data on screen: a purge naming one re-renders the view in place. */
  readonly tags: readonly string[];
  /** Fetches and builds the page; rejections become the offline or error state. */
  render(): Promise<Node>;
  /** Stops timers and listeners when the reader leaves the page. */
  dispose?(): void;
}

export interface RouteParams {
  params: Record<string, string>;
  query: URLSearchParams;
}

export type ViewFactory = (app: AppContext, route: RouteParams) => View;
