/** Who a master runs as (runtime/run-as.ts): the identity decision and the account's environment. */
import t from 'tap';
import { masterIdentity, masterUid, withAccountEnv, type RunAs } from '../../src/runtime/run-as.js';

const alice: RunAs = { uid: 1001, gid: 1001, groups: [1001, 2000] };
const resolve = (user: string) => (user === 'alice' ? alice : null);

t.test('masterIdentity: the daemon itself unless root with runAsUser; never root for an unmapped user', async (t) => {
  t.same(masterIdentity('alice', { daemonUid: 1000, runAsUser: true, resolve }), { kind: 'daemon', uid: 1000 }, 'not root: as the daemon');
  t.same(masterIdentity('alice', { daemonUid: 0, runAsUser: false, resolve }), { kind: 'daemon', uid: 0 }, 'runAsUser off: as the daemon');
  const mapped = masterIdentity('alice', { daemonUid: 0, runAsUser: true, resolve });
  t.same(mapped, { kind: 'user', runAs: alice });
  t.equal(masterUid(mapped), 1001);
  const root = masterIdentity('root', { daemonUid: 0, runAsUser: true, resolve });
  t.equal(root.kind, 'refused', 'a GRM user named root is not root');
  t.equal(masterUid(root), null);
  t.match(root.kind === 'refused' ? root.reason : '', /user root has no local account mapped/);
});

t.test("withAccountEnv: USER, LOGNAME and HOME of the account where the submission left them out", async (t) => {
  const account = { username: 'alice', homedir: '/home/alice' };
  t.same(withAccountEnv({ PATH: '/usr/bin' }, account), { PATH: '/usr/bin', USER: 'alice', LOGNAME: 'alice', HOME: '/home/alice' });
  t.same(withAccountEnv({ HOME: '/scratch/alice', USER: 'alice' }, account), { HOME: '/scratch/alice', USER: 'alice', LOGNAME: 'alice' }, "the submitter's own kept");
  t.same(withAccountEnv({}, { username: '', homedir: '' }), {}, 'an account without a passwd entry adds nothing');
});
