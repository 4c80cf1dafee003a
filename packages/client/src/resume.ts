/**
 * Where the purge stream resumes: the id of the last purge the service worker acknowledged.
 * A stream's last event id lives in the page and is lost on reload (HTML §9.2.3), so it is kept
 * in localStorage, shared by every tab of the origin, and sent as `?since=` and `Last-Event-ID`
 * when a stream opens.
 */
export interface ResumePoint {
  get(): string | null;
  set(id: string): void;
  /** Whether `id` was applied recently (a replay after a reconnect or a leader change). */
  seen(id: string): boolean;
}

const RECENT = 256;

export function resumePoint(key: string, storage: Storage | undefined = globalThis.localStorage): ResumePoint {
  let memory: string | null = null; // when storage is unavailable (blocked, full)
  const recent: string[] = [];
  return {
    get() {
      try {
        return storage?.getItem(key) ?? memory;
      } catch {
        return memory;
      }
    },
    set(id) {
      memory = id;
      recent.push(id);
      if (recent.length > RECENT) recent.shift();
      try {
        storage?.setItem(key, id);
      } catch {
        // quota or privacy mode: the in-memory copy still resumes this page's stream
      }
    },
    seen(id) {
      return recent.includes(id);
    },
  };
}

/** The stream URL with `since` set to the resume point. */
export function streamUrl(events: string, since: string | null, base: string): string {
  const url = new URL(events, base);
  if (since !== null) url.searchParams.set('since', since);
  else url.searchParams.delete('since');
  return url.href;
}
