import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FatalError, RetryableError } from '../destination.js';

/**
 * The durability primitives of the file destination. A file becomes visible only by a rename
 * of a complete, fsynced file, followed by an fsync of the directory so the rename itself
 * survives a power cut.
 */
export async function fsyncPath(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Moves a complete file to its public name (creating its directory) and makes the move durable. */
export async function publish(from: string, to: string): Promise<void> {
  await fsyncPath(from);
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
  await fsyncPath(dirname(to));
}

/** `2026-11-29` and `04` for a UTC instant: the hourly layout of both formats. */
export function hourParts(d: Date): { day: string; hour: string } {
  const iso = d.toISOString();
  return { day: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/** A unique, sortable part name: time first so a directory listing is in write order. */
export function partName(d: Date): string {
  return `${d.getTime().toString(36).padStart(9, '0')}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Permission and path problems need an operator; anything else (disk full, I/O) may heal. */
export function toFileError(err: unknown): Error {
  if (err instanceof FatalError || err instanceof RetryableError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = `file destination: ${(err as Error).message ?? String(err)}`;
  return ['EACCES', 'EPERM', 'ENOTDIR', 'EROFS', 'EISDIR'].includes(code) ? new FatalError(message) : new RetryableError(message);
}
