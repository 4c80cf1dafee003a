import { describe, expect, it } from 'vitest';
import { parsePattern, splitPattern } from '../src/pattern.js';
import { parseTagTemplate, splitTemplate } from '../src/tags.js';

// Matching reads a validated manifest's patterns and templates with the unchecked splitters; for
// every valid input they must give exactly what the checked parsers give.
describe('the unchecked splitters matching uses', () => {
  it('split every valid pattern as parsePattern parses it', () => {
    const patterns = [
      '/',
      '/users/',
      '/api/v1/users/:id',
      '/api/v1/users/:id/posts/:post_id',
      '/static/*',
      '/*',
      '/api/v1/users*',
      '/m%65/%7Euser',
      '/caf%C3%A9/x*',
      '/a/%2F/b',
      '/files/:name/raw',
    ];
    for (const pattern of patterns) expect(splitPattern(pattern), pattern).toEqual(parsePattern(pattern));
  });

  it('split every valid tag template as parseTagTemplate parses it', () => {
    for (const template of ['users', 'user:{id}', '{a}-{b}', 'post:{id}:comments', '{only}']) {
      expect(splitTemplate(template), template).toEqual(parseTagTemplate(template));
    }
  });
});
