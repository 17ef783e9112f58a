import t from 'tap';
import { buildMasterEnv, DEFAULT_ENV_ALLOW_LIST, type MasterEnvInput } from '../../src/runtime/master-env.js';

function input(over: Partial<MasterEnvInput> = {}): MasterEnvInput {
  return {
    allowList: ['PATH', 'HOME', 'LANG', 'LC_*', 'TZ'],
    daemonEnv: {
      PATH: '/usr/bin:/bin',
      HOME: '/home/grm',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      LC_TIME: 'en_GB.UTF-8',
      SECRET_TOKEN: 'do-not-leak',
      NODE_OPTIONS: '--inspect',
      SLURM_JOB_ID: '999',
    },
    exported: {},
    slurm: {
      jobId: '42',
      nodeList: 'node[01-02]',
      numNodes: 2,
      ntasks: 8,
      jobName: 'train',
      partition: 'gpu',
      submitDir: '/home/u/exp',
    },
    grm: { jobId: 42, projectXml: '/var/grm/42/project.xml', resourcesXml: '/var/grm/42/resources.xml', jobDir: '/var/grm/42' },
    ...over,
  };
}

t.test('the complete environment: allow-list, SLURM and GRM variables, nothing else', async (t) => {
  const env = buildMasterEnv(input());
  t.same(env, {
    PATH: '/usr/bin:/bin',
    HOME: '/home/grm',
    LANG: 'C.UTF-8',
    LC_ALL: 'C',
    LC_TIME: 'en_GB.UTF-8',
    SLURM_JOB_ID: '42',
    SLURM_JOBID: '42',
    SLURM_JOB_NODELIST: 'node[01-02]',
    SLURM_NODELIST: 'node[01-02]',
    SLURM_JOB_NUM_NODES: '2',
    SLURM_NNODES: '2',
    SLURM_NTASKS: '8',
    SLURM_NPROCS: '8',
    SLURM_JOB_NAME: 'train',
    SLURM_JOB_PARTITION: 'gpu',
    SLURM_SUBMIT_DIR: '/home/u/exp',
    GRM_JOB_ID: '42',
    GRM_PROJECT_XML: '/var/grm/42/project.xml',
    GRM_RESOURCES_XML: '/var/grm/42/resources.xml',
    GRM_JOB_DIR: '/var/grm/42',
  });
  t.notOk('SLURM_CPUS_PER_TASK' in env, 'cpus per task only when set');
});

t.test('precedence: allow-list < exported < SLURM_/GRM_', async (t) => {
  const env = buildMasterEnv(
    input({
      exported: { PATH: '/opt/x/bin', MY_VAR: 'v', SLURM_JOB_NODELIST: 'fake[1-100]', SLURM_NNODES: '100', GRM_JOB_DIR: '/etc' },
    }),
  );
  t.equal(env.PATH, '/opt/x/bin', 'exported beats the allow-list');
  t.equal(env.MY_VAR, 'v');
  t.equal(env.SLURM_JOB_NODELIST, 'node[01-02]', 'the job cannot fake its allocation');
  t.equal(env.SLURM_NNODES, '2');
  t.equal(env.GRM_JOB_DIR, '/var/grm/42');
});

t.test('reserved prefixes never come from lower layers', async (t) => {
  const env = buildMasterEnv(
    input({
      allowList: ['PATH', 'SLURM_*', 'GRM_X'],
      daemonEnv: { PATH: '/bin', SLURM_ARRAY_TASK_ID: '3', GRM_X: 'y' },
      exported: { SLURM_ARRAY_JOB_ID: '7' },
    }),
  );
  t.notOk('SLURM_ARRAY_TASK_ID' in env, 'a stale array index of the submitting shell does not leak');
  t.notOk('SLURM_ARRAY_JOB_ID' in env);
  t.notOk('GRM_X' in env);
});

t.test('optional SLURM variables, extra SLURM_ names', async (t) => {
  const base = input();
  const env = buildMasterEnv({
    ...base,
    slurm: {
      ...base.slurm,
      cpusPerTask: 4,
      arrayJobId: '40',
      arrayTaskId: 2,
      memPerNode: 1024,
      extra: { SLURM_GPUS: '2', SLURM_JOB_ID: 'override-attempt', NOT_SLURM: 'x' },
    },
  });
  t.equal(env.SLURM_CPUS_PER_TASK, '4');
  t.equal(env.SLURM_ARRAY_JOB_ID, '40');
  t.equal(env.SLURM_ARRAY_TASK_ID, '2');
  t.equal(env.SLURM_MEM_PER_NODE, '1024');
  t.equal(env.SLURM_GPUS, '2');
  t.equal(env.SLURM_JOB_ID, '42', 'extra cannot replace computed variables');
  t.notOk('NOT_SLURM' in env);
});

t.test('entries execve cannot carry are dropped; process.env is never read', async (t) => {
  process.env.GRM_TEST_SHOULD_NOT_APPEAR = '1';
  t.teardown(() => delete process.env.GRM_TEST_SHOULD_NOT_APPEAR);
  const env = buildMasterEnv(
    input({
      allowList: [...DEFAULT_ENV_ALLOW_LIST, 'GRM_TEST_SHOULD_NOT_APPEAR'],
      daemonEnv: { PATH: '/bin', USER: undefined },
      exported: { 'A=B': 'x', 'NUL\0': 'x', BADVAL: 'a\0b', '': 'x', OK: '' },
    }),
  );
  t.same(
    Object.keys(env).filter((k) => !k.startsWith('SLURM_') && !k.startsWith('GRM_')),
    ['PATH', 'OK'],
  );
  t.equal(env.OK, '', 'empty values are valid');
});
