/**
 * Checks of the output paths the commands are given (`schema --dir`, `generate <dir>`, `replay
 * --out`, `compare --json`), so a wrong kind of path is named for what it is rather than by the
 * errno of the write that trips on it ("cannot write … (EEXIST)", "(ENOTDIR)").
 */
import { statSync } from 'node:fs';

/** Whether something other than a directory is at `path` (false when nothing is, or it cannot be told: the write names that). */
export function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === false;
  } catch {
    return false;
  }
}
