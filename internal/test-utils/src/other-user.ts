import { statSync } from "node:fs";
import { dirname } from "node:path";

/** True when every directory above `file` can be traversed, and `file` read, by other users. */
export function readableByOthers(file: string): boolean {
  let path = file;
  if ((statSync(path).mode & 0o004) === 0) return false;
  while (path !== dirname(path)) {
    path = dirname(path);
    if ((statSync(path).mode & 0o001) === 0) return false;
  }
  return true;
}
