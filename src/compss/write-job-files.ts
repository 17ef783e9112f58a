/**
 * Writes a job's project.xml and resources.xml. Each file appears whole or not at all
 * (temporary file in the same directory, fsync, rename), so a master started right after, or a
 * daemon that crashed half-way, never reads a truncated file.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectModel, ResourcesModel } from './compss-model.js';
import { buildProjectXml } from './project-xml.js';
import { buildResourcesXml } from './resources-xml.js';

export const PROJECT_FILE = 'project.xml';
export const RESOURCES_FILE = 'resources.xml';

async function writeAtomically(target: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
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
  await mkdir(jobDir, { recursive: true });
  const projectPath = path.join(jobDir, PROJECT_FILE);
  const resourcesPath = path.join(jobDir, RESOURCES_FILE);
  await writeAtomically(projectPath, projectXml);
  await writeAtomically(resourcesPath, resourcesXml);
  return { projectPath, resourcesPath };
}
