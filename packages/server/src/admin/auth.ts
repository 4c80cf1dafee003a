import { createHash, timingSafeEqual } from 'node:crypto';
import { jsonError } from '../http.js';

/** Who may use the admin API: a bearer token, or your own check. Without either, it is closed. */
export type AdminAuth = { token: string } | { authorize(request: Request): boolean | Promise<boolean> };

// Both sides are hashed first, so the comparison takes the same time whatever the lengths.
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The admin API's gate: 401 (with a Bearer challenge) without credentials, 403 with wrong ones,
 * 404 for everything when no auth is configured — the API is never open by omission.
 * Resolves to undefined when the request may proceed.
 */
export async function checkAdmin(request: Request, auth: AdminAuth | undefined): Promise<Response | undefined> {
  if (!auth) return jsonError('E_NOT_FOUND', 'the admin API is not enabled on this server');
  if ('authorize' in auth) {
    let allowed = false;
    try {
      allowed = await auth.authorize(request);
    } catch {
      allowed = false;
    }
    return allowed ? undefined : jsonError('E_FORBIDDEN', 'not allowed');
  }
  const header = request.headers.get('authorization');
  const presented = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!presented) {
    return jsonError('E_UNAUTHORIZED', 'send Authorization: Bearer <admin token>', {
      'www-authenticate': 'Bearer realm="strata-admin"',
    });
  }
  return timingSafeEqual(digest(presented), digest(auth.token))
    ? undefined
    : jsonError('E_FORBIDDEN', 'wrong admin token');
}
