/** The signed-in demo account, kept in localStorage so it survives reloads. */
export interface Session {
  username: string;
  /** `Alice (editor)`. */
  label: string;
  token: string;
}

export interface SessionStore {
  current(): Session | undefined;
  signIn(session: Session): void;
  signOut(): void;
  /** Called after every sign-in and sign-out. */
  onChange(listener: () => void): void;
  adminToken(): string | undefined;
  setAdminToken(token: string | undefined): void;
}

const SESSION_KEY = 'strata-demo-session';
const ADMIN_KEY = 'strata-admin-token';

export function sessionStore(storage: Storage): SessionStore {
  const listeners: (() => void)[] = [];
  const changed = () => {
    for (const listener of listeners) listener();
  };
  return {
    current() {
      const saved = parse(storage.getItem(SESSION_KEY));
      return saved && typeof saved.token === 'string' && typeof saved.username === 'string' ? saved : undefined;
    },
    signIn(session) {
      storage.setItem(SESSION_KEY, JSON.stringify(session));
      changed();
    },
    signOut() {
      storage.removeItem(SESSION_KEY);
      changed();
    },
    onChange(listener) {
      listeners.push(listener);
    },
    adminToken: () => storage.getItem(ADMIN_KEY) ?? undefined,
    setAdminToken(token) {
      if (token) storage.setItem(ADMIN_KEY, token);
      else storage.removeItem(ADMIN_KEY);
    },
  };
}

function parse(raw: string | null): Session | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return undefined;
  }
}

/** `Alice (editor)` → `Alice`. */
export function displayName(account: { username: string; label: string }): string {
  return account.label.replace(/\s*\(.*\)$/, '') || account.username;
}
