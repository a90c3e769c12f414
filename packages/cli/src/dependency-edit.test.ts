import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { addDependencies, removeDependencies } from './dependency-edit.js';
import { CliError } from './errors.js';

const F = 'pyproject.toml';
const deps = (text: string): unknown =>
  (parse(text) as { project: { dependencies: unknown } }).project.dependencies;

describe('addDependencies', () => {
  it('appends to a multi-line array, keeping comments, indentation and trailing commas', () => {
    const text = `# top comment
[project]
name = "demo"  # the name
dependencies = [
  "flask>=3",   # web
  # a comment line
  'requests',
]

[tool.pyworkers]
main = "src/entry.py"
`;
    const out = addDependencies(text, F, ['tinyhttp==1.0']).text;
    expect(out).toBe(text.replace("  'requests',\n", "  'requests',\n  'tinyhttp==1.0',\n"));
    expect(deps(out)).toEqual(['flask>=3', 'requests', 'tinyhttp==1.0']);
  });

  it('adds a comma when the last element had none, and keeps its comment', () => {
    const text = '[project]\nname = "x"\ndependencies = [\n    "a",\n    "b"  # why b\n]\n';
    const out = addDependencies(text, F, ['c']).text;
    expect(out).toBe(
      '[project]\nname = "x"\ndependencies = [\n    "a",\n    "b",  # why b\n    "c"\n]\n',
    );
  });

  it('appends to single-line and empty arrays', () => {
    expect(addDependencies('[project]\ndependencies = ["a", "b"]\n', F, ['c']).text).toBe(
      '[project]\ndependencies = ["a", "b", "c"]\n',
    );
    expect(addDependencies('[project]\ndependencies = []\n', F, ['c']).text).toBe(
      '[project]\ndependencies = [\n    "c",\n]\n',
    );
  });

  it('replaces a requirement with the same normalised name in place', () => {
    const text = '[project]\ndependencies = [\n  "Tiny_Http>=1",  # pinned\n  "b",\n]\n';
    const edit = addDependencies(text, F, ['tiny-http==2']);
    expect(edit.text).toBe('[project]\ndependencies = [\n  "tiny-http==2",  # pinned\n  "b",\n]\n');
    expect(edit.replaced).toEqual(['tiny-http==2']);
  });

  it('creates the key at the end of [project] when it is missing', () => {
    const text = '[project]\nname = "x"\nversion = "1"\n\n[tool.pyworkers]\n';
    const out = addDependencies(text, F, ['a', 'b']).text;
    expect(out).toBe(
      '[project]\nname = "x"\nversion = "1"\ndependencies = [\n    "a",\n    "b",\n]\n\n[tool.pyworkers]\n',
    );
  });

  it('finds [project] however its header is spelled (a quoted key with a \\U escape)', () => {
    // `["\U00000070roject"]` is `[project]`: the hand-written scanner read the escape as text,
    // found no [project] table and refused the file.
    const text = '["\\U00000070roject"]\nname = "x"\ndependencies = ["a"]\n';
    expect(addDependencies(text, F, ['b']).text).toBe(
      '["\\U00000070roject"]\nname = "x"\ndependencies = ["a", "b"]\n',
    );
  });

  it('edits only [project].dependencies, not look-alikes in strings and other tables', () => {
    const text = `[project]
name = "x"
description = '''
dependencies = ["in-a-string"]
'''
urls = { dependencies = "in an inline table" }
dependencies = [
  "a",  # a comment with ] and " in it
  # "commented-out",
  "b"   # last, no comma
]

[[project.authors]]
dependencies = ["in-an-array-table"]

[tool.other]
dependencies = ["in-another-table"]
`;
    const added = addDependencies(text, F, ['c']).text;
    expect(added).toBe(
      text.replace('  "b"   # last, no comma\n', '  "b",   # last, no comma\n  "c"\n'),
    );
    expect(removeDependencies(added, F, ['a']).text).toBe(
      added.replace('  "a",  # a comment with ] and " in it\n', ''),
    );
  });

  it("keeps a Windows file's CRLF line breaks in the lines it adds and removes", () => {
    const text = '[project]\r\nname = "x"\r\ndependencies = [\r\n  "a",\r\n  "b"\r\n]\r\n';
    const added = addDependencies(text, F, ['c']).text;
    expect(added).toBe(
      '[project]\r\nname = "x"\r\ndependencies = [\r\n  "a",\r\n  "b",\r\n  "c"\r\n]\r\n',
    );
    expect(removeDependencies(added, F, ['a']).text).toBe(
      '[project]\r\nname = "x"\r\ndependencies = [\r\n  "b",\r\n  "c"\r\n]\r\n',
    );
    expect(addDependencies('[project]\r\nname = "x"\r\n', F, ['c']).text).toBe(
      '[project]\r\nname = "x"\r\ndependencies = [\r\n    "c",\r\n]\r\n',
    );
    expect(addDependencies('[project]\r\ndependencies = []\r\n', F, ['c']).text).toBe(
      '[project]\r\ndependencies = [\r\n    "c",\r\n]\r\n',
    );
  });

  it('says how to fix a file without [project]', () => {
    expect(() => addDependencies('[tool.x]\n', F, ['a'])).toThrow(/has no \[project\] table/);
  });
});

describe('removeDependencies', () => {
  it('drops a whole line with its comment, keeping the rest byte for byte', () => {
    const text = '[project]\ndependencies = [\n  "a",  # keep\n  "b>=2",  # drop me\n  "c",\n]\n';
    expect(removeDependencies(text, F, ['B']).text).toBe(
      '[project]\ndependencies = [\n  "a",  # keep\n  "c",\n]\n',
    );
  });

  it('removes the last element without leaving a dangling comma style change', () => {
    const text = '[project]\ndependencies = [\n  "a",\n  "b"\n]\n';
    const out = removeDependencies(text, F, ['b']).text;
    expect(out).toBe('[project]\ndependencies = [\n  "a"\n]\n');
  });

  it('leaves [] when the last dependency goes, as add found it', () => {
    const text = '[project]\ndependencies = [] # note\n';
    const added = addDependencies(text, F, ['a']).text;
    expect(added).toBe('[project]\ndependencies = [\n    "a",\n] # note\n');
    expect(removeDependencies(added, F, ['a']).text).toBe(text);
  });

  it('edits single-line arrays', () => {
    const t = '[project]\ndependencies = ["a", "b", "c"]\n';
    expect(removeDependencies(t, F, ['a']).text).toBe('[project]\ndependencies = ["b", "c"]\n');
    expect(removeDependencies(t, F, ['c']).text).toBe('[project]\ndependencies = ["a", "b"]\n');
    expect(deps(removeDependencies(t, F, ['a', 'b', 'c']).text)).toEqual([]);
  });

  it('names the missing dependency, the line of the array and the ones that exist', () => {
    try {
      removeDependencies('[project]\nname = "x"\ndependencies = ["a"]\n', F, ['zzz']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).message).toBe('"zzz" is not a dependency of this project');
      expect((e as CliError).where).toBe('pyproject.toml:3 ([project].dependencies)');
      expect((e as CliError).hint).toMatch(/are: a/);
    }
  });
});
