/**
 * Validates a document against the COMPSs XSDs with libxml2's xmllint, an implementation
 * independent of the code under test. Callers run requireSystem(t, 'xml') first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, requireSystem, type Tap } from './system.js';

export const XMLLINT = '/usr/bin/xmllint';

const SCHEMA_FILES = {
  project: 'project_schema.xsd',
  resources: 'resources_schema.xsd',
} as const;

export function schemaPath(schema: 'project' | 'resources'): string {
  return path.join(PROJECT_ROOT, 'schemas/compss', SCHEMA_FILES[schema]);
}

/** requireSystem(t, 'xml'): installs xmllint or skips the test (fails under CI=true). */
export function xmllintReady(t: Tap): boolean {
  return requireSystem(t, 'xml');
}

export function validateWithXmllint(xml: string, schema: 'project' | 'resources'): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'grm-xmllint-'));
  const file = path.join(dir, `${schema}.xml`);
  try {
    writeFileSync(file, xml, 'utf8');
    // argv array, no shell: the file name and schema path are never interpreted.
    const out = execFileSync(XMLLINT, ['--noout', '--schema', schemaPath(schema), file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return { ok: true, output: out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message?: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? err.message ?? String(e)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
