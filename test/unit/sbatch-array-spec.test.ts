import fc from 'fast-check';
import t from 'tap';
import { GrmError } from '../../src/errors.js';
import {
  DEFAULT_MAX_ARRAY_SIZE,
  MAX_ARRAY_INDEX,
  foldArrayTaskId,
  formatIndexRanges,
  parseArraySpec,
  parseJobIdSpec,
  validateArraySpec,
} from '../../src/sbatch/array-spec.js';
import { MAX_ARRAY_INDEX as FROM_SPECS, validateArraySpec as validateFromSpecs } from '../../src/sbatch/slurm-specs.js';

const range = (first: number, last: number, step = 1): number[] => {
  const out: number[] = [];
  for (let i = first; i <= last; i += step) out.push(i);
  return out;
};
const badArray = (value: string, why: RegExp | string, option = '--array') => ({
  constructor: GrmError,
  code: 'E_OPTION_INVALID',
  field: option,
  message: new RegExp(
    `^Invalid job array specification '${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' for ${option}: .*${typeof why === 'string' ? why : why.source}`,
  ),
});
const badJobId = (message: RegExp) => ({ constructor: GrmError, code: 'E_REQUEST_INVALID', field: 'job_id', message });

// ---------------------------------------------------------------- parseArraySpec: forms

t.test('N-M:STEP%LIMIT', async (t) => {
  t.same(parseArraySpec('0-99:3%5'), { indices: range(0, 99, 3), maxRunning: 5 });
  t.same(parseArraySpec('0-15:4%2'), { indices: [0, 4, 8, 12], maxRunning: 2 });
});

t.test('a list of single indexes and ranges', async (t) => {
  t.same(parseArraySpec('1,3,5-7'), { indices: [1, 3, 5, 6, 7], maxRunning: null });
  t.same(parseArraySpec('0,6,16-32:2%4'), { indices: [0, 6, ...range(16, 32, 2)], maxRunning: 4 });
});

t.test('a single index', async (t) => {
  t.same(parseArraySpec('7'), { indices: [7], maxRunning: null });
  t.same(parseArraySpec('0'), { indices: [0], maxRunning: null });
});

t.test('N-M is every index from N to M; N-N is one', async (t) => {
  t.same(parseArraySpec('1-10').indices, range(1, 10));
  t.same(parseArraySpec('4-4').indices, [4]);
});

t.test('a step that overshoots stops before M', async (t) => {
  t.same(parseArraySpec('0-10:4').indices, [0, 4, 8]);
  t.same(parseArraySpec('3-5:10').indices, [3]);
});

t.test('leading zeros are accepted, as SLURM does', async (t) => {
  t.same(parseArraySpec('007').indices, [7]);
  t.same(parseArraySpec('001-003:01%02'), { indices: [1, 2, 3], maxRunning: 2 });
});

t.test('indices come back sorted and unique whatever the order and overlaps', async (t) => {
  t.same(parseArraySpec('9,1,5').indices, [1, 5, 9]);
  t.same(parseArraySpec('1-5,3-7,5').indices, range(1, 7));
});

t.test('a % limit larger than the array is kept', async (t) => {
  t.equal(parseArraySpec('1-3%100').maxRunning, 100);
  t.equal(parseArraySpec('1-3%2147483647').maxRunning, 2147483647);
});

// ---------------------------------------------------------------- parseArraySpec: MaxArraySize

t.test('the default MaxArraySize is 1001: indexes 0 to 1000', async (t) => {
  t.equal(DEFAULT_MAX_ARRAY_SIZE, 1001);
  t.same(parseArraySpec('1000').indices, [1000]);
  t.equal(parseArraySpec('0-1000').indices.length, 1001);
  t.throws(() => parseArraySpec('1001'), badArray('1001', /index 1001 is out of range: indexes must be less than MaxArraySize \(1001\)$/));
  t.throws(() => parseArraySpec('0-1001:1000'), badArray('0-1001:1000', /index 1001 is out of range/));
});

t.test('a given MaxArraySize bounds the indexes', async (t) => {
  t.same(parseArraySpec('9', 10).indices, [9]);
  t.throws(() => parseArraySpec('10', 10), badArray('10', /less than MaxArraySize \(10\)$/));
  t.same(parseArraySpec('0-4999:1000', 5000).indices, [0, 1000, 2000, 3000, 4000]);
});

t.test('SLURM refuses a step of MaxArraySize or more', async (t) => {
  t.same(parseArraySpec('0-9:9', 10).indices, [0, 9]);
  t.throws(() => parseArraySpec('0-9:10', 10), badArray('0-9:10', /step in '0-9:10' must be less than MaxArraySize \(10\)$/));
});

