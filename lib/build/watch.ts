// Watching the files a build read, for `sbc build --watch`. Editors save by writing a new file and renaming
// it over the old one, which ends a watch on the file itself, so the directories are watched and events are
// filtered by name; a burst of events (save, format-on-save, git checkout) becomes one rebuild.

import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface InputWatcher {
  close(): void;
}

/**
 * Call `onChange` with the changed files once no watched file has changed for `debounceMs`. Directories that
 * cannot be watched (removed meanwhile) are skipped: the next build reports the missing file.
 */
export function watchInputs(files: readonly string[], onChange: (changed: readonly string[]) => void, debounceMs = 100): InputWatcher {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const d = dirname(f);
    if (!byDir.has(d)) byDir.set(d, new Set());
    byDir.get(d)!.add(basename(f));
  }
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: true }, (_event, name) => {
        // Some platforms do not say which file changed: then any event in the directory counts.
        const n = name?.toString();
        if (closed || (n !== undefined && !names.has(n))) return;
        pending.add(n !== undefined ? join(dir, n) : dir);
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (closed) return;
          const changed = [...pending].sort();
          pending.clear();
          onChange(changed);
        }, debounceMs);
      });
      w.on("error", () => w.close());
      watchers.push(w);
    } catch {
      // not watchable now; see above
    }
  }
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
