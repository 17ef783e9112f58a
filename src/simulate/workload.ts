/**
 * A seeded synthetic workload, shaped like the Lublin-Feitelson model (pure, deterministic for
 * a seed): a quarter of the jobs serial, the others log-uniform in size with most rounded to a
 * power of two; log-normal run times that grow with the size; users' requested times a few
 * times their run time, rounded up to 5 minutes (as people ask); Poisson arrivals set for an
 * offered load. A simplification of the published model (no daily cycle, one job class), good
 * for tests and benchmarks; real logs are in ../shared/traces.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { SwfJob } from './swf.js';

export interface WorkloadOptions {
  jobs: number;
  /** Processors of the cluster (the largest job asks for all of them). */
  procs: number;
  seed: number;
  /** Offered load: processor-seconds asked per processor-second available (default 0.85). */
  load?: number;
}

const MAX_RUNTIME_S = 36 * 3600;

export function generateWorkload(o: WorkloadOptions): SwfJob[] {
  const rng = xoroshiro128plus(o.seed);
  const u = () => uniformFloat64(rng);
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const maxLog = Math.log2(Math.max(1, o.procs));
  const shapes = Array.from({ length: o.jobs }, () => {
    let procs = 1;
    if (u() >= 0.24 && maxLog > 0) {
      const log = u() * maxLog;
      procs = Math.max(1, Math.min(o.procs, u() < 0.75 ? 2 ** Math.round(log) : Math.round(2 ** log)));
    }
    // bigger jobs run longer, on average
    const runtime = Math.min(MAX_RUNTIME_S, Math.max(1, Math.round(Math.exp(6.5 + 0.25 * Math.log2(procs) + 1.7 * normal()))));
    const asked = runtime * (1 + 4 * u());
    const limit = Math.min(MAX_RUNTIME_S, Math.ceil(asked / 300) * 300);
    return { procs, runtime: Math.min(runtime, limit), limit };
  });
  const work = shapes.reduce((s, j) => s + j.procs * j.runtime, 0);
  const meanGap = work / shapes.length / ((o.load ?? 0.85) * o.procs);
  let t = 0;
  return shapes.map((s, i) => {
    t += -Math.log(1 - u()) * meanGap;
    return { id: i + 1, submit: Math.floor(t), runtime: s.runtime, limit: s.limit, procs: s.procs, user: 1 + Math.floor(u() * 100) };
  });
}
