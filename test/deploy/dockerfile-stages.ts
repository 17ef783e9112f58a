/**
 * The Dockerfiles as data, read with dockerfile-ast (the parser of VS Code's Docker language
 * server): stages with their instructions, in order, with ARG defaults substituted in FROM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type Flag, type Instruction } from 'dockerfile-ast';
import { PROJECT_ROOT } from '../helpers/system.js';

export interface Stage {
  name: string | null;
  /** FROM's image with the Dockerfile's initial ARG defaults put in. */
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  stages: Stage[];
  text: string;
}

export function parseDockerfile(relPath: string): ParsedDockerfile {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, relPath), 'utf8');
  const file = DockerfileParser.parse(text);
  const args = new Map<string, string>();
  for (const arg of file.getInitialARGs()) for (const p of arg.getProperties()) args.set(p.getName(), p.getValue() ?? '');
  const froms = file.getFROMs().sort((a, b) => a.getRange().start.line - b.getRange().start.line);
  const stages: Stage[] = froms.map((from) => ({
    name: from.getBuildStage(),
    image: (from.getImage() ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? `\${${name}}`),
    instructions: [],
  }));
  for (const instruction of file.getInstructions()) {
    const line = instruction.getRange().start.line;
    const index = froms.findLastIndex((from) => from.getRange().start.line <= line);
    if (index >= 0 && instruction.getKeyword() !== 'FROM') stages[index]!.instructions.push(instruction);
  }
  return { stages, text };
}

export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** The words of an instruction's arguments (shell form), or its JSON array (exec form). */
export function words(instruction: Instruction): string[] {
  const raw = instruction.getRawArgumentsContent() ?? '';
  const json = /(\[.*\])\s*$/s.exec(raw);
  if (json) {
    try {
      return JSON.parse(json[1]!) as string[];
    } catch {
      /* not exec form */
    }
  }
  return instruction.getArguments().map((a) => a.getValue());
}

/** The --flags of COPY, HEALTHCHECK and the other instructions that take some. */
function flagsOf(instruction: Instruction): Flag[] {
  const withFlags = instruction as Instruction & { getFlags?: () => Flag[] };
  return typeof withFlags.getFlags === 'function' ? withFlags.getFlags() : [];
}

/** HEALTHCHECK's command (exec form) and its flags. */
export function healthcheck(instruction: Instruction): { command: string[]; flags: Record<string, string> } {
  const raw = instruction.getRawArgumentsContent() ?? '';
  const flags = Object.fromEntries(flagsOf(instruction).map((f) => [f.getName(), f.getValue() ?? '']));
  const cmd = /\bCMD\s+(\[.*\])\s*$/s.exec(raw);
  return { command: cmd ? (JSON.parse(cmd[1]!) as string[]) : [], flags };
}

/** ENV name=value pairs of a stage, later ones winning. */
export function env(stage: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const instruction of all(stage, 'ENV')) {
    for (const p of (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      out[p.getName()] = p.getValue() ?? '';
    }
  }
  return out;
}

/** COPY's --from stage (null: the build context) and its source paths. */
export function copySources(instruction: Instruction): { from: string | null; sources: string[] } {
  const from = flagsOf(instruction).find((f) => f.getName() === 'from')?.getValue() ?? null;
  const args = instruction.getArguments().map((a) => a.getValue()).filter((a) => !a.startsWith('--'));
  return { from, sources: args.slice(0, -1) };
}