t.test('the largest index is 4000000 whatever MaxArraySize', async (t) => {
  t.equal(MAX_ARRAY_INDEX, 4_000_000);
  t.same(parseArraySpec('4000000', MAX_ARRAY_INDEX + 1).indices, [4_000_000]);
  t.throws(() => parseArraySpec('4000001', MAX_ARRAY_INDEX + 1), badArray('4000001', /indexes must be at most 4000000$/));
  t.throws(() => parseArraySpec('0-4000001'), badArray('0-4000001', /indexes must be at most 4000000$/));
  t.throws(() => parseArraySpec('99999999999999999999'), badArray('99999999999999999999', /at most 4000000$/));
});

t.test('MaxArraySize=0 disables job arrays', async (t) => {
  t.throws(() => parseArraySpec('0', 0), badArray('0', /job arrays are disabled \(MaxArraySize=0\)$/));
});

t.test('an impossible MaxArraySize is a programming error', async (t) => {
  for (const size of [-1, 1.5, NaN, MAX_ARRAY_INDEX + 2]) {
    t.throws(() => parseArraySpec('1', size), RangeError, String(size));
  }
});

// ---------------------------------------------------------------- parseArraySpec: errors

t.test('no indexes', async (t) => {
  for (const v of ['', '%4']) {
    t.throws(() => parseArraySpec(v), badArray(v, /no indexes given \(use e\.g\. 1-10, 1,3,5 or 0-15:4, with an optional %N limit\)$/), v);
  }
});

t.test('empty elements are refused (SLURM skips them silently)', async (t) => {
  for (const v of ['1,,3', ',1', '1,']) t.throws(() => parseArraySpec(v), badArray(v, /an empty index between commas/), v);
});

t.test('elements that are not N, N-M or N-M:STEP', async (t) => {
  for (const v of ['x', '1-', '-1', '1:2', '1-5:', '1.5', '1-2-3', '1-5:2:3', '[1-5]']) {
    t.throws(() => parseArraySpec(v), badArray(v, `'${v.replace(/[[\]]/g, '\\$&')}' is not N, N-M or N-M:STEP$`), v);
  }
});

t.test('strict numbers: no hex, exponent, sign or blanks', async (t) => {
  for (const v of ['0x1', '1e1', '+1', ' 1', '1 ', '1, 2', '1 -5']) {
    t.throws(() => parseArraySpec(v), badArray(v, /is not N, N-M or N-M:STEP$/), JSON.stringify(v));
  }
});

t.test('a range going backwards', async (t) => {
  t.throws(() => parseArraySpec('5-2'), badArray('5-2', /range '5-2' goes backwards$/));
});

t.test('a step of 0', async (t) => {
  t.throws(() => parseArraySpec('1-10:0'), badArray('1-10:0', /step in '1-10:0' must be at least 1$/));
});

t.test('a bad % limit', async (t) => {
  const cases: Array<[string, string]> = [['1-10%0', '0'], ['1-10%', ''], ['1-10%x', 'x'], ['1-10%-1', '-1'], ['1-3%2147483648', '2147483648']];
  for (const [v, limit] of cases) {
    t.throws(() => parseArraySpec(v), badArray(v, `the '%' limit '${limit}' must be a positive integer \\(at most 2147483647\\)$`), v);
  }
  t.throws(() => parseArraySpec('1%2%3'), badArray('1%2%3', /only one '%' limit is allowed$/));
});

t.test('the option named in errors can be chosen (e.g. the REST field)', async (t) => {
  t.throws(() => parseArraySpec('x', 1001, 'array'), badArray('x', /is not N/, 'array'));
});

t.test('validateArraySpec returns the spec as written; slurm-specs re-exports it', async (t) => {
  t.equal(validateArraySpec('001-3%2'), '001-3%2');
  t.equal(validateArraySpec('1-5000', '--array', 5001), '1-5000');
  t.throws(() => validateArraySpec('1-5000'), badArray('1-5000', /out of range/));
  t.equal(validateFromSpecs, validateArraySpec);
  t.equal(FROM_SPECS, MAX_ARRAY_INDEX);
});

// ---------------------------------------------------------------- formatIndexRanges

t.test("formatIndexRanges: consecutive runs as a-b, others alone (SLURM's bit_fmt)", async (t) => {
  t.equal(formatIndexRanges([0, 1, 2]), '0-2');
  t.equal(formatIndexRanges([1, 2, 6, 7, 8, 11]), '1-2,6-8,11');
  t.equal(formatIndexRanges([2, 4, 5, 6, 8, 12, 14, 18]), '2,4-6,8,12,14,18');
  t.equal(formatIndexRanges([2, 4, 6, 8, 12, 14, 16, 18]), '2,4,6,8,12,14,16,18');
  t.equal(formatIndexRanges(range(0, 20)), '0-20');
});

