import { describe, expect, it } from 'vitest';
import { ResolverError } from '../errors.js';
import { parseHtmlPage, parseJsonPage, versionFromFilename } from './project-page.js';

const PAGE = 'https://example.test/simple/my-pkg/';

describe('parseHtmlPage', () => {
  it('reads the PEP 503/592/658/714 attributes in their many spellings', () => {
    const html = `<!DOCTYPE html><html><head>
      <meta name="pypi:repository-version" content="1.3"></head><body>
      <A HREF="../../files/my_pkg-1.0-py3-none-any.whl#sha256=ABCDEF" data-requires-python="&gt;=3.8,&lt;4">a</A>
      <a href='https://cdn.test/my_pkg-1.1-py3-none-any.whl#sha256=00ff' data-yanked>b</a>
      <a href="my_pkg-1.2-py3-none-any.whl" data-yanked="bad &amp; broken" data-dist-info-metadata="true">c</a>
      <a href="my_pkg-1.3-py3-none-any.whl" data-core-metadata="sha256=BEEF" data-dist-info-metadata="sha256=dead">d</a>
      <a href="my-pkg-1.4.tar.gz">e</a>
      <a name="no-href">f</a>
    </body></html>`;
    const page = parseHtmlPage(html, PAGE, 'My_Pkg', 'idx');
    expect(page.name).toBe('my-pkg');
    const [a, b, c, d, e] = page.files;
    expect(page.files).toHaveLength(5);
    expect(a).toMatchObject({
      url: 'https://example.test/files/my_pkg-1.0-py3-none-any.whl',
      hashes: { sha256: 'abcdef' },
      requiresPython: '>=3.8,<4',
      yanked: false,
      version: '1.0',
      source: 'idx',
    });
    expect(a!.metadataUrl).toBeUndefined();
    expect(b).toMatchObject({ url: 'https://cdn.test/my_pkg-1.1-py3-none-any.whl', yanked: true });
    expect(c).toMatchObject({
      yanked: 'bad & broken',
      metadataUrl: 'https://example.test/simple/my-pkg/my_pkg-1.2-py3-none-any.whl.metadata',
    });
    expect(c!.metadataHashes).toBeUndefined();
    expect(d!.metadataHashes).toEqual({ sha256: 'beef' });
    expect(e).toMatchObject({ filename: 'my-pkg-1.4.tar.gz', version: '1.4' });
  });

  it('honours <base href>', () => {
    const page = parseHtmlPage(
      '<base href="https://mirror.test/packages/"><a href="x-1.0-py3-none-any.whl">x</a>',
      PAGE,
      'x',
      'idx',
    );
    expect(page.files[0]!.url).toBe('https://mirror.test/packages/x-1.0-py3-none-any.whl');
  });

  it('refuses a page of an unknown major API version', () => {
    expect(() =>
      parseHtmlPage('<meta name="pypi:repository-version" content="2.0">', PAGE, 'x', 'idx'),
    ).toThrow(ResolverError);
  });
});

describe('parseJsonPage', () => {
  it('reads PEP 691 files, relative URLs resolved against the page', () => {
    const page = parseJsonPage(
      JSON.stringify({
        meta: { 'api-version': '1.1' },
        name: 'my-pkg',
        files: [
          {
            filename: 'my_pkg-1.0-py3-none-any.whl',
            url: '../../files/my_pkg-1.0-py3-none-any.whl',
            hashes: { SHA256: 'AA' },
            'requires-python': null,
            'core-metadata': { sha256: 'BB' },
            yanked: 'reason',
            size: 10,
          },
          {
            filename: 'my_pkg-1.1-py3-none-any.whl',
            url: 'https://x.test/f.whl',
            hashes: {},
            'dist-info-metadata': true,
          },
        ],
      }),
      PAGE,
      'my-pkg',
      'idx',
    );
    expect(page.files[0]).toMatchObject({
      url: 'https://example.test/files/my_pkg-1.0-py3-none-any.whl',
      hashes: { sha256: 'aa' },
      metadataHashes: { sha256: 'bb' },
      yanked: 'reason',
      size: 10,
      version: '1.0',
    });
    expect(page.files[0]!.requiresPython).toBeUndefined();
    expect(page.files[1]).toMatchObject({
      filename: 'my_pkg-1.1-py3-none-any.whl',
      metadataUrl: 'https://x.test/f.whl.metadata',
    });
  });

  it('says where a malformed page is wrong', () => {
    const bad = () =>
      parseJsonPage(
        '{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a"}]}',
        PAGE,
        'x',
        'idx',
      );
    expect(bad).toThrow(/\.files\[0\]\.url/);
    expect(() => parseJsonPage('<html>', PAGE, 'x', 'idx')).toThrow(/invalid JSON/);
  });
});

describe('versionFromFilename', () => {
  it.each([
    ['python_dateutil-2.9.0.post0-py2.py3-none-any.whl', 'python-dateutil', '2.9.0.post0'],
    ['zope.interface-7.2.tar.gz', 'zope-interface', '7.2'],
    ['my-long-name-1.0rc1.zip', 'my_long_name', '1.0rc1'],
    ['other-1.0.tar.gz', 'my-pkg', undefined],
  ])('%s -> %s', (file, project, version) => {
    expect(versionFromFilename(file, project)).toBe(version);
  });
});

describe('file names from an index', () => {
  it('refuses names that are paths', () => {
    const page = (filename: string) =>
      JSON.stringify({
        meta: { 'api-version': '1.0' },
        name: 'x',
        files: [{ filename, url: 'https://x.test/f.whl', hashes: {} }],
      });
    expect(() => parseJsonPage(page('../../evil.whl'), PAGE, 'x', 'idx')).toThrow(
      /not a plain file name/,
    );
    expect(() => parseHtmlPage('<a href="a%2F..%2Fb.whl">x</a>', PAGE, 'x', 'idx')).toThrow(
      /not a plain file name/,
    );
  });
});
