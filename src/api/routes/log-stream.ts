/**
 * GET /api/v1/jobs/:id/logs/stream: a job's log as Server-Sent Events, from a seq on, live
 * until the job has ended and every line was sent.
 *
 * No gap, no duplicate: the session subscribes first, then alternates between two modes.
 *  - catch-up: reads stored lines after `position` in pages and sends them. Live lines that
 *    arrive meanwhile are ignored: the aggregator notifies only after storing, so the next
 *    read returns them. The read that comes back short (the end of what is stored) and the
 *    switch to live happen in one synchronous step, so nothing can slip in between.
 *  - live: sends what the subscription delivers, skipping seq <= position.
 * This is the "subscribe, buffer, read, drain the buffer" scheme with the store as the buffer:
 * memory stays bounded whatever the job writes.
 * Backpressure: when the socket's buffer is full the session drops back to catch-up and
 * resumes from the store on 'drain', so a slow client slows only itself.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { GrmError } from '../../errors.js';
import { TERMINAL_STATES, type JobState } from '../../jobs/job-types.js';
import type { StoredLogLine } from '../../logs/log-aggregator.js';
import { rankOf, type LogLineRow } from '../../store/log-store.js';
import { ErrorSchema, IdParams } from '../schemas.js';
import type { ApiServices } from '../services.js';

const PAGE = 2000;
export const HEARTBEAT_MS = 15_000;

function frame(lines: (LogLineRow | StoredLogLine)[]): string {
  let out = '';
  for (const l of lines) {
    // the rank as the store reads it (a live line has not been read back from the store)
    const rank = rankOf(l);
    const data = { seq: l.seq, time: new Date(l.ts).toISOString(), source: l.source, line: l.line, ...(rank === null ? {} : { rank }), ...(l.run == null ? {} : { run: l.run }) };
    out += `event: line\nid: ${l.seq}\ndata: ${JSON.stringify(data)}\n\n`;
  }
  return out;
}

class SseSession {
  private position: number;
  private live = false;
  private ending = false;
  private closed = false;
  private waitingDrain = false;
  private pumpScheduled = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly services: ApiServices,
    private readonly res: ServerResponse,
    private readonly jobId: number,
    after: number,
    private readonly source: string | undefined,
  ) {
    this.position = after;
  }

  start(): void {
    const { logFeed } = this.services;
    // listeners first, then the state: a job ending in between is heard either way
    this.cleanups.push(logFeed.subscribe(this.jobId, (lines) => this.onLive(lines)));
    this.cleanups.push(logFeed.onJobEnded(this.jobId, () => this.end()));
    const heartbeat = setInterval(() => {
      this.write(': heartbeat\n\n');
      // a safety net: ends are also noticed without the notification
      if (this.jobEnded()) this.end();
    }, HEARTBEAT_MS);
    this.cleanups.push(() => clearInterval(heartbeat));
    this.res.on('close', () => this.close());
    this.write('retry: 2000\n\n');
    if (this.jobEnded()) this.ending = true;
    this.pump();
  }

  /** Ends the stream now (daemon stopping). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.cleanups.splice(0)) c();
    if (!this.res.writableEnded) this.res.end();
  }

  private jobEnded(): boolean {
    try {
      return TERMINAL_STATES.has(this.services.jobs.get(this.jobId).state);
    } catch {
      return true; // the job is gone (deleted): nothing more will come
    }
  }

  private end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.live = false;
    this.pump();
  }

  private onLive(lines: StoredLogLine[]): void {
    if (!this.live || this.closed) return;
    const fresh = lines.filter((l) => l.seq > this.position && (this.source === undefined || l.source === this.source));
    if (fresh.length === 0) return;
    this.position = fresh[fresh.length - 1]!.seq;
    if (!this.write(frame(fresh))) {
      this.live = false;
      this.awaitDrain();
    }
  }

  private pump(): void {
    if (this.closed || this.waitingDrain || this.pumpScheduled) return;
    // the last GRM lines (the terminal state change) may still sit in the aggregator's buffer
    if (this.ending) this.services.logFeed.flush();
    const rows = this.services.logs.read(this.jobId, { after: this.position, limit: PAGE, ...(this.source ? { source: this.source } : {}) });
    if (rows.length > 0) {
      this.position = rows[rows.length - 1]!.seq;
      if (!this.write(frame(rows))) return this.awaitDrain();
    }
    if (rows.length === PAGE) {
      // more stored: continue on the next turn of the event loop, other requests first
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
      return;
    }
    if (this.ending) {
      let state: JobState | 'UNKNOWN' = 'UNKNOWN';
      try {
        state = this.services.jobs.get(this.jobId).state;
      } catch {
        /* deleted */
      }
      this.write(`event: end\ndata: ${JSON.stringify({ job_state: state })}\n\n`);
      this.close();
      return;
    }
    this.live = true;
  }

  private awaitDrain(): void {
    this.waitingDrain = true;
    this.res.once('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  private write(text: string): boolean {
    if (this.closed || this.res.writableEnded) return true;
    return this.res.write(text);
  }
}

export const logStreamRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  const sessions = new Set<SseSession>();
  // open streams would otherwise keep app.close() (daemon stop) waiting for their clients
  app.addHook('preClose', (done) => {
    for (const s of [...sessions]) s.close();
    done();
  });

  app.get(
    '/jobs/:id/logs/stream',
    {
      schema: {
        summary: "A job's log lines as Server-Sent Events (event line, id = seq; then event end)",
        params: IdParams,
        querystring: Type.Object({
          after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'start after this seq (Last-Event-ID wins); default 0' })),
          source: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'only this source: stdout, stderr, grm, ...' })),
        }),
        response: { '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      services.jobs.get(id); // 404 before any event
      let after = request.query.after ?? 0;
      const lastEventId = request.headers['last-event-id'];
      if (lastEventId !== undefined) {
        const text = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
        if (text === undefined || !/^\d{1,15}$/.test(text.trim())) {
          throw new GrmError('E_REQUEST_INVALID', `Last-Event-ID: expected the seq of the last line received, got "${text}"`, {
            field: 'Last-Event-ID',
          });
        }
        after = Number(text.trim());
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx and friends: do not hold events back
      });
      reply.raw.socket?.setNoDelay(true);
      const session = new SseSession(services, reply.raw, id, after, request.query.source);
      sessions.add(session);
      reply.raw.on('close', () => sessions.delete(session));
      session.start();
    },
  );
};
