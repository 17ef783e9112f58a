/** sacctmgr's modify syntax for GRM's limits (src/cli/sacctmgr-args.ts). */
import t from 'tap';
import { parseSacctmgrModify, sacctmgrName } from '../../src/cli/sacctmgr-args.js';

t.test('modify user/account/qos: where, set, TRES, MaxWall, -1 clears, names in any case', async (t) => {
  t.same(parseSacctmgrModify(['user', 'where', 'name=alice', 'account=physics', 'set', 'MaxJobs=2', 'maxsubmit=10', 'GrpTRES=node=4,cpu=-1']), {
    entity: 'user',
    name: 'alice',
    account: 'physics',
    set: { maxJobs: 2, maxSubmitJobs: 10, grpNodes: 4, grpCpus: null },
  });
  t.same(parseSacctmgrModify(['account', 'name=physics', 'set', 'GrpJobs=-1', 'MaxWall=1-00:00:00']), { entity: 'account', name: 'physics', set: { grpJobs: null, maxWallMinutes: 1440 } });
  t.same(parseSacctmgrModify(['qos', 'name=high', 'set', 'MaxJobsPerUser=1', 'MaxTRESPerUser=gres/gpu=2,node=3', 'MaxWall=UNLIMITED']), {
    entity: 'qos',
    name: 'high',
    set: { maxJobsPerUser: 1, maxGpusPerUser: 2, maxNodesPerUser: 3, maxWallMinutes: null },
  });
  t.same(parseSacctmgrModify(['QOS', 'Names=low', 'SET', 'grptres=gpu=8']).set, { grpGpus: 8 }, 'gpu as gres/gpu');
});

t.test('mistakes are named in sacctmgr\'s words', async (t) => {
  t.throws(() => parseSacctmgrModify(['cluster', 'name=x', 'set', 'MaxJobs=1']), /modify what\? user, account or qos/);
  t.throws(() => parseSacctmgrModify(['user', 'name=alice']), /nothing to set/);
  t.throws(() => parseSacctmgrModify(['user', 'name=alice', 'set']), /nothing to set/);
  t.throws(() => parseSacctmgrModify(['user', 'account=physics', 'set', 'MaxJobs=1']), /which user\? add name=/);
  t.throws(() => parseSacctmgrModify(['user', 'name=alice', 'set', 'MaxJobsPerUser=1']), /Unknown limit "maxjobsperuser" for a user/, 'a QOS limit is not an association\'s');
  t.throws(() => parseSacctmgrModify(['qos', 'name=high', 'set', 'MaxJobs=1']), /Unknown limit "maxjobs" for a qos/);
  t.throws(() => parseSacctmgrModify(['user', 'name=alice', 'set', 'MaxJobs=two']), /Invalid value for maxjobs: "two"/);
  t.throws(() => parseSacctmgrModify(['user', 'name=alice', 'set', 'GrpTRES=mem=4G']), /Unknown TRES "mem"/);
  t.throws(() => parseSacctmgrModify(['user', 'name=alice', 'set', 'MaxJobs']), /expected Name=Value/);
  t.throws(() => parseSacctmgrModify(['qos', 'name=a', 'account=b', 'set', 'GrpJobs=1']), /Unknown condition: account=b/);
  t.equal(sacctmgrName('grpNodes'), 'GrpTRES=node');
});
