/** Node failures, pure parts: what becomes of a job whose node failed, and scontrol update NodeName=... parsing. */
import t from 'tap';
import { checkNodeUpdate } from '../../src/backends/resource-backend.js';
import { parseNodeUpdateArgs } from '../../src/cli/commands/scontrol.js';
import type { JobRecord } from '../../src/jobs/job-types.js';
import { backendEndIntent } from '../../src/jobs/run-end.js';

const job = (requeue: boolean | undefined, restartCount: number) => ({ description: requeue === undefined ? {} : { requeue }, restartCount }) as unknown as JobRecord;
const policy = { byDefault: true, maxRestarts: 2 };

t.test('a node failure requeues a job that allows it, up to MaxBatchRequeue; other ends stay as the backend says', async (t) => {
  t.same(backendEndIntent(job(undefined, 0), 'NODE_FAIL', policy), { intent: 'REQUEUE', why: 'requeued after a node failure: restart 1 of at most 2' });
  t.same(backendEndIntent(job(true, 1), 'NODE_FAIL', policy).intent, 'REQUEUE');
  t.same(backendEndIntent(job(true, 2), 'NODE_FAIL', policy), { intent: 'NODE_FAIL', why: 'not requeued: restarted 2 times already (MaxBatchRequeue=2)' });
  t.same(backendEndIntent(job(false, 0), 'NODE_FAIL', policy), { intent: 'NODE_FAIL', why: 'not requeued: submitted with --no-requeue' });
  t.same(backendEndIntent(job(undefined, 0), 'NODE_FAIL', { ...policy, byDefault: false }), { intent: 'NODE_FAIL', why: 'not requeued: JobRequeue=0' });
  t.same(backendEndIntent(job(true, 0), 'NODE_FAIL', { ...policy, byDefault: false }).intent, 'REQUEUE', '--requeue wins over JobRequeue=0');
  for (const state of ['TIMEOUT', 'CANCELLED', 'FAILED', 'COMPLETED'] as const) {
    t.same(backendEndIntent(job(true, 0), state, policy), { intent: state, why: '' }, `${state} is not requeued`);
  }
});

t.test('scontrol update NodeName=HOSTLIST State= Reason=', async (t) => {
  t.same(parseNodeUpdateArgs(['NodeName=node[01-03]', 'State=DRAIN', 'Reason=disk swap']), { nodes: ['node01', 'node02', 'node03'], update: { state: 'drain', reason: 'disk swap' } });
  t.same(parseNodeUpdateArgs(['nodename=n1', 'state=idle']).update, { state: 'resume' }, 'State=IDLE puts it back, as RESUME');
  t.same(parseNodeUpdateArgs(['nodename=n1', 'state=undrain']).update.state, 'resume');
  t.throws(() => parseNodeUpdateArgs(['NodeName=n1']), /No node state provided: give State=DOWN, DRAIN or RESUME/);
  t.throws(() => parseNodeUpdateArgs(['State=down']), /No node name provided/);
  t.throws(() => parseNodeUpdateArgs(['NodeName=n1', 'State=nap']), /Invalid node state specified: nap/);
  t.throws(() => parseNodeUpdateArgs(['NodeName=n1', 'Weight=3']), /Update of this parameter is not supported: Weight/);
  t.throws(() => checkNodeUpdate({ state: 'down' }), { code: 'E_REQUEST_INVALID', message: /You must specify a reason when DOWNING or DRAINING a node/ });
  t.throws(() => checkNodeUpdate({ state: 'drain', reason: '  ' }), { code: 'E_REQUEST_INVALID' });
  t.doesNotThrow(() => checkNodeUpdate({ state: 'resume' }));
});
