// A small Dockerfile reader for tests: instructions with their stage, continuation lines
// joined, comments dropped. Enough to check the rules we hold the image to without a Docker
// engine or a linter on the machine.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM, usable in FROM lines. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i]!;
    if (/^\s*(#|$)/.test(logical)) continue;
    while (logical.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      logical = logical.trimEnd().slice(0, -1);
      i++;
      // Comment lines inside a continuation vanish without ending it.
      while (i + 1 < lines.length && /^\s*#/.test(lines[i]!)) i++;
      logical += ' ' + lines[i]!.trim();
    }
    const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(logical);
    if (!match) throw new Error(`Dockerfile line ${start}: cannot read '${logical}'`);
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`Dockerfile line ${start}: bad FROM`);
      const image = from[1]!.replace(/\$\{?(\w+)\}?/g, (_, name: string) => globalArgs.get(name) ?? `\${${name}}`);
      stages.push({ image, name: from[2], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`Dockerfile line ${start}: only ARG may come before FROM`);
      const [name, value = ''] = instruction.args.split('=', 2);
      globalArgs.set(name!, value);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** Exec form (a JSON array of strings), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}
