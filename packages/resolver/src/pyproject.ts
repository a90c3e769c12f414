import { issuePath } from '@pyworkers/common';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ResolverError } from './errors.js';
import { parseRequirement, type Requirement } from './requirement.js';

const projectSchema = z.object({
  name: z.string().min(1),
  'requires-python': z.string().optional(),
  dependencies: z.array(z.string()).default([]),
  'optional-dependencies': z.record(z.string(), z.array(z.string())).default({}),
});

/** The dependency-related parts of a pyproject.toml. */
export interface PyprojectDependencies {
  name: string;
  requiresPython: string | undefined;
  dependencies: Requirement[];
  optionalDependencies: Record<string, Requirement[]>;
}

/**
 * Reads `[project]` of a pyproject.toml: the name, `requires-python` and the requirements.
 * @param file used in error messages
 */
export function readPyprojectDependencies(
  text: string,
  file = 'pyproject.toml',
): PyprojectDependencies {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    throw new ResolverError(
      'ERR_PYPROJECT',
      `${file} is not valid TOML: ${(cause as Error).message.split('\n')[0]}`,
      { cause },
    );
  }
  const parsed = projectSchema.safeParse(doc.project);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = `[project]${issuePath(issue.path)}`;
    throw new ResolverError('ERR_PYPROJECT', `${file}: ${where}: ${issue.message}`);
  }
  const p = parsed.data;
  const req = (key: string) => (s: string, i: number) => {
    try {
      return parseRequirement(s);
    } catch (cause) {
      throw new ResolverError(
        'ERR_PYPROJECT',
        `${file}: ${key}[${i}]: ${(cause as Error).message}`,
        { cause },
      );
    }
  };
  return {
    name: p.name,
    requiresPython: p['requires-python'],
    dependencies: p.dependencies.map(req('[project].dependencies')),
    optionalDependencies: Object.fromEntries(
      Object.entries(p['optional-dependencies']).map(([extra, list]) => [
        extra,
        list.map(req(`[project].optional-dependencies.${extra}`)),
      ]),
    ),
  };
}
