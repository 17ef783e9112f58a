import t from 'tap';
import fc from 'fast-check';
import { compressHostlist, expandHostlist } from '../../src/hostlist/hostlist.js';
import { GrmError } from '../../src/errors.js';

/** Expect a GrmError E_HOSTLIST_INVALID whose message matches `message`. */
function invalid(message: RegExp): { code: string; message: RegExp; constructor: typeof GrmError } {
  return { constructor: GrmError, code: 'E_HOSTLIST_INVALID', message };
}

// ---- expansion ----

t.test('expand: a plain name is itself', async (t) => {
  t.same(expandHostlist('login'), ['login']);
});

t.test('expand: a bracket with a range and a single number', async (t) => {
  t.same(expandHostlist('node[01-04,07]'), ['node01', 'node02', 'node03', 'node04', 'node07']);
});

t.test('expand: zero padding comes from the low bound and is kept across a digit boundary', async (t) => {
  t.same(expandHostlist('n[08-10]'), ['n08', 'n09', 'n10']);
  t.same(expandHostlist('n[098-101]'), ['n098', 'n099', 'n100', 'n101']);
});

t.test('expand: without padding numbers are written naturally', async (t) => {
  t.same(expandHostlist('n[8-10]'), ['n8', 'n9', 'n10']);
});

t.test('expand: comma-separated terms of brackets and plain names keep their order', async (t) => {
  t.same(expandHostlist('node[1-2],gpu[01-02],login'), ['node1', 'node2', 'gpu01', 'gpu02', 'login']);
});

t.test('expand: whitespace also separates terms and empty terms are skipped', async (t) => {
  t.same(expandHostlist(' a1  b2,,c3 \n'), ['a1', 'b2', 'c3']);
});

t.test('expand: two brackets are a cartesian product with the last varying fastest', async (t) => {
  t.same(expandHostlist('a[1-2]b[3-4]'), ['a1b3', 'a1b4', 'a2b3', 'a2b4']);
});

t.test("expand: three brackets follow SLURM's order (second-last slowest, then the first, then the last)", async (t) => {
  t.same(expandHostlist('a[1-2]b[3-4]c[5-6]'), [
    'a1b3c5', 'a1b3c6', 'a2b3c5', 'a2b3c6', 'a1b4c5', 'a1b4c6', 'a2b4c5', 'a2b4c6',
  ]);
});

t.test('expand: text after the bracket is a suffix', async (t) => {
  t.same(expandHostlist('rack[1-2]-ib'), ['rack1-ib', 'rack2-ib']);
});

t.test('expand: an empty prefix is allowed', async (t) => {
  t.same(expandHostlist('[1-3]'), ['1', '2', '3']);
});

t.test('expand: duplicates are kept, as SLURM does', async (t) => {
  t.same(expandHostlist('n[1-2],n1'), ['n1', 'n2', 'n1']);
});

t.test('expand: a range of exactly 1,000,000 names is allowed', async (t) => {
  t.equal(expandHostlist('n[1-1000000]').length, 1_000_000);
});

t.test('expand: empty input is invalid', async (t) => {
  t.throws(() => expandHostlist(''), invalid(/empty/));
  t.throws(() => expandHostlist('  '), invalid(/empty/));
  t.throws(() => expandHostlist(','), invalid(/names no hosts/));
});

t.test('expand: an unclosed bracket is invalid and named', async (t) => {
  t.throws(() => expandHostlist('node[1-2'), invalid(/'node\[1-2'.*never closed/));
});

t.test('expand: a stray closing bracket is invalid', async (t) => {
  t.throws(() => expandHostlist('node1-2]'), invalid(/unmatched '\]'/));
});

t.test('expand: nested brackets are invalid', async (t) => {
  t.throws(() => expandHostlist('n[[1-2]]'), invalid(/nested/));
});

t.test('expand: a backwards range is invalid and names the range', async (t) => {
  t.throws(() => expandHostlist('n[5-2]'), invalid(/'5-2' goes backwards/));
});

t.test('expand: empty brackets and empty elements are invalid', async (t) => {
  t.throws(() => expandHostlist('n[]'), invalid(/empty brackets/));
  t.throws(() => expandHostlist('n[1,,3]'), invalid(/bad range ''/));
});

t.test('expand: non-numeric or negative ranges are invalid', async (t) => {
  t.throws(() => expandHostlist('n[a-c]'), invalid(/bad range 'a-c'/));
  t.throws(() => expandHostlist('n[-1-2]'), invalid(/bad range '-1-2'/));
  t.throws(() => expandHostlist('n[1-]'), invalid(/bad range '1-'/));
});

