// The newest-first job list of one filter, as far as it has been read: a prefix of the
// daemon's list, ids descending. The API pages with a cursor (the last id read) and has no
// offset, so row N is reached only by reading every page before it; what was read is kept.
// Every read goes through one queue, so the prefix never has two writers; a new filter gets a
// new JobPages and the old one is closed (its late answers are dropped).
import { getJSON, query } from '../api.js';

export const PAGE = 100; // rows per read while scrolling
export const MAX_PAGE = 1000; // rows per read when far behind (End on a long queue)

export class JobPages {
  /** filter: { state, user, partition } as the API takes them; onChange() after every read. */
  constructor(filter, onChange) {
    this.filter = filter;
    this.onChange = onChange;
    this.rows = []; // the jobs read, as slim() keeps them
    this.total = null; // the daemon's count at the last read; null before the first
    this.done = false; // the last job of the list has been read
    this.closed = false;
    this.queue = Promise.resolve();
  }

  /** How many rows the list has, as far as anyone knows. */
  get count() {
    return this.done ? this.rows.length : Math.max(this.total ?? 0, this.rows.length);
  }

  close() { this.closed = true; }

  /** Runs op after every earlier one; nothing runs once the list is closed. */
  run(op) {
    const p = this.queue.then(() => (this.closed ? undefined : op()));
    this.queue = p.catch(() => undefined);
    return p;
  }

  async read(cursor, limit, extra = {}) {
    return getJSON(`/jobs${query({ ...this.filter, order: 'newest', limit, cursor: cursor ?? undefined, ...extra })}`);
  }

  /** Reads the next page if row `index` is not read yet; larger pages the further behind. */
  loadTo(index) {
    return this.run(async () => {
      // an empty list is read again at each poll: refresh has no rows to re-read, and the
      // first job submitted must still appear
      if ((this.done && this.rows.length) || index < this.rows.length) return;
      const limit = Math.min(MAX_PAGE, Math.max(PAGE, index + 1 - this.rows.length));
      const upper = this.rows.length ? this.rows[this.rows.length - 1].job_id : null;
      const page = await this.read(upper, limit);
      this.merge(upper, page.jobs, page.next_cursor, page.total);
    });
  }

  /**
   * Reads rows a..b again (state changes, jobs that left or joined the filter there). Jobs
   * submitted meanwhile push row b down: reading goes on until it is passed, so the prefix
   * never has a hole.
   */
  refresh(a, b) {
    return this.run(async () => {
      b = Math.min(b, this.rows.length - 1);
      if (a > b) return;
      const upper = a > 0 ? this.rows[a - 1].job_id : null;
      const target = this.rows[b].job_id;
      let jobs = [];
      let page = { next_cursor: upper };
      do {
        page = await this.read(page.next_cursor, Math.min(MAX_PAGE, b - a + 1));
        jobs = jobs.concat(page.jobs);
      } while (page.next_cursor !== null && jobs[jobs.length - 1].job_id > target && !this.closed);
      this.merge(upper, jobs, page.next_cursor, page.total);
    });
  }

  /**
   * Reads the given jobs again (the rows in view when they are scattered, as under the free
   * text search). A job that no longer matches the filter leaves the list.
   */
  refreshIds(ids) {
    return this.run(async () => {
      if (!ids.length) return;
      const top = Math.max(...ids);
      // from just above the newest one: an array's id also selects its tasks, maybe many
      const page = await this.read(top + 1, MAX_PAGE, { ids: ids.join(',') });
      const low = page.next_cursor === null ? -Infinity : page.jobs[page.jobs.length - 1].job_id;
      const fresh = new Map(page.jobs.map((j) => [j.job_id, j]));
      const asked = new Set(ids.filter((id) => id >= low));
      this.rows = this.rows.flatMap((r) => (!asked.has(r.job_id) ? [r] : fresh.has(r.job_id) ? [slim(fresh.get(r.job_id))] : []));
      this.onChange();
    });
  }

  /**
   * Puts `jobs` (the list's jobs below id `upper`, all of them when `next` is null, else down
   * to the last one) in place of the rows read before in that id range.
   */
  merge(upper, jobs, next, total) {
    if (this.closed) return;
    const i0 = upper === null ? 0 : this.indexBelow(upper);
    const i1 = next === null ? this.rows.length : this.indexBelow(jobs[jobs.length - 1].job_id);
    if (i1 === this.rows.length) this.done = next === null; // the read reached past the prefix's end
    this.rows = this.rows.slice(0, i0).concat(jobs.map(slim), this.rows.slice(i1));
    this.total = total;
    this.onChange();
  }

  /** The index of the first row with an id below `id` (rows.length if none). */
  indexBelow(id) {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid].job_id < id) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** The fields the table shows: tens of thousands of rows are kept, so not the whole job. */
function slim(j) {
  return {
    job_id: j.job_id, display_id: j.display_id, partition: j.partition, name: j.name, user_name: j.user_name,
    job_state: j.job_state, state_reason: j.state_reason, start_time: j.start_time, end_time: j.end_time,
    nodes: j.nodes, node_count: j.node_count || j.minimum_nodes || 1, exit_code: j.exit_code, exit_signal: j.exit_signal,
  };
}

/** The index of the job `id` in rows sorted by id descending, or -1. */
export function indexOfId(rows, id) {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = rows[mid].job_id;
    if (at === id) return mid;
    if (at > id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
