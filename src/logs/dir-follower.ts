/**
 * Finds the files a runtime writes under its log folder (COMPSs: runtime.log, resources.log,
 * jobs/job3_NEW.out, workers/<node>/...) as they appear, so each becomes a log source of its
 * own ("compss:jobs/job3_NEW.out"). Scans on a timer: COMPSs creates files in nested folders,
 * where a single fs.watch is not recursive on Linux.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DirectoryFollowerOptions {
  dir: string;
  /** Source name prefix: "compss" gives "compss:runtime.log". */
  prefix: string;
  intervalMs: number;
  /** Called once per new file. */
  onFile: (source: string, file: string) => void;
}

export class DirectoryFollower {
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: DirectoryFollowerOptions) {}

  start(): this {
    this.scan();
    this.timer = setInterval(() => this.scan(), this.o.intervalMs);
    this.timer.unref();
    return this;
  }

  /** One last scan (files written just before the runtime exited), then stop. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.scan();
  }

  scan(): void {
    for (const file of listFiles(this.o.dir)) {
      if (this.seen.has(file)) continue;
      this.seen.add(file);
      this.o.onFile(`${this.o.prefix}:${path.relative(this.o.dir, file)}`, file);
    }
  }
}

function listFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...listFiles(p));
    else if (e.isFile()) files.push(p);
  }
  return files;
}