t.test('expand: more than 1,000,000 names is invalid', async (t) => {
  t.throws(() => expandHostlist('n[0-1000000]'), invalid(/exceeds the limit of 1000000/));
  t.throws(() => expandHostlist('a[1-1000]b[1-1001]'), invalid(/more than 1000000 names/));
  t.throws(() => expandHostlist('n[1-99999999999999999999]'), invalid(/too large/));
});

// ---- compression ----

t.test('compress: consecutive padded numbers become a range', async (t) => {
  t.equal(compressHostlist(['node01', 'node02', 'node03', 'node07']), 'node[01-03,07]');
});

t.test('compress: a single name stays plain', async (t) => {
  t.equal(compressHostlist(['node07']), 'node07');
  t.equal(compressHostlist(['login']), 'login');
});

t.test('compress: an empty list is the empty string', async (t) => {
  t.equal(compressHostlist([]), '');
});

t.test('compress: duplicates are dropped', async (t) => {
  t.equal(compressHostlist(['n2', 'n1', 'n2', 'n1']), 'n[1-2]');
});

t.test('compress: numbers sort numerically, not as text', async (t) => {
  t.equal(compressHostlist(['n10', 'n9', 'n11', 'n1']), 'n[1,9-11]');
});

t.test('compress: padded ranges keep their width across a digit boundary', async (t) => {
  t.equal(compressHostlist(['n08', 'n09', 'n10', 'n11']), 'n[08-11]');
  t.equal(compressHostlist(['n099', 'n100']), 'n[099-100]');
});

t.test('compress: names differing only in padding stay distinct', async (t) => {
  t.equal(compressHostlist(['n1', 'n01', 'n2', 'n02']), 'n[1-2,01-02]');
});

t.test('compress: prefixes are grouped and sorted naturally, plain names first within a prefix', async (t) => {
  t.equal(compressHostlist(['node2', 'gpu1', 'node1', 'login', 'gpu2', 'node']), 'gpu[1-2],login,node,node[1-2]');
  t.equal(compressHostlist(['rack10-n1', 'rack2-n1', 'rack2-n2']), 'rack2-n[1-2],rack10-n1');
});

t.test('compress: names with text after the number stay plain (SLURM refuses "n[1-3]-ib")', async (t) => {
  const out = compressHostlist(['n1-ib', 'n2-ib', 'n3-ib', 'n1']);
  t.notMatch(out, /\]-ib/);
  t.same(out.split(',').sort(), ['n1', 'n1-ib', 'n2-ib', 'n3-ib']);
});

t.test('compress: names with brackets, commas or whitespace are invalid', async (t) => {
  t.throws(() => compressHostlist(['n[1]']), invalid(/not allowed/));
  t.throws(() => compressHostlist(['a,b']), invalid(/not allowed/));
  t.throws(() => compressHostlist(['a b']), invalid(/not allowed/));
  t.throws(() => compressHostlist(['']), invalid(/empty/));
});

// ---- properties ----

