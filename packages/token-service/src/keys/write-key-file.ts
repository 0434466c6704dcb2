import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Options of {@link writeKeyFile}. */
export interface WriteKeyFileOptions {
  /** Replace an existing regular file. Default: refuse (`EEXIST`). */
  force?: boolean;
}

/** Why {@link writeKeyFile} refused; `code` is a Node error code (`EEXIST`, `ELOOP`, `EISDIR`, …). */
export class KeyFileError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'KeyFileError';
    this.code = code;
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates `path` exclusively (never through a symbolic link) with mode 600,
 * writes `text` and syncs it. On failure the file it created is removed.
 */
function writeNewPrivateFile(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    try {
      // The umask may have removed bits from 0o600; it can never have added any. Make it exactly 600.
      fchmodSync(fd, 0o600);
      const bytes = Buffer.from(text, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    removeQuietly(path);
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Writes a secret file (a private key set) so that it is never readable by
 * anyone but its owner, not even for a moment, and never through a symbolic
 * link:
 *
 * - a target that is a symbolic link is refused (`ELOOP`), as is one that is
 *   not a regular file (`EISDIR`, …);
 * - without `force`, an existing target is refused (`EEXIST`); the file is
 *   created exclusively with mode 600;
 * - with `force`, the text goes to a new temporary file in the same folder
 *   (created exclusively, mode 600, synced), which is then renamed over the
 *   target: the old file is replaced whole, its permissions do not carry over,
 *   and a crash leaves either the old file or the new one.
 *
 * @example
 * ```ts
 * writeKeyFile('keys.json', JSON.stringify(await generateKeySet(), null, 2), { force: true });
 * ```
 */
export function writeKeyFile(path: string, text: string, options: WriteKeyFileOptions = {}): void {
  const target = resolve(path);
  const existing = lstatOrUndefined(target);
  if (existing?.isSymbolicLink()) throw new KeyFileError('ELOOP', `${path} is a symbolic link; refusing to write a key file through it`);
  if (existing && !existing.isFile()) throw new KeyFileError('EISDIR', `${path} is not a regular file`);
  if (existing && !options.force) throw new KeyFileError('EEXIST', `${path} exists; pass --force to overwrite it`);
  if (!existing) {
    // Exclusive creation: a file or link that appeared since is refused (EEXIST), never followed.
    writeNewPrivateFile(target, text);
    return;
  }
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  writeNewPrivateFile(temporary, text);
  try {
    // rename replaces the directory entry itself: a link put there since is replaced, not followed.
    renameSync(temporary, target);
  } catch (error) {
    removeQuietly(temporary);
    throw error;
  }
}
