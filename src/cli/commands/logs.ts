/** grm logs <id> [-f]: pages through /logs with `after`; -f polls until the job has ended. */
import type { ApiClient } from '../api-client.js';
import type { CliIo } from '../io.js';
import { TERMINAL_STATES } from '../../jobs/job-types.js';
import { escapeControls } from '../terminal-safe.js';

interface LogPage {
  job_state: string;
  lines: { seq: number; time: string; source: string; line: string }[];
  last_seq: number;
}

const ENDED: ReadonlySet<string> = TERMINAL_STATES;
const PAGE = 10000;

export interface LogsOptions {
  client: ApiClient;
  id: string;
  io: CliIo;
  source: string | undefined;
  /** Only lines of this task rank (srun --label). */
  rank?: number;
  /** Only lines of this run of a requeued job (0: the first). */
  run?: number;
  /** Include the GRM's own lines (state changes...) besides the master's output. */
  all: boolean;
  timestamps: boolean;
  pollMs?: number;
}

async function page(o: LogsOptions, after: number): Promise<LogPage> {
  const params = new URLSearchParams({ after: String(after), limit: String(PAGE) });
  if (o.source) params.set('source', o.source);
  if (o.rank !== undefined) params.set('rank', String(o.rank));
  if (o.run !== undefined) params.set('run', String(o.run));
  return o.client.request<LogPage>('GET', `/api/v1/jobs/${encodeURIComponent(o.id)}/logs?${params}`);
}

function print(o: LogsOptions, all: LogPage['lines']): void {
  // Without --source or --all: the master's output only, as `grm logs` promises.
  const lines = o.source || o.all ? all : all.filter((l) => l.source !== 'grm');
  if (lines.length === 0) return;
  // a line keeps its tabs; every other control character is shown, not obeyed
  const line = (l: LogPage['lines'][number]) => escapeControls(l.line, '\t');
  const text = lines.map((l) => (o.timestamps ? `${escapeControls(l.time)} ${escapeControls(l.source)}: ${line(l)}` : line(l))).join('\n');
  o.io.stdout(`${text}\n`);
}

/** Prints everything stored now. Returns the last page's job state and seq. */
export async function printLogs(o: LogsOptions, from = 0): Promise<{ state: string; after: number }> {
  let after = from;
  for (;;) {
    const p = await page(o, after);
    print(o, p.lines);
    after = p.last_seq;
    if (p.lines.length < PAGE) return { state: p.job_state, after };
  }
}

export async function followLogs(o: LogsOptions): Promise<void> {
  let after = 0;
  for (;;) {
    const { state, after: next } = await printLogs(o, after);
    after = next;
    // The state is read before the lines: once it says ended, every line was in this read.
    if (ENDED.has(state)) return;
    await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
}
