import t from 'tap';
import { encodeSpec, parseSupervisorMessage, type SupervisorSpec } from '../../src/runtime/master-files.js';

const base: SupervisorSpec = {
  jobId: 7,
  command: 'bash',
  args: ['-c', 'echo "a b"'],
  cwd: '/tmp',
  env: { PATH: '/usr/bin', EMPTY: '' },
  jobDir: '/var/grm/jobs/7',
  stdoutPath: '/tmp/out',
  stderrPath: '/tmp/out',
  openMode: 'append',
  outputDevices: ['/dev/null'],
  runAs: null,
  stragglerGraceMs: 2000,
};

/** The pairs back, as spec.c reads them. */
function pairs(buf: Buffer): [string, string][] {
  const parts = buf.toString('utf8').split('\0');
  t.equal(parts.pop(), '', 'every value is NUL-terminated');
  const out: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) out.push([parts[i] as string, parts[i + 1] as string]);
  return out;
}

t.test('the spec: argv[0] is the command, the env as K=V, one output when both paths are one file', async (t) => {
  const p = pairs(encodeSpec(base));
  t.same(p.filter(([k]) => k === 'arg').map(([, v]) => v), ['bash', '-c', 'echo "a b"']);
  t.same(p.filter(([k]) => k === 'env').map(([, v]) => v), ['PATH=/usr/bin', 'EMPTY=']);
  t.notOk(p.some(([k]) => k === 'err'), 'no err: stderr shares the stdout descriptor');
  t.notOk(p.some(([k]) => k === 'uid'), 'no uid: stays the daemon account');
  t.same(Object.fromEntries(p.filter(([k]) => ['job', 'dir', 'cwd', 'out', 'mode', 'grace'].includes(k))), {
    job: '7', dir: '/var/grm/jobs/7', cwd: '/tmp', out: '/tmp/out', mode: 'append', grace: '2000',
  });
});

t.test('the spec: a distinct stderr, the account with its groups', async (t) => {
  const p = pairs(encodeSpec({ ...base, stderrPath: 'err.txt', runAs: { uid: 1001, gid: 1002, groups: [1002, 27] } }));
  t.same(p.filter(([k]) => ['err', 'uid', 'gid', 'grp'].includes(k)), [['err', 'err.txt'], ['uid', '1001'], ['gid', '1002'], ['grp', '1002'], ['grp', '27']]);
  const same = pairs(encodeSpec({ ...base, stdoutPath: '/var/grm/jobs/7/o', stderrPath: 'o' }));
  t.notOk(same.some(([k]) => k === 'err'), 'a relative path naming the same file (from the job folder) is the same file');
});

t.test('a NUL in an argument, the environment or a path is refused, not cut short', async (t) => {
  t.throws(() => encodeSpec({ ...base, args: ['a\0b'] }), /arguments hold a NUL byte/);
  t.throws(() => encodeSpec({ ...base, env: { X: 'a\0b' } }), /environment hold/);
  t.throws(() => encodeSpec({ ...base, stdoutPath: '/tmp/a\0' }), /out hold/);
});

t.test('status lines', async (t) => {
  t.same(parseSupervisorMessage('started 1234'), { type: 'started', pid: 1234 });
  t.same(parseSupervisorMessage('started -'), { type: 'started', pid: null });
  t.same(parseSupervisorMessage('failed cannot open the standard output file: x y'), { type: 'failed', reason: 'cannot open the standard output file: x y' });
  t.equal(parseSupervisorMessage('garbage'), null);
  t.equal(parseSupervisorMessage(''), null);
  t.same(parseSupervisorMessage('started 1'), { type: 'started', pid: null }, 'pid 1 is never a job');
});

t.test('grm-supervisor compiles without a warning (-Wall -Wextra -Werror)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = path.resolve(import.meta.dirname, '../../src/runtime/native');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-supervisor-build-'));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => path.join(dir, f));
  const flags = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_FORTIFY_SOURCE=2'];
  t.doesNotThrow(() => execFileSync(process.env.CC || 'cc', [...flags, '-o', path.join(out, 'grm-supervisor'), ...sources], { stdio: 'pipe' }));
});
