/**
 * shellcheck on every shell script of the repository and yamllint (config: .yamllint) on every
 * YAML file, tracked or new (git ls-files, so node_modules and build output stay out). Needs the
 * Debian packages shellcheck and yamllint (scripts/system-deps.sh deploy, installed when root).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { PROJECT_ROOT, requireSystem } from '../helpers/system.js';

const run = promisify(execFile);

async function repoFiles(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: PROJECT_ROOT, maxBuffer: 64 << 20 });
  return [...new Set(stdout.split('\0').filter(Boolean))].filter((f) => fs.existsSync(path.join(PROJECT_ROOT, f))).sort();
}

/** A shell script: named *.sh, or any file whose #! line runs sh or bash. */
function isShellScript(file: string): boolean {
  if (file.endsWith('.sh')) return true;
  if (/\.(ts|js|mjs|cjs|json|md|ya?ml|py|c|h|xml|xsd|html|css|txt)$/.test(file)) return false;
  const head = fs.readFileSync(path.join(PROJECT_ROOT, file)).subarray(0, 80).toString('utf8');
  return /^#!\s*(\/usr)?\/bin\/(env\s+)?(ba)?sh\b/.test(head);
}

const isYaml = (file: string) => /\.ya?ml$/.test(file) || ['.taprc', '.yamllint'].includes(path.basename(file));

/** Runs a linter; resolves with its exit status and output, never throws on findings. */
async function lint(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return run(cmd, args, { cwd: PROJECT_ROOT, maxBuffer: 64 << 20 }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (e: { code: number; stdout?: string; stderr?: string }) => ({ code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

if (requireSystem(t, 'deploy')) {
  const files = await repoFiles();

  t.test('shellcheck: every shell script of the repository is clean', async (t) => {
    const scripts = files.filter(isShellScript);
    for (const known of ['scripts/slurm-cluster.sh', 'scripts/slurm-lib.sh', 'scripts/slurm-node.sh', 'scripts/system-deps.sh', 'deploy/systemd/install.sh']) {
      t.ok(scripts.includes(known), `${known} is among the ${scripts.length} scripts checked`);
    }
    // -x: follow the `. slurm-lib.sh` of the scripts that source it
    const { code, out } = await lint('shellcheck', ['-x', '--format=gcc', ...scripts]);
    t.equal(out.trim(), '', 'no finding');
    t.equal(code, 0);
  });

  t.test('shellcheck finds a defect when there is one (the check can fail)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-lint-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'bad.sh'), '#!/bin/bash\nrm -rf $1/*\n');
    const { code, out } = await lint('shellcheck', ['--format=gcc', path.join(dir, 'bad.sh')]);
    t.not(code, 0);
    t.match(out, /SC2086/);
  });

  t.test('yamllint: every YAML file of the repository is clean', async (t) => {
    const yamls = files.filter(isYaml);
    for (const known of ['deploy/swarm/stack.yml', 'deploy/k8s/base/kustomization.yaml', 'deploy/k8s/base/statefulset.yaml', '.taprc']) {
      t.ok(yamls.includes(known), `${known} is among the ${yamls.length} YAML files checked`);
    }
    const { code, out } = await lint('yamllint', ['--strict', '--format', 'parsable', '-c', '.yamllint', ...yamls]);
    t.equal(out.trim(), '', 'no finding, not even a warning');
    t.equal(code, 0);
  });

  t.test('yamllint with the repository config finds a defect when there is one', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grm-lint-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'a: 1\na: 2\nb:   [ x ]\n');
    const { code, out } = await lint('yamllint', ['--strict', '--format', 'parsable', '-c', '.yamllint', path.join(dir, 'bad.yaml')]);
    t.not(code, 0);
    t.match(out, /key-duplicates/);
  });
}
