import t from 'tap';
import { COMPSS_CONFIG_DEFAULTS, jobWorkingDir, resolveCompssConfig } from '../../src/compss/compss-config.js';
import { type PortRange, pickPortRange, portRangeForJob, rangesOverlap } from '../../src/compss/ports.js';
import { refusal } from '../helpers/refusal.js';


t.test('defaults: /opt/COMPSs/, /tmp/COMPSsWorker, 100 blocks of 20 ports from 43001', async (t) => {
  t.strictSame(resolveCompssConfig(), {
    installDir: '/opt/COMPSs/',
    workingDirBase: '/tmp/COMPSsWorker',
    portsBase: 43001,
    portsPerJob: 20,
    portSlots: 100,
  });
  t.strictSame(resolveCompssConfig(), COMPSS_CONFIG_DEFAULTS);
});

t.test('fields set to undefined fall back to their defaults', async (t) => {
  t.equal(resolveCompssConfig({ portsBase: undefined }).portsBase, 43001);
});

t.test('a port window reaching past 65535 is refused, naming the field', async (t) => {
  const e = refusal(() => resolveCompssConfig({ portsBase: 60000, portsPerJob: 100, portSlots: 100 }));
  t.equal(e.code, 'E_CONFIG_INVALID');
  t.equal(e.field, 'compss.portSlots');
});

t.test('a block smaller than one worker port plus the master port is refused', async (t) => {
  t.equal(refusal(() => resolveCompssConfig({ portsPerJob: 1 })).field, 'compss.portsPerJob');
});

t.test('a relative working dir base is refused', async (t) => {
  t.equal(refusal(() => resolveCompssConfig({ workingDirBase: 'tmp/w' })).field, 'compss.workingDirBase');
});

t.test('two shared disks with one name are refused', async (t) => {
  const sharedDisks = [{ name: 'd', mountPoint: '/a' }, { name: 'd', mountPoint: '/b' }];
  t.equal(refusal(() => resolveCompssConfig({ sharedDisks })).field, 'compss.sharedDisks[1].name');
});

t.test('the working dir is <base>/<job id>/, whatever the base ends with', async (t) => {
  t.equal(jobWorkingDir(5), '/tmp/COMPSsWorker/5/');
  t.equal(jobWorkingDir(5, { workingDirBase: '/scratch/' }), '/scratch/5/');
});

t.test('job 0 owns the first block; its master takes the block\'s last port', async (t) => {
  t.strictSame(portRangeForJob(0), { slot: 0, minPort: 43001, maxPort: 43020, masterPort: 43020 });
});

t.test('the block wraps around the window by job id', async (t) => {
  t.strictSame(portRangeForJob(101), { slot: 1, minPort: 43021, maxPort: 43040, masterPort: 43040 });
});

t.test('any portSlots consecutive job ids get pairwise disjoint blocks', async (t) => {
  const config = { portsPerJob: 7, portSlots: 13 };
  const ranges = Array.from({ length: 13 }, (_, i) => portRangeForJob(500 + i, config));
  for (const [i, a] of ranges.entries()) {
    for (const b of ranges.slice(i + 1)) t.notOk(rangesOverlap(a, b), `${a.minPort}-${a.maxPort} vs ${b.minPort}-${b.maxPort}`);
  }
});

t.test('every block stays inside the configured window', async (t) => {
  const config = { portsBase: 50000, portsPerJob: 10, portSlots: 5 };
  for (let id = 0; id < 20; id++) {
    const r = portRangeForJob(id, config);
    t.ok(r.minPort >= 50000 && r.maxPort <= 50049, `job ${id}: ${r.minPort}-${r.maxPort}`);
  }
});

t.test('the id-keyed block collides for ids portSlots apart (the documented limit)', async (t) => {
  t.strictSame(portRangeForJob(3, { portSlots: 10 }), portRangeForJob(13, { portSlots: 10 }));
});

t.test('pickPortRange takes the job\'s own block when it is free', async (t) => {
  t.strictSame(pickPortRange(7, {}, [portRangeForJob(3)]), portRangeForJob(7));
});

t.test('pickPortRange moves past blocks still used by running jobs', async (t) => {
  const config = { portSlots: 10 };
  const running = [portRangeForJob(3, config), portRangeForJob(4, config)];
  const picked = pickPortRange(13, config, running);
  t.equal(picked.slot, 5);
  for (const r of running) t.notOk(rangesOverlap(picked, r));
});

t.test('pickPortRange respects ranges handed out under a different config', async (t) => {
  const old: PortRange = { slot: 0, minPort: 43001, maxPort: 43100, masterPort: 43100 };
  const picked = pickPortRange(0, {}, [old]);
  t.ok(picked.minPort > 43100, `picked ${picked.minPort}-${picked.maxPort}`);
});

t.test('pickPortRange fails loudly when every block is in use', async (t) => {
  const config = { portSlots: 3 };
  const running = [0, 1, 2].map((id) => portRangeForJob(id, config));
  const e = refusal(() => pickPortRange(9, config, running));
  t.equal(e.code, 'E_MASTER_START');
  t.match(e.message, /raise compss\.portSlots/);
});
