import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PartitionRequest } from '@strata/server';

/** The two demo accounts: rows 1 and 2 of the users table. */
export const ACCOUNTS = [
  { username: 'alice', userId: 1, label: 'Alice (editor)' },
  { username: 'bob', userId: 2, label: 'Bob (viewer)' },
] as const;

export type Account = (typeof ACCOUNTS)[number];

/**
 * Bearer tokens for the demo accounts: `<username>.<HMAC of the username>`. Every instance given
 * the same secret accepts every instance's tokens, so two instances behind one load balancer (or
 * the e2e suite's A and B) share sessions without sharing state.
 */
export function demoAuth(secret: string) {
  const sign = (username: string) => createHmac('sha256', secret).update(username).digest('base64url');
  return {
    tokenFor(account: Account): string {
      return `${account.username}.${sign(account.username)}`;
    },
    /** The account a request's `Authorization: Bearer …` names, if the token is valid. */
    accountOf(request: Pick<PartitionRequest, 'headers'>): Account | undefined {
      const header = request.headers.get('authorization');
      const match = header ? /^Bearer ([a-z]+)\.([\w-]+)$/i.exec(header.trim()) : null;
      if (!match) return undefined;
      const [, username, signature] = match as unknown as [string, string, string];
      const account = ACCOUNTS.find((a) => a.username === username);
      if (!account) return undefined;
      const expected = Buffer.from(sign(username));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given) ? account : undefined;
    },
  };
}

export type DemoAuth = ReturnType<typeof demoAuth>;
