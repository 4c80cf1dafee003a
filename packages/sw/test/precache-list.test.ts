import { precacheOf } from '@strata/sw/vite';
import { describe, expect, it } from 'vitest';

const files = [
  { fileName: 'index.html', source: '<p>home</p>' },
  { fileName: 'about.html', source: '<p>about</p>' },
  { fileName: 'assets/index-AbC123.js', source: 'console.log(1)' },
  { fileName: 'assets/lazy-x_9.js', source: new TextEncoder().encode('export {}') },
  { fileName: 'assets/style-1.css', source: 'p{}' },
  { fileName: 'assets/logo.svg', source: '<svg/>' },
];

describe('precacheOf', () => {
  it("lists the build's js, css and html under the base, sorted, revisioned by content", () => {
    const { entries } = precacheOf(files, '/app');
    expect(entries.map((e) => e.url)).toEqual([
      '/app/', // index.html, at its directory's URL
      '/app/about.html',
      '/app/assets/index-AbC123.js',
      '/app/assets/lazy-x_9.js',
      '/app/assets/style-1.css',
    ]);
    expect(entries.every((e) => /^[0-9a-f]{16}$/.test(e.revision))).toBe(true);
  });

  it('takes include and exclude globs (**, *, ?, {a,b})', () => {
    const urls = (include?: string[], exclude?: string[]) =>
      precacheOf(files, '/', { ...(include && { include }), ...(exclude && { exclude }) }).entries.map((e) => e.url);
    expect(urls(['**/*.svg'])).toEqual(['/assets/logo.svg']);
    expect(urls(['*.html'])).toEqual(['/', '/about.html']);
    expect(urls(['assets/lazy-?_?.js'])).toEqual(['/assets/lazy-x_9.js']);
    expect(urls(undefined, ['assets/**', 'about.*'])).toEqual(['/']);
    expect(urls(['**/*.{svg,css}'])).toEqual(['/assets/logo.svg', '/assets/style-1.css']);
  });

  it('gives another id when any file changes, the same for the same files', () => {
    const same = precacheOf([...files].reverse(), '/');
    expect(same.id).toBe(precacheOf(files, '/').id);
    const changed = files.map((f) => (f.fileName === 'index.html' ? { ...f, source: '<p>new</p>' } : f));
    expect(precacheOf(changed, '/').id).not.toBe(same.id);
  });
});
