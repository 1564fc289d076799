/**
 * What tells a changed credential file (src/http/credential-renewal.ts): its inode (a replaced file,
 * a Secret's symlink swap — stat follows symlinks), size and times; an error code when unreadable.
 * Taken before the files are read, so a change while they are being read is seen at the next look.
 */
import { statSync } from 'node:fs';

function fileStamp(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

/** The stamps of `files`, in order, as one string: equal = unchanged. */
export function filesStamp(files: readonly string[]): string {
  return files.map(fileStamp).join('|');
}
