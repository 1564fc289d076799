/**
 * Checks of the output paths the commands are given (`schema --dir`, `generate <dir>`, `replay
 * --out`, `compare --json`), so a wrong kind of path is named for what it is rather than by the
 * errno of the write that trips on it ("cannot write … (EEXIST)", "(ENOTDIR)").
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The file standing where a directory is needed for the directory `path`: `path` itself, or the
 * nearest path above it that exists when that is not a directory (`notes.txt` for
 * `notes.txt/runs/a`: creating the directories failed with a bare ENOTDIR, which did not say which
 * part of the path was a file). Undefined when there is none, or it cannot be told (EACCES on the
 * way: the write names that).
 */
export function fileInTheWay(path: string): string | undefined {
  // `runs/`: stat of a file with a trailing slash fails with ENOTDIR and dirname drops the slash
  // and the name with it (dirname('runs/') is '.'), so the file itself was never looked at
  const bare = path.replace(/(?<=[^/])\/+$/, '');
  for (let p = bare; ; p = dirname(p)) {
    try {
      const st = statSync(p, { throwIfNoEntry: false });
      // the path itself as given (`runs/`), so callers can tell it from a file above it
      if (st !== undefined) return st.isDirectory() ? undefined : p === bare ? path : p;
    } catch (err) {
      // a file above p makes stat fail with ENOTDIR: look further up for it
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') return undefined;
    }
    if (dirname(p) === p) return undefined;
  }
}
