/**
 * The slurm image's entrypoint, scripts/slurm-node.sh, run on this machine as the containers
 * would run it: one process per role (slurmctld, two slurmd), each with the munged it needs,
 * on a slurm.conf and munge key written by `scripts/slurm-cluster.sh config` (the same
 * functions, scripts/slurm-lib.sh). A real cluster comes up; sinfo and srun go through it;
 * SIGTERM to each entrypoint stops its daemon and the munged it started. Needs slurm-wlm and
 * munge (installed by requireSystem when root).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SLURM_CLUSTER_SCRIPT } from '../helpers/slurm-cluster.js';
import { PROJECT_ROOT, requireSystem } from '../helpers/system.js';
import { waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
const NODE_SCRIPT = path.join(PROJECT_ROOT, 'scripts/slurm-node.sh');

interface Role {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** Whether a pid runs (a zombie counts as gone), as slurm-lib.sh's alive(). */
function alive(pid: number): boolean {
  try {
    const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state !== undefined && state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

if (requireSystem(t, 'slurm')) {
  const dir = fs.mkdtempSync('/tmp/grm-slurm-node-test.');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin`,
    SLURM_CONF: path.join(dir, 'slurm.conf'),
    GRM_SLURM_DIR: dir,
  };
  const roles: Role[] = [];

  // Stop every role (slurmd's first: they use the controller's munged), then, as a backstop for
  // whatever a failed start left, the cluster script's stop on the same layout of pid files.
  const stopAll = async () => {
    for (const role of [...roles].reverse()) {
      if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGTERM');
      await role.exited;
    }
  };
  let cleaned = false;
  const backstop = () => {
    if (cleaned) return;
    cleaned = true;
    try {
      execFileSync(SLURM_CLUSTER_SCRIPT, ['stop', '--dir', dir, '--purge'], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      /* best effort */
    }
  };
  process.once('exit', backstop);
  t.teardown(async () => {
    await stopAll();
    const keep = !t.passing();
    if (keep) {
      for (const role of roles) t.comment(`--- ${role.name}\n${role.output().slice(-3000)}`);
      execFileSync(SLURM_CLUSTER_SCRIPT, ['stop', '--dir', dir], { stdio: 'ignore', timeout: 60_000 });
      t.comment(`logs kept in ${dir}`);
      cleaned = true;
    } else backstop();
    process.removeListener('exit', backstop);
  });

  const startRole = (name: string, args: string[]): Role => {
    const child = spawn(NODE_SCRIPT, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
    const role = { name, child, exited, output: () => output };
    roles.push(role);
    return role;
  };

  t.test('slurm-cluster.sh config writes the cluster for the roles, starting nothing', async (t) => {
    const { stdout } = await run(SLURM_CLUSTER_SCRIPT, ['config', '--dir', dir, '--nodes', '2'], { env });
    t.equal(stdout.trim(), `export SLURM_CONF=${dir}/slurm.conf`);
    const conf = fs.readFileSync(path.join(dir, 'slurm.conf'), 'utf8');
    t.match(conf, /^NodeName=node1 .*\nNodeName=node2 /m);
    t.equal(fs.statSync(path.join(dir, 'munge/munge.key')).mode & 0o777, 0o600, 'a munge key, owner only');
    t.notOk(fs.existsSync(path.join(dir, 'run/slurmctld.pid')), 'no daemon started');
  });

  t.test('the roles make a cluster: sinfo shows both nodes idle, srun runs on both', async (t) => {
    const ctld = startRole('slurmctld', ['slurmctld']);
    // the slurmd roles use the controller's munged (one socket per slurm.conf): wait for it
    await waitUntil('the controller role to start munged', () => /started munged/.test(ctld.output()) || ctld.child.exitCode !== null, { timeoutMs: 30_000 });
    t.equal(ctld.child.exitCode, null, `slurmctld role is running: ${ctld.output()}`);
    startRole('slurmd node1', ['slurmd', 'node1']);
    startRole('slurmd node2', ['slurmd', 'node2']);

    const states = await waitUntil(
      'both nodes idle',
      async () => {
        const dead = roles.find((r) => r.child.exitCode !== null);
        if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode}): ${dead.output()}`);
        const out = await run('sinfo', ['-h', '-N', '-o', '%N %T'], { env }).then((r) => r.stdout.trim(), () => '');
        return out === 'node1 idle\nnode2 idle' ? out : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    t.equal(states, 'node1 idle\nnode2 idle');

    const hostnames = (await run('srun', ['-N2', 'hostname'], { env, timeout: 60_000 })).stdout.trim().split('\n');
    t.same(hostnames, [os.hostname(), os.hostname()], 'srun hostname: one task on each of the two nodes (this host)');
    const names = (await run('srun', ['-N2', 'printenv', 'SLURMD_NODENAME'], { env, timeout: 60_000 })).stdout.trim().split('\n').sort();
    t.same(names, ['node1', 'node2'], 'through both slurmd roles');
    t.match(roles[1]!.output(), /munged already answers on .*: using it/, 'the slurmd roles share the controller role\'s munged');
  });

  t.test("the client role (the grm-compss image's entrypoint) runs a command that reaches the cluster, and exits with its status", async (t) => {
    const probe = startRole('client sinfo', ['client', 'sh', '-c', 'echo "conf=$SLURM_CONF"; sinfo -h -o %D; exit 3']);
    t.equal(await probe.exited, 3, "the command's exit status");
    t.match(probe.output(), new RegExp(`conf=${dir}/slurm\\.conf\\n2\\n`), 'SLURM_CONF set, sinfo answers: 2 nodes');
    roles.splice(roles.indexOf(probe), 1);
    for (let i = 0; i < 3; i++) {
      const client = startRole('client', ['client', 'bash', '-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done']);
      // its own line: the role's log of the command line also holds the word
      await waitUntil('the client command to run', () => /^ready$/m.test(client.output()) || client.child.exitCode !== null, { timeoutMs: 30_000 });
      client.child.kill('SIGTERM');
      t.equal(await client.exited, 0, `SIGTERM passed to the command, which exits 0: so does the role (${i + 1})`);
      roles.splice(roles.indexOf(client), 1);
    }
  });

  t.test('SIGTERM to an entrypoint stops its daemon; the controller role also stops the munged it started', async (t) => {
    const mungedPid = Number(fs.readFileSync(path.join(dir, 'run/munged.pid'), 'utf8').trim());
    t.ok(alive(mungedPid), 'munged runs');
    const daemonPids = Object.fromEntries(
      ['slurmctld.pid', 'slurmd-node1.pid', 'slurmd-node2.pid'].map((f) => [f, Number(fs.readFileSync(path.join(dir, 'run', f), 'utf8').trim())]),
    );
    for (const role of [...roles].reverse()) {
      role.child.kill('SIGTERM');
      t.equal(await role.exited, 0, `${role.name} role exits 0 with its daemon`);
    }
    for (const [file, pid] of Object.entries(daemonPids)) t.notOk(alive(pid), `${file}: gone`);
    t.notOk(alive(mungedPid), 'munged: gone');
  });
}
