import { existsSync, readdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@pyworkers/common';
import { pinnedPythonVersion } from '../config/compatibility.js';
import { CliError } from '../errors.js';
import { type Command, pickString } from '../internal/command.js';
import { TEMPLATES, type Template, templateFiles } from '../templates.js';

/** Options of {@link initProject}. */
export interface InitOptions {
  template?: Template;
  /** Worker name (default: the directory's name, made valid). */
  name?: string;
}

/** What `init` wrote. */
export interface InitResult {
  dir: string;
  name: string;
  template: Template;
  files: string[];
}

function nameFrom(dir: string): string {
  const cleaned = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '');
  return cleaned || 'worker';
}

/**
 * Creates a worker project that builds and serves at once.
 * @example await initProject('my-worker', { template: 'asgi' });
 */
export function initProject(dirArg: string, options: InitOptions = {}): InitResult {
  const dir = resolve(dirArg);
  const template = options.template ?? 'hello';
  if (!TEMPLATES.includes(template)) {
    throw new CliError('ERR_USAGE', `there is no template "${template}"`, {
      where: '--template',
      hint: `use one of ${TEMPLATES.join(', ')}`,
    });
  }
  for (const existing of ['pyproject.toml', 'wrangler.toml', 'wrangler.jsonc']) {
    if (existsSync(join(dir, existing))) {
      throw new CliError('ERR_PROJECT', `${dir} already has a ${existing}`, {
        where: join(dir, existing),
        hint: 'run init in a new or empty directory (`pyworkers init my-worker`)',
      });
    }
  }
  if (existsSync(join(dir, 'src', 'entry.py'))) {
    throw new CliError('ERR_PROJECT', `${dir} already has src/entry.py`, {
      where: join(dir, 'src', 'entry.py'),
      hint: 'run init in a new or empty directory',
    });
  }
  const name = options.name ?? nameFrom(dir);
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) {
    throw new CliError('ERR_USAGE', `"${name}" cannot be a worker name`, {
      where: '--name',
      hint: 'use letters, digits, - and _ (starting with a letter or digit)',
    });
  }
  const files = templateFiles(template, name, pinnedPythonVersion());
  for (const [path, text] of Object.entries(files)) {
    // An existing .gitignore is the user's: keep it.
    if (path === '.gitignore' && existsSync(join(dir, path))) continue;
    writeFileAtomic(join(dir, path), text);
  }
  return { dir, name, template, files: Object.keys(files).sort() };
}

/** `pyworkers init [dir] [--template hello|asgi|wsgi]` */
export const initCommand = {
  name: 'init',
  summary: 'create a worker project (pyproject.toml, src/entry.py, .gitignore)',
  usage: 'pyworkers init [dir] [--template hello|asgi|wsgi] [--name NAME]',
  options: {
    template: {
      type: 'string',
      default: 'hello',
      description: `project template: ${TEMPLATES.join(', ')}`,
      env: ['PYWORKERS_TEMPLATE'],
      valueName: 'T',
      short: 't',
    },
    name: {
      type: 'string',
      default: '<dir name>',
      description: 'worker name ([project].name)',
      env: ['PYWORKERS_NAME'],
      valueName: 'NAME',
    },
  },
  async run(ctx, values, positionals) {
    const dir = resolve(ctx.cwd, positionals[0] ?? '.');
    const template = (pickString(values.template, ['PYWORKERS_TEMPLATE']) ?? 'hello') as Template;
    const name = pickString(values.name, ['PYWORKERS_NAME']);
    const nonEmpty = existsSync(dir) && readdirSync(dir).length > 0;
    const result = initProject(dir, { template, ...(name ? { name } : {}) });
    const rel = relative(ctx.cwd, dir) || '.';
    const c = ctx.color;
    const next = [
      ...(rel === '.' ? [] : [`  cd ${rel}`]),
      '  pyworkers dev            # serve on http://127.0.0.1:8787 and rebuild on change',
      '  pyworkers add <package>  # add a dependency',
    ];
    ctx.print(
      result,
      [
        `${c.green('created')} ${c.bold(result.name)} (${template}) in ${dir}${nonEmpty ? ' (kept the files already there)' : ''}`,
        ...result.files.map((f) => `  ${c.dim(f)}`),
        '',
        'next:',
        ...next,
      ].join('\n'),
    );
  },
} satisfies Command;
