import { type Manifest, matchRoute } from '@strata/policy';

/**
 * Which tags and keys of a purge belong to private routes: a tag produced only by the tag
 * templates of `private` policies (never by a public one), or a key whose route is private.
 * Such names can carry a user's ids, so a purge that names no partition does not broadcast them.
 * The query cache's row and list tags (`row:<table>:<key>`, `list:<table>`) name key values too,
 * and no browser holds a query result: they count as private unless a public route's template
 * produces them.
 */
const QUERY_CACHE_TAG = /^(?:row|list):/;

export function privateNames(manifest: Manifest): { tag(tag: string): boolean; key(key: string): boolean } {
  const toRegExp = (template: string) =>
    new RegExp(
      `^${template
        .split(/\{[A-Za-z_][A-Za-z0-9_]*\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^]+')}$`,
    );
  const privateTemplates: RegExp[] = [];
  const publicTemplates: RegExp[] = [];
  for (const route of manifest.routes) {
    const list = route.policy.scope === 'private' ? privateTemplates : publicTemplates;
    for (const template of route.policy.tags ?? []) list.push(toRegExp(template));
  }
  return {
    tag: (tag) =>
      (QUERY_CACHE_TAG.test(tag) || privateTemplates.some((re) => re.test(tag))) &&
      !publicTemplates.some((re) => re.test(tag)),
    key: (key) => matchRoute(manifest, key)?.policy.scope === 'private',
  };
}