t.test('formatIndexRanges: one progression with step >= 2 spanning more than 10 is a-b:step', async (t) => {
  t.equal(formatIndexRanges(range(2, 18, 2)), '2-18:2');
  t.equal(formatIndexRanges(range(3, 99, 3)), '3-99:3');
  t.equal(formatIndexRanges([0, 20]), '0-20:20');
  t.equal(formatIndexRanges(range(0, 12, 2)), '0-12:2');
});

t.test('formatIndexRanges: a progression spanning 10 or less is listed', async (t) => {
  t.equal(formatIndexRanges(range(0, 10, 2)), '0,2,4,6,8,10');
  t.equal(formatIndexRanges([0, 10]), '0,10');
});

t.test('formatIndexRanges: empty, one index, any order, duplicates', async (t) => {
  t.equal(formatIndexRanges([]), '');
  t.equal(formatIndexRanges([7]), '7');
  t.equal(formatIndexRanges([8, 6, 7, 6, 11]), '6-8,11');
});

t.test('formatIndexRanges: negative or fractional indices are a programming error', async (t) => {
  for (const bad of [-1, 1.5, NaN]) t.throws(() => formatIndexRanges([1, bad]), RangeError, String(bad));
});

const indexSet = fc.uniqueArray(fc.nat({ max: 3000 }), { minLength: 1, maxLength: 150 });
const progression = fc
  .record({ first: fc.nat({ max: 1000 }), step: fc.integer({ min: 1, max: 50 }), count: fc.integer({ min: 1, max: 60 }) })
  .map(({ first, step, count }) => range(first, first + step * (count - 1), step));
