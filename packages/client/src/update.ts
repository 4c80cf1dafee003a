import { MSG_SKIP_WAITING } from '@strata/policy/protocol';

export interface Updates {
  /** Tells the waiting worker to take over; false when none waits. */
  apply(): boolean;
  close(): void;
}

/**
 * The "prompt" update flow (`updates: 'prompt'`), for a worker built with `skipWaiting: false`
 * (one built with the default takes over by itself, passing through `installed` on the way):
 * - `onWaiting` is called once per new worker that installed and waits while another controls
 *   the page, in every tab (each tab's registration sees it);
 * - `apply()`, in any tab, tells it to take over;
 * - each tab that was told of that worker reloads once when it takes control: one reload per tab,
 *   and none after it, since the reloaded page finds no worker waiting.
 */
export function watchUpdates(
  container: ServiceWorkerContainer,
  registration: ServiceWorkerRegistration,
  onWaiting: (worker: ServiceWorker) => void,
): Updates {
  const told = new WeakSet<ServiceWorker>();
  const tell = (worker: ServiceWorker | null): void => {
    // A worker waiting with none in control is the first install, not an update.
    if (worker?.state !== 'installed' || !container.controller || told.has(worker)) return;
    told.add(worker);
    onWaiting(worker);
  };
  const track = (worker: ServiceWorker | null): void => {
    tell(worker);
    worker?.addEventListener('statechange', () => tell(worker));
  };
  const found = (): void => track(registration.installing);
  let reloading = false;
  const takenOver = (): void => {
    const controller = container.controller;
    if (reloading || !controller || !told.has(controller)) return;
    reloading = true;
    location.reload();
  };
  registration.addEventListener('updatefound', found);
  container.addEventListener('controllerchange', takenOver);
  tell(registration.waiting);
  track(registration.installing);
  return {
    apply() {
      const { waiting } = registration;
      waiting?.postMessage({ type: MSG_SKIP_WAITING });
      return waiting !== null;
    },
    close() {
      registration.removeEventListener('updatefound', found);
      container.removeEventListener('controllerchange', takenOver);
    },
  };
}
