/**
 * Writes a job's project.xml and resources.xml. Each file appears whole or not at all
 * (temporary file in the same directory, rename), so a master started right after, or a
 * daemon that crashed half-way, never reads a truncated file. No fsync: they serve the
 * master of this run only, and a machine crash ends that master too (its next run writes
 * them again); two fsyncs were two thirds of the time from allocation to master started.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ProjectModel, ResourcesModel } from './compss-model.js';
import { buildProjectXml } from './project-xml.js';
import { buildResourcesXml } from './resources-xml.js';

export const PROJECT_FILE = 'project.xml';
export const RESOURCES_FILE = 'resources.xml';

/** Synchronous: two small files, where the thread pool's queue (busy with log tails) cost tens of ms. */
function writeAtomically(target: string, content: string): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, content, null, 'utf8');
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Both documents are built before anything touches the disk, so a model the schema would
 * refuse (GrmError E_XML_INVALID) leaves the job directory as it was.
 */
export async function writeCompssFiles(
  jobDir: string,
  files: { project: ProjectModel; resources: ResourcesModel },
): Promise<{ projectPath: string; resourcesPath: string }> {
  const projectXml = buildProjectXml(files.project);
  const resourcesXml = buildResourcesXml(files.resources);
  mkdirSync(jobDir, { recursive: true });
  const projectPath = path.join(jobDir, PROJECT_FILE);
  const resourcesPath = path.join(jobDir, RESOURCES_FILE);
  writeAtomically(projectPath, projectXml);
  writeAtomically(resourcesPath, resourcesXml);
  return { projectPath, resourcesPath };
}
