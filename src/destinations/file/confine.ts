import { mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, normalize, relative, sep } from 'node:path';
import { FatalError } from '../destination.js';

/**
 * Where a file destination may write: inside the data directory, or inside one of the
 * operator's allowed roots (TRIBUTARY_FILE_ROOTS). A stream's `root` comes from an API caller,
 * so it is a path into the server's file system: refused when relative, not normalized, with a
 * `..` segment, outside every allowed base, or — checked on the real path once it exists — a
 * symlink that leads out of them.
 */
export function inside(path: string, base: string): boolean {
  const rel = relative(base, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export function confineRoot(root: string, bases: readonly string[]): string {
  if (!isAbsolute(root) || normalize(root) !== root.replace(/\/+$/, '') || root.split('/').includes('..')) {
    throw new FatalError(`file destination: root must be an absolute, normalized path without ".." (got ${root})`);
  }
  if (!bases.some((b) => inside(root, b))) {
    throw new FatalError(`file destination: root ${root} is outside the data directory and the allowed roots; pick a directory under ${bases.join(' or ')} (operators allow more with TRIBUTARY_FILE_ROOTS)`);
  }
  return root;
}

/** Creates the root and checks that its real path (symlinks resolved) is still inside a base. */
export async function ensureRealRoot(root: string, bases: readonly string[]): Promise<void> {
  await mkdir(root, { recursive: true });
  const real = await realpath(root);
  const realBases = await Promise.all(bases.map((b) => realpath(b).catch(() => b)));
  if (!realBases.some((b) => inside(real, b))) {
    throw new FatalError(`file destination: ${root} resolves to ${real} through a symbolic link, outside the data directory and the allowed roots`);
  }
}
