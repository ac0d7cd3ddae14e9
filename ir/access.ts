// Filesystem access classes. Each atomic class is small enough to map onto one Landlock right (or a fixed
// set of them) and onto SBPL operations; groups are shorthands that expand to atomic classes.

/** Atomic access classes, in canonical order (the order used in the IR and in docs). */
export const ACCESS_CLASSES = [
  "read", // read a file's contents
  "list", // list a directory's entries
  "execute", // execute a file (and map it executable)
  "write", // change the contents of an existing file
  "truncate", // truncate an existing file (O_TRUNC, truncate(2))
  "ioctl", // ioctl on a device file
  "create-file", // create a regular file
  "create-dir", // create a directory
  "create-symlink", // create a symbolic link
  "create-special", // create a FIFO, a socket file or a device node
  "delete-file", // unlink a file, symlink or special file
  "delete-dir", // remove a directory
  "rename", // move or link an entry from one directory to another
] as const;

export type Access = (typeof ACCESS_CLASSES)[number];

export const ACCESS_GROUPS: Readonly<Record<string, readonly Access[]>> = {
  "read-only": ["read", "list", "execute"],
  create: ["create-file", "create-dir", "create-symlink", "create-special"],
  delete: ["delete-file", "delete-dir"],
  modify: [
    "write",
    "truncate",
    "create-file",
    "create-dir",
    "create-symlink",
    "create-special",
    "delete-file",
    "delete-dir",
    "rename",
  ],
  "read-write": [...ACCESS_CLASSES],
};

export const ACCESS_GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "read-only": "read files, list directories and execute programs",
  create: "create files, directories, symlinks and special files",
  delete: "delete files and directories",
  modify: "every change: write, truncate, create, delete and rename",
  "read-write": "every access class",
};

/** Every word accepted where an access is expected (classes and groups). */
export const ACCESS_WORDS: readonly string[] = [...ACCESS_CLASSES, ...Object.keys(ACCESS_GROUPS)];

const ORDER = new Map<string, number>(ACCESS_CLASSES.map((a, i) => [a, i]));

export function isAccess(word: string): word is Access {
  return ORDER.has(word);
}

/** Expand classes and groups to a sorted, de-duplicated list of atomic classes. */
export function expandAccess(words: readonly string[]): Access[] {
  const set = new Set<Access>();
  for (const w of words) {
    if (isAccess(w)) set.add(w);
    else for (const a of ACCESS_GROUPS[w] ?? []) set.add(a);
  }
  return sortAccess(set);
}

export function sortAccess(set: Iterable<Access>): Access[] {
  return [...new Set(set)].sort((a, b) => ORDER.get(a)! - ORDER.get(b)!);
}
