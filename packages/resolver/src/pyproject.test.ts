import { describe, expect, it } from 'vitest';
import { readPyprojectDependencies } from './pyproject.js';

describe('readPyprojectDependencies', () => {
  it('reads dependencies and extras from [project]', () => {
    const deps = readPyprojectDependencies(`
[project]
name = "demo"
requires-python = ">=3.12"
dependencies = ["fastapi>=0.110", "jinja2"]
[project.optional-dependencies]
http = ["httpx"]
`);
    expect(deps.name).toBe('demo');
    expect(deps.dependencies.map((d) => d.key)).toEqual(['fastapi', 'jinja2']);
    expect(deps.optionalDependencies.http?.[0]?.key).toBe('httpx');
  });

  it('points at the bad entry', () => {
    expect(() =>
      readPyprojectDependencies(
        '[project]\nname = "x"\ndependencies = ["ok", "bad >> 1"]\n',
        'p/pyproject.toml',
      ),
    ).toThrow(/p\/pyproject\.toml: \[project\]\.dependencies\[1\]: invalid requirement "bad >> 1"/);
    expect(() => readPyprojectDependencies('[project]\ndependencies = []\n')).toThrow(
      /\[project\]\.name/,
    );
  });
});
