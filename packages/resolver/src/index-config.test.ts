import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PYPI_URL, resolveIndexConfig } from './index-config.js';

const PYPROJECT = `
[project]
name = "demo"
[[tool.uv.index]]
name = "internal"
url = "https://internal.example/simple/"
[[tool.uv.index]]
name = "mirror"
url = "https://mirror.example/simple"
default = true
[[tool.uv.index]]
name = "torch"
url = "https://torch.example/whl"
explicit = true
[tool.uv.sources]
Torch_Vision = { index = "torch" }
`;

const urls = (c: ReturnType<typeof resolveIndexConfig>) => c.indexes.map((i) => i.url);

describe('resolveIndexConfig', () => {
  it('defaults to PyPI and unsafe-best-match', () => {
    const c = resolveIndexConfig({});
    expect(urls(c)).toEqual([PYPI_URL]);
    expect(c.strategy).toBe('unsafe-best-match');
  });

  it('orders pyproject indexes before the default one and keeps explicit ones aside', () => {
    const c = resolveIndexConfig({ pyproject: PYPROJECT });
    expect(urls(c)).toEqual(['https://internal.example/simple', 'https://mirror.example/simple']);
    expect(c.explicit.map((i) => i.name)).toEqual(['torch']);
    expect(c.pins.get('torch-vision')).toBe('torch');
  });

  it('lets env win over pyproject and options over env', () => {
    const env = {
      UV_DEFAULT_INDEX: 'https://env-default.example/simple',
      UV_INDEX: 'team=https://team.example/simple https://other.example/simple',
      UV_EXTRA_INDEX_URL: 'https://extra.example/simple',
      PIP_EXTRA_INDEX_URL: 'file:///srv/wheels',
      UV_INDEX_STRATEGY: 'first-index',
    };
    const c = resolveIndexConfig({ pyproject: PYPROJECT, env });
    expect(urls(c)).toEqual([
      'https://team.example/simple',
      'https://other.example/simple',
      'https://extra.example/simple',
      'file:///srv/wheels',
      'https://internal.example/simple',
      'https://env-default.example/simple',
    ]);
    expect(c.indexes[0]!.name).toBe('team');
    expect(c.strategy).toBe('first-index');

    const o = resolveIndexConfig({
      pyproject: PYPROJECT,
      env,
      indexUrl: 'http://127.0.0.1:9/simple',
      extraIndexUrls: ['http://127.0.0.1:8/simple'],
      indexStrategy: 'unsafe-first-match',
    });
    expect(urls(o)).toEqual([
      'http://127.0.0.1:8/simple',
      'https://internal.example/simple',
      'http://127.0.0.1:9/simple',
    ]);
    expect(o.strategy).toBe('unsafe-first-match');
  });

  it('falls back through UV_INDEX_URL and PIP_INDEX_URL', () => {
    expect(
      urls(resolveIndexConfig({ env: { PIP_INDEX_URL: 'https://pip.example/simple' } })),
    ).toEqual(['https://pip.example/simple']);
    expect(
      urls(
        resolveIndexConfig({
          env: {
            PIP_INDEX_URL: 'https://pip.example/simple',
            UV_INDEX_URL: 'https://uv.example/s',
          },
        }),
      ),
    ).toEqual(['https://uv.example/s']);
  });

  it('takes directory paths, relative to pyproject.toml for its entries', async () => {
    const root = await mkdtemp(join(tmpdir(), 'index-config-'));
    await mkdir(join(root, 'proj', 'wheels'), { recursive: true });
    await mkdir(join(root, 'elsewhere'));
    try {
      const c = resolveIndexConfig({
        pyproject: '[[tool.uv.index]]\nname = "local"\nurl = "./wheels"\n',
        pyprojectPath: join(root, 'proj', 'pyproject.toml'),
        env: { UV_INDEX_URL: 'elsewhere' },
        cwd: root,
      });
      expect(urls(c)).toEqual([
        pathToFileURL(join(root, 'proj', 'wheels')).href,
        pathToFileURL(join(root, 'elsewhere')).href,
      ]);
      expect(c.indexes[0]!.name).toBe('local');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('explains bad settings', () => {
    expect(() => resolveIndexConfig({ env: { UV_INDEX_STRATEGY: 'fastest' } })).toThrow(
      /UV_INDEX_STRATEGY: unknown index strategy "fastest" \(use one of first-index/,
    );
    expect(() => resolveIndexConfig({ indexUrl: 'pypi.org/simple' })).toThrow(
      /--index-url: "pypi.org\/simple" is neither a URL \(e.g. https:\/\/pypi.org\/simple\) nor an existing directory/,
    );
    expect(() => resolveIndexConfig({ indexUrl: 'ftp://x/simple' })).toThrow(
      /must be an http\(s\):\/\/ or file:\/\/ URL, or a directory path/,
    );
    expect(() =>
      resolveIndexConfig({ pyproject: '[tool.uv.sources]\nfoo = { index = "nope" }\n' }),
    ).toThrow(/\[tool\.uv\.sources\]\.foo: no index named "nope"/);
    expect(() =>
      resolveIndexConfig({ pyproject: '[tool.uv.sources]\nfoo = { git = "https://x/y" }\n' }),
    ).toThrow(/only index sources/);
    expect(() =>
      resolveIndexConfig({ pyproject: '[[tool.uv.index]]\nname = "a"\n', pyprojectPath: 'p.toml' }),
    ).toThrow(/p\.toml: \[tool\.uv\]\.index\[0\]\.url/);
  });
});