const sortedCopy = (xs: number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

t.test('property: formatIndexRanges round-trips through parseArraySpec', async (t) => {
  fc.assert(
    fc.property(fc.oneof(indexSet, progression), (indices) => {
      t.same(parseArraySpec(formatIndexRanges(indices), MAX_ARRAY_INDEX + 1).indices, sortedCopy(indices));
    }),
    { numRuns: 500 },
  );
});

t.test('property: the form is canonical (formatting what it parses gives it back)', async (t) => {
  fc.assert(
    fc.property(fc.oneof(indexSet, progression), (indices) => {
      const text = formatIndexRanges(indices);
      t.equal(formatIndexRanges(parseArraySpec(text, MAX_ARRAY_INDEX + 1).indices), text);
      t.match(text, /^(\d+-\d+:\d+|\d+(-\d+)?(,\d+(-\d+)?)*)$/);
    }),
    { numRuns: 500 },
  );
});

t.test('property: a-b runs are maximal (never two runs that touch)', async (t) => {
  fc.assert(
    fc.property(indexSet, (indices) => {
      const text = formatIndexRanges(indices);
      if (text.includes(':')) return;
      const parts = text.split(',').map((p) => p.split('-').map(Number));
      for (let i = 1; i < parts.length; i++) {
        const prevLast = (parts[i - 1] as number[]).at(-1) as number;
        t.ok((parts[i] as number[])[0] as number > prevLast + 1, text);
      }
    }),
    { numRuns: 300 },
  );
});

t.test('property: any valid spec parses to indices that format and parse back the same', async (t) => {
  const element = fc
    .record({ a: fc.nat({ max: 1000 }), len: fc.nat({ max: 40 }), step: fc.integer({ min: 1, max: 7 }), kind: fc.nat({ max: 2 }) })
    .map(({ a, len, step, kind }) => (kind === 0 ? String(a) : kind === 1 ? `${a}-${a + len}` : `${a}-${a + len}:${step}`));
  const spec = fc
    .tuple(fc.array(element, { minLength: 1, maxLength: 6 }), fc.option(fc.integer({ min: 1, max: 50 })))
    .map(([els, limit]) => `${els.join(',')}${limit === null ? '' : `%${limit}`}`);
  fc.assert(
    fc.property(spec, (s) => {
      const { indices, maxRunning } = parseArraySpec(s, 2000);
      t.same(parseArraySpec(formatIndexRanges(indices), 2000).indices, indices);
      t.equal(maxRunning, s.includes('%') ? Number(s.split('%')[1]) : null);
    }),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------- foldArrayTaskId

t.test('foldArrayTaskId: several tasks in brackets, with the % limit when there is one', async (t) => {
  t.equal(foldArrayTaskId(12, range(3, 99), 5), '12_[3-99%5]');
  t.equal(foldArrayTaskId(12, range(3, 99), null), '12_[3-99]');
  t.equal(foldArrayTaskId(12, [3, 4, 5, 7], null), '12_[3-5,7]');
  t.equal(foldArrayTaskId(40, range(2, 18, 2), 9), '40_[2-18:2%9]');
  t.equal(foldArrayTaskId(40, [18, 2, 4, 5, 6, 8, 12, 14], 9), '40_[2,4-6,8,12,14,18%9]');
});

t.test('foldArrayTaskId: one task has no brackets (and no limit); none is the job id', async (t) => {
  t.equal(foldArrayTaskId(12, [7], null), '12_7');
  t.equal(foldArrayTaskId(12, [7], 5), '12_7');
  t.equal(foldArrayTaskId(12, [7, 7], null), '12_7');
  t.equal(foldArrayTaskId(12, [], 5), '12');
});

// ---------------------------------------------------------------- parseJobIdSpec

t.test('parseJobIdSpec: a plain job id names the whole job', async (t) => {
  t.same(parseJobIdSpec('12'), { jobId: 12, tasks: null });
  t.same(parseJobIdSpec('007'), { jobId: 7, tasks: null });
  t.same(parseJobIdSpec('4294967293'), { jobId: 4294967293, tasks: null });
});

t.test('parseJobIdSpec: JOBID_TASK names one task', async (t) => {
  t.same(parseJobIdSpec('12_7'), { jobId: 12, tasks: [7] });
  t.same(parseJobIdSpec('12_0'), { jobId: 12, tasks: [0] });
  t.same(parseJobIdSpec('12_007'), { jobId: 12, tasks: [7] });
  t.same(parseJobIdSpec('12_4000000'), { jobId: 12, tasks: [4_000_000] });
});

t.test('parseJobIdSpec: JOBID_[LIST] names several tasks, sorted and unique', async (t) => {
  t.same(parseJobIdSpec('12_[3-5]'), { jobId: 12, tasks: [3, 4, 5] });
  t.same(parseJobIdSpec('12_[1,3-5]'), { jobId: 12, tasks: [1, 3, 4, 5] });
  t.same(parseJobIdSpec('12_[5,1,1-2]'), { jobId: 12, tasks: [1, 2, 5] });
  t.same(parseJobIdSpec('12_[7]'), { jobId: 12, tasks: [7] });
  t.same(parseJobIdSpec('12_[2-18:8]'), { jobId: 12, tasks: [2, 10, 18] });
});

t.test('parseJobIdSpec: anything else is "Invalid job id specified"', async (t) => {
  const usage = /^Invalid job id specified: '.*' \(use JOBID, JOBID_TASK or JOBID_\[TASKS\], e\.g\. 12, 12_7 or 12_\[1,3-5\]\)$/;
  for (const v of ['', ' 12', '12 ', '0x1', '1e1', '+1', '-1', '12_', '12_x', '12_1_2', '12.0', 'abc', '12_[1-3', '12_1-3', '12,13', '12_*']) {
    t.throws(() => parseJobIdSpec(v), badJobId(usage), JSON.stringify(v));
  }
});

t.test('parseJobIdSpec: out-of-range ids and bad task lists say why', async (t) => {
  t.throws(() => parseJobIdSpec('0'), badJobId(/^Invalid job id specified: '0' \(job ids run from 1 to 4294967293\)$/));
  t.throws(() => parseJobIdSpec('4294967294'), badJobId(/job ids run from 1 to 4294967293/));
  t.throws(() => parseJobIdSpec('12_4000001'), badJobId(/\(array task ids are at most 4000000\)$/));
  t.throws(() => parseJobIdSpec('12_[4000001]'), badJobId(/indexes must be at most 4000000/));
  t.throws(() => parseJobIdSpec('12_[]'), badJobId(/no indexes given/));
  t.throws(() => parseJobIdSpec('12_[5-2]'), badJobId(/^Invalid job id specified: '12_\[5-2\]' \(range '5-2' goes backwards\)$/));
  t.throws(() => parseJobIdSpec('12_[1,,2]'), badJobId(/empty index/));
  t.throws(() => parseJobIdSpec('12_[3-99%5]'), badJobId(/a '%' limit is not a task list/));
});

t.test('property: what foldArrayTaskId prints (without a limit) parseJobIdSpec reads back', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.oneof(indexSet, progression), (jobId, indices) => {
      t.same(parseJobIdSpec(foldArrayTaskId(jobId, indices, null)), { jobId, tasks: sortedCopy(indices) });
    }),
    { numRuns: 300 },
  );
});
