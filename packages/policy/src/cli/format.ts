import { headersFor } from '../headers.js';
import { manifestHeaderOptions } from '../manifest.js';
import { levelTtl, storesAt } from '../presets.js';
import type { Level, Manifest, Route } from '../types.js';

/** Left-aligned text table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const ttlOf = (route: Route, level: Level) =>
  storesAt(route.policy, level) ? String(levelTtl(route.policy, level)) : '-';

const headerLines = (headers: Record<string, string>, indent = '') =>
  Object.entries(headers)
    .map(([name, value]) => `${indent}${name}: ${value}`)
    .join('\n');

/** `strata check` output for a valid manifest. */
export function describeManifest(manifest: Manifest, source: string): string {
  const { routes } = manifest;
  const rows = routes.map((route, i) => [
    String(i),
    route.match,
    route.methods.join(','),
    route.policy.levels.length > 0 ? route.policy.levels.join(',') : 'none (no-store)',
    `${ttlOf(route, 'browser')}/${ttlOf(route, 'cdn')}/${ttlOf(route, 'server')}`,
    `${route.policy.staleWhileRevalidate ?? '-'}/${route.policy.staleIfError ?? '-'}`,
    route.policy.scope ?? 'public',
    (route.policy.tags ?? []).join(' ') || '-',
  ]);
  const out = [
    `${source}: valid, version ${manifest.version}, ${routes.length} route${routes.length === 1 ? '' : 's'}, maxUnpurgeableAge ${manifest.defaults.maxUnpurgeableAge}s`,
    '',
    table(['#', 'route', 'methods', 'levels', 'ttl b/c/s', 'swr/sie', 'scope', 'tags'], rows),
    '',
    'Headers (tag templates shown unexpanded):',
  ];
  routes.forEach((route, i) => {
    const headers = headersFor(route.policy, { ...manifestHeaderOptions(manifest), tags: route.policy.tags ?? [] });
    out.push(`[${i}] ${route.methods.join(',')} ${route.match}`, headerLines(headers, '    '));
  });
  return out.join('\n');
}

export { headerLines };
