import t from 'tap';
import fc from 'fast-check';
import { LineSplitter } from '../../src/logs/line-splitter.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

t.test('complete lines come out, the partial last line waits', async (t) => {
  const s = new LineSplitter();
  t.same(s.push(b('one\ntwo\nthr')), ['one', 'two']);
  t.equal(s.offset, 8, 'just past "two\\n"');
  t.equal(s.pendingBytes, 3);
  t.same(s.push(b('ee\n\nfour')), ['three', '']);
  t.equal(s.offset, 15);
  t.same(s.flush(), ['four'], 'flush emits the unfinished line');
  t.equal(s.offset, 19, 'and consumes it');
  t.same(s.flush(), [], 'nothing left');
});

t.test('CRLF loses its CR, even split across chunks', async (t) => {
  const s = new LineSplitter();
  t.same(s.push(b('a\r\nb\r')), ['a']);
  t.same(s.push(b('\nc\rd\n')), ['b', 'c\rd'], 'a CR inside a line stays');
});

t.test('multi-byte characters split across chunks are never broken', async (t) => {
  const text = 'héllo wörld €100 🚀 ok\n日本語\n';
  const bytes = b(text);
  const s = new LineSplitter();
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i++) lines.push(...s.push(bytes.subarray(i, i + 1)));
  t.same(lines, ['héllo wörld €100 🚀 ok', '日本語']);
  t.equal(s.offset, bytes.length);
});

t.test('a long line is cut, marked, and the rest is dropped up to the newline', async (t) => {
  const s = new LineSplitter({ maxLineBytes: 10 });
  const lines = s.push(b('short\n' + 'x'.repeat(25)));
  t.same(lines, ['short']);
  t.equal(s.offset, 6, 'the long line is not consumed before its newline');
  t.same(s.push(b('y'.repeat(5) + '\nnext\n')), ['xxxxxxxxxx [… line truncated by GRM: 30 bytes]', 'next']);
  t.equal(s.offset, 6 + 31 + 5);
});

t.test('the cut respects character boundaries; the marker is configurable', async (t) => {
  const s = new LineSplitter({ maxLineBytes: 5, truncationMarker: (n) => `<${n}>` });
  // "ab€" is 5 bytes; "ab€€" cut at 5 keeps "ab€"; "abc€" cut at 5 would split the €
  t.same(s.push(b('ab€€\nabc€\n')), ['ab€<8>', 'abc<6>']);
  const s2 = new LineSplitter({ maxLineBytes: 4, truncationMarker: '…{bytes}' });
  t.same(s2.push(b('🚀🚀\n')), ['🚀…8']);
  t.same(s2.push(b('a🚀\n')), ['a…5']);
});

t.test('a long partial line is flushed cut', async (t) => {
  const s = new LineSplitter({ maxLineBytes: 4 });
  s.push(b('abcdefgh'));
  t.same(s.flush(), ['abcd [… line truncated by GRM: 8 bytes]']);
});

t.test('offsets resume exactly: start offset and reset', async (t) => {
  const whole = b('l1\nl2\nl3 partial');
  const s1 = new LineSplitter();
  t.same(s1.push(whole), ['l1', 'l2']);
  const resume = s1.offset;
  const s2 = new LineSplitter({ startOffset: resume });
  t.same(s2.push(whole.subarray(resume)), []);
  t.same(s2.push(b('\n')), ['l3 partial']);
  t.equal(s2.offset, whole.length + 1);
  s2.reset(0);
  t.equal(s2.offset, 0);
  t.equal(s2.pendingBytes, 0);
  t.same(s2.push(b('new\n')), ['new']);
});

t.test('the caller may reuse its buffer', async (t) => {
  const s = new LineSplitter();
  const buf = Buffer.alloc(4);
  buf.write('abcd');
  t.same(s.push(buf), []);
  buf.write('ef\nz');
  t.same(s.push(buf), ['abcdef']);
});

t.test('property: any chunking gives the lines of the whole text', async (t) => {
  const line = fc.string({ unit: fc.constantFrom('a', 'é', '€', '🚀', ' ', '\r'), maxLength: 30 });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), (lines, cuts) => {
      const bytes = b(lines.map((l) => l + '\n').join(''));
      const expected = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
      const s = new LineSplitter({ maxLineBytes: 1_000 });
      const got: string[] = [];
      let pos = 0;
      let i = 0;
      while (pos < bytes.length) {
        const n = cuts[i++ % cuts.length]!;
        got.push(...s.push(bytes.subarray(pos, pos + n)));
        pos += n;
      }
      got.push(...s.flush());
      return JSON.stringify(got) === JSON.stringify(expected) && s.offset === bytes.length;
    }),
  );
  t.pass('held');
});
