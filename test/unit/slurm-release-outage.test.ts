/**
 * SlurmBackend.release() while slurmctld does not answer: the holder is not forgotten. list()
 * keeps reporting it, so the reconciler releases it once SLURM answers (found by
 * test/slurm/faults-slurm.test.ts: a master that ended during an outage left its holder
 * running in SLURM for good). SLURM's commands are stand-ins here: node scripts in a temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SlurmBackend } from '../../src/backends/slurm/slurm-backend.js';

t.test('a release that failed (slurmctld unreachable) leaves the holder listed; the retry releases it', async (t) => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-slurm-standin-'));
  t.teardown(() => fs.rmSync(bin, { recursive: true, force: true }));
  const down = path.join(bin, 'down');
  const cancelled = path.join(bin, 'cancelled');
  const uid = process.getuid?.() ?? 0;
  const script = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
  // holder 42 of GRM job 7, running, as squeue prints it in either format GRM asks for
  script(
    'squeue',
    `const holder = process.argv.some((a) => a.includes('%k'));
process.stdout.write(holder ? '42|RUNNING|${uid}|grm:unit:7\\n' : '42|RUNNING|None|debug|node1|N/A|N/A|UNLIMITED|1|1|${uid}\\n');`,
  );
  script(
    'scancel',
    `const fs = require('node:fs');
if (fs.existsSync(${JSON.stringify(down)})) { process.stderr.write('scancel: error: Unable to contact slurm controller (connect failure)\\n'); process.exit(1); }
fs.writeFileSync(${JSON.stringify(cancelled)}, process.argv.slice(2).join(' '));`,
  );
  const backend = new SlurmBackend({ instance: 'unit', binDir: bin, reuseAllocations: false });
  t.match(await backend.list(), [{ jobId: 7, backendId: '42', state: 'RUNNING' }]);

  fs.writeFileSync(down, '');
  await t.rejects(backend.release('42', 7), { code: 'E_BACKEND_UNAVAILABLE' });
  t.match(await backend.list(), [{ jobId: 7, backendId: '42', state: 'RUNNING' }], 'still listed: the reconciler will release it');
  t.notOk(fs.existsSync(cancelled));

  fs.rmSync(down);
  await backend.release('42', 7);
  t.equal(fs.readFileSync(cancelled, 'utf8'), '42', 'scancel 42 once SLURM answers');
  t.same(await backend.list(), [], 'released: no longer listed while SLURM still shows it ending');
});