/** The order compressHostlist promises when every prefix uses one padding width. */
function splitName(name: string): { prefix: string; num?: number; suffix: string } {
  const m = /^(.*\D)?(\d+)(\D*)$/.exec(name);
  return m ? { prefix: m[1] ?? '', num: Number(m[2]), suffix: m[3] ?? '' } : { prefix: name, suffix: '' };
}
/** The generated prefixes never differ only in a number, so code-unit order is natural order here. */
function natural(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
function referenceOrder(a: string, b: string): number {
  const x = splitName(a);
  const y = splitName(b);
  return (
    natural(x.prefix, y.prefix) ||
    Number(x.num !== undefined) - Number(y.num !== undefined) ||
    natural(x.suffix, y.suffix) ||
    (x.num ?? 0) - (y.num ?? 0)
  );
}

const prefixArb = fc.constantFrom('node', 'gpu', 'n', 'login', 'rack1-n', 'c2x');
const suffixArb = fc.constantFrom('', '', '', '-ib', '.lan');
/** A family of names sharing prefix, suffix and one padding width (0 = natural numbers). */
const familyArb = fc
  .record({
    prefix: prefixArb,
    suffix: suffixArb,
    width: fc.constantFrom(0, 2, 3, 4),
    numbers: fc.array(fc.nat({ max: 150 }), { minLength: 1, maxLength: 40 }),
  })
  .map(({ prefix, suffix, width, numbers }) =>
    numbers.map((n) => `${prefix}${width === 0 ? String(n) : String(n).padStart(width, '0')}${suffix}`),
  );
const uniformNamesArb = fc.uniqueArray(familyArb, { selector: (f) => splitName(f[0] as string).prefix + '|' + splitName(f[0] as string).suffix, maxLength: 5 }).map((families) => families.flat());

t.test('property: expand(compress(names)) is the sorted unique names (one width per prefix)', async (t) => {
  fc.assert(
    fc.property(uniformNamesArb, fc.constantFrom('login', 'head', 'node'), fc.boolean(), (names, plain, addPlain) => {
      const all = addPlain ? [...names, plain] : names;
      // Names with a suffix are not grouped, so only suffix-free output follows the reference order.
      const expected = [...new Set(all)].sort(referenceOrder);
      const got = all.length === 0 ? [] : expandHostlist(compressHostlist(all));
      if (all.some((n) => /\d\D+$/.test(n))) {
        expected.sort();
        got.sort();
      }
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        throw new Error(`got ${JSON.stringify(got)} expected ${JSON.stringify(expected)}`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

/** Any mix of widths in one prefix: 7, 07, 007, 10, 010, ... */
const mixedNamesArb = fc.array(
  fc
    .record({
      prefix: fc.constantFrom('n', 'node', 'x-'),
      num: fc.nat({ max: 120 }),
      zeros: fc.constantFrom(0, 0, 1, 2),
    })
    .map(({ prefix, num, zeros }) => `${prefix}${'0'.repeat(zeros)}${num}`),
  { minLength: 1, maxLength: 60 },
);

t.test('property: with mixed padding, expand(compress(names)) has exactly the unique names', async (t) => {
  fc.assert(
    fc.property(mixedNamesArb, (names) => {
      const got = expandHostlist(compressHostlist(names));
      const unique = new Set(names);
      if (got.length !== unique.size || !got.every((n) => unique.has(n))) {
        throw new Error(`got ${JSON.stringify(got)} for ${JSON.stringify([...unique])}`);
      }
    }),
    { numRuns: 500 },
  );
  t.pass();
});

t.test('property: compression is canonical (input order and duplicates do not matter)', async (t) => {
  fc.assert(
    fc.property(mixedNamesArb, (names) => {
      const once = compressHostlist(names);
      const again = compressHostlist(expandHostlist(once));
      const shuffled = compressHostlist([...names].reverse().concat(names));
      if (once !== again || once !== shuffled) throw new Error(`${once} / ${again} / ${shuffled}`);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

/** Random hostlist expressions: prefix, one or two brackets of ranges, optional suffix. */
const rangeArb = fc
  .record({ lo: fc.nat({ max: 60 }), len: fc.nat({ max: 12 }), width: fc.constantFrom(0, 2, 3) })
  .map(({ lo, len, width }) => {
    const p = (n: number): string => (width ? String(n).padStart(width, '0') : String(n));
    return len === 0 ? p(lo) : `${p(lo)}-${p(lo + len)}`;
  });
const termArb = fc
  .record({
    prefix: prefixArb,
    brackets: fc.array(fc.array(rangeArb, { minLength: 1, maxLength: 3 }), { minLength: 0, maxLength: 2 }),
    suffix: suffixArb,
  })
  .map(({ prefix, brackets, suffix }) =>
    brackets.length === 0 ? prefix : prefix + brackets.map((b) => `[${b.join(',')}]`).join('x') + suffix,
  );
const exprArb = fc.array(termArb, { minLength: 1, maxLength: 4 }).map((terms) => terms.join(','));

t.test('property: expand of compress of expand gives the same set of names, and is stable', async (t) => {
  fc.assert(
    fc.property(exprArb, (expr) => {
      const names = expandHostlist(expr);
      const compressed = compressHostlist(names);
      const back = expandHostlist(compressed);
      const unique = new Set(names);
      if (back.length !== unique.size || !back.every((n) => unique.has(n))) {
        throw new Error(`${expr} -> ${compressed} -> ${JSON.stringify(back)}`);
      }
      if (compressHostlist(back) !== compressed) throw new Error(`not stable: ${compressed}`);
      if (JSON.stringify(expandHostlist(compressHostlist(back))) !== JSON.stringify(back)) {
        throw new Error(`order not stable: ${compressed}`);
      }
    }),
    { numRuns: 500 },
  );
  t.pass();
});
