import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../errors.js';
import type { Command } from '../internal/command.js';
import { envValues, positional, stateOptions, withStore } from '../internal/local-state.js';

/** `BUCKET/KEY` split at the first slash. */
export function splitObjectPath(command: string, arg: string): { bucket: string; key: string } {
  const slash = arg.indexOf('/');
  if (slash <= 0 || slash === arg.length - 1) {
    throw new CliError('ERR_USAGE', `${command} takes BUCKET/KEY, got ${JSON.stringify(arg)}`, {
      where: `pyworkers ${command}`,
      hint: 'e.g. media/photos/cat.jpg (bucket "media", key "photos/cat.jpg")',
    });
  }
  return { bucket: arg.slice(0, slash), key: arg.slice(slash + 1) };
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** `pyworkers r2 object put BUCKET/KEY (--file F | --pipe)` */
export const r2ObjectPutCommand = {
  name: 'r2 object put',
  summary: 'upload an object to a local R2 bucket',
  usage:
    'pyworkers r2 object put <bucket>/<key> (--file FILE | --pipe) [--content-type T] [--json]',
  options: {
    ...stateOptions,
    file: {
      type: 'string',
      default: undefined,
      description: 'the file to upload',
      valueName: 'FILE',
      env: ['PYWORKERS_R2_FILE'],
    },
    pipe: {
      type: 'boolean',
      default: false,
      description: 'read the body from stdin',
      env: ['PYWORKERS_R2_PIPE'],
    },
    'content-type': {
      type: 'string',
      default: undefined,
      description: 'httpMetadata.contentType',
      env: ['PYWORKERS_R2_CONTENT_TYPE'],
      valueName: 'T',
    },
  },
  async run(ctx, flags, positionals) {
    const values = envValues(r2ObjectPutCommand.options, flags);
    const { bucket, key } = splitObjectPath(
      'r2 object put',
      positional(
        'r2 object put',
        positionals,
        0,
        'BUCKET/KEY',
        'pyworkers r2 object put media/cat.jpg --file cat.jpg',
      ),
    );
    const file = values.file as string | undefined;
    if ((file === undefined) === (values.pipe !== true)) {
      throw new CliError('ERR_USAGE', 'r2 object put needs exactly one of --file and --pipe', {
        hint: 'e.g. --file cat.jpg',
      });
    }
    const body =
      file === undefined ? await readStdin() : new Uint8Array(readFileSync(resolve(ctx.cwd, file)));
    const contentType = values['content-type'] as string | undefined;
    const object = await withStore(ctx, values, async (store) =>
      (await store.r2(bucket)).put(key, body, contentType ? { httpMetadata: { contentType } } : {}),
    );
    ctx.print(object, `uploaded ${bucket}/${key} (${body.byteLength} bytes, etag ${object?.etag})`);
  },
} satisfies Command;

/** `pyworkers r2 object get BUCKET/KEY [--file F]` */
export const r2ObjectGetCommand = {
  name: 'r2 object get',
  summary: 'download an object from a local R2 bucket (to stdout, or --file)',
  usage: 'pyworkers r2 object get <bucket>/<key> [--file FILE] [--json]',
  options: {
    ...stateOptions,
    file: {
      type: 'string',
      default: undefined,
      description: 'write the body here',
      valueName: 'FILE',
      env: ['PYWORKERS_R2_FILE'],
    },
  },
  async run(ctx, flags, positionals) {
    const values = envValues(r2ObjectGetCommand.options, flags);
    const { bucket, key } = splitObjectPath(
      'r2 object get',
      positional(
        'r2 object get',
        positionals,
        0,
        'BUCKET/KEY',
        'pyworkers r2 object get media/cat.jpg --file cat.jpg',
      ),
    );
    const object = await withStore(ctx, values, async (store) => (await store.r2(bucket)).get(key));
    if (object === null || !('body' in object)) {
      throw new CliError('ERR_USAGE', `object ${bucket}/${key} does not exist`, {
        hint: 'check the bucket and key (r2 object put uploads one)',
      });
    }
    const { body, ...meta } = object;
    const file = values.file as string | undefined;
    if (file !== undefined) {
      writeFileSync(resolve(ctx.cwd, file), body);
      ctx.print(meta, `wrote ${bucket}/${key} to ${file} (${body.byteLength} bytes)`);
    } else if (ctx.json) {
      ctx.print({ ...meta, body: Buffer.from(body).toString('base64') }, '');
    } else {
      process.stdout.write(body);
    }
  },
} satisfies Command;

/** `pyworkers r2 object delete BUCKET/KEY` */
export const r2ObjectDeleteCommand = {
  name: 'r2 object delete',
  summary: 'delete an object from a local R2 bucket',
  usage: 'pyworkers r2 object delete <bucket>/<key> [--json]',
  options: stateOptions,
  async run(ctx, flags, positionals) {
    const values = envValues(r2ObjectDeleteCommand.options, flags);
    const { bucket, key } = splitObjectPath(
      'r2 object delete',
      positional(
        'r2 object delete',
        positionals,
        0,
        'BUCKET/KEY',
        'pyworkers r2 object delete media/cat.jpg',
      ),
    );
    await withStore(ctx, values, async (store) => (await store.r2(bucket)).delete(key));
    ctx.print({ bucket, key, deleted: true }, `deleted ${bucket}/${key}`);
  },
} satisfies Command;
