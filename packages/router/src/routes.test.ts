import { describe, expect, it } from 'vitest';
import { RouterError } from './errors.js';
import { RouteTable } from './routes.js';

describe('RouteTable', () => {
  const table = new RouteTable([
    { worker: 'root', route: {} },
    { worker: 'api', route: { pathPrefix: '/api' } },
    { worker: 'apiv2', route: { pathPrefix: '/api/v2/' } },
    { worker: 'shop', route: { host: 'shop.example' } },
  ]);

  it('prefers a host route, then the longest path prefix', () => {
    expect(table.match('shop.example:8787', '/api/x')).toBe('shop');
    expect(table.match('127.0.0.1', '/api/v2/items')).toBe('apiv2');
    expect(table.match('127.0.0.1', '/api/v1')).toBe('api');
    expect(table.match('127.0.0.1', '/api')).toBe('api');
    expect(table.match('127.0.0.1', '/apix')).toBe('root');
  });

  it('answers undefined when nothing matches', () => {
    expect(
      new RouteTable([{ worker: 'a', route: { pathPrefix: '/a' } }]).match(undefined, '/b'),
    ).toBeUndefined();
  });

  it('refuses two workers on the same route', () => {
    expect(
      () =>
        new RouteTable([
          { worker: 'a', route: { pathPrefix: '/x' } },
          { worker: 'b', route: { pathPrefix: '/x/' } },
        ]),
    ).toThrow(RouterError);
  });
});
