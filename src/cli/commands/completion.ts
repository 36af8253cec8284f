import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';

/**
 * `signet completion bash|zsh|fish`: a completion script generated from the commands and their
 * flags as registered, so it never goes stale. Source it (bash: `source <(signet completion
 * bash)`; zsh: `signet completion zsh > "${fpath[1]}/_signet"`; fish: `signet completion fish |
 * source`).
 */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      const tree = commandTree(program);
      if (shell === 'bash') process.stdout.write(bash(tree));
      else if (shell === 'zsh') process.stdout.write(zsh(tree));
      else if (shell === 'fish') process.stdout.write(fish(tree));
      else throw invalid('shell', `"${shell}" is not bash, zsh or fish`);
    });
}

interface Node {
  name: string;
  description: string;
  flags: Array<{ flag: string; description: string }>;
  subcommands: Node[];
}

function commandTree(cmd: Command): Node {
  return {
    name: cmd.name(),
    description: cmd.description(),
    flags: cmd.options
      .filter((o) => o.long && !o.hidden)
      .map((o) => ({ flag: o.long!, description: o.description })),
    subcommands: cmd.commands.map(commandTree),
  };
}

const q = (s: string) => s.replace(/'/g, "'\\''");

function bash(root: Node): string {
  const cases = root.subcommands
    .map((c) => {
      const subs = c.subcommands.map((s) => s.name);
      const words = [...subs, ...c.flags.map((f) => f.flag), '--help'].join(' ');
      return `    ${c.name}) opts='${q(words)}' ;;`;
    })
    .join('\n');
  const top = root.subcommands.map((c) => c.name).join(' ');
  return `# bash completion for signet
_signet() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W '${top} --help --version' -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts='' ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$(echo "$opts" | tr ' ' '\\n' | grep -v '^-')" -- "$cur") $(compgen -f -- "$cur") )
  fi
}
complete -F _signet signet
`;
}

function zsh(root: Node): string {
  const cmds = root.subcommands
    .map((c) => `    '${q(c.name)}:${q(c.description.replace(/:/g, '\\:'))}'`)
    .join('\n');
  const cases = root.subcommands
    .map((c) => {
      const args = c.flags
        .map((f) => `'${q(f.flag)}[${q(f.description.replace(/[[\]]/g, ''))}]'`)
        .join(' ');
      const subs = c.subcommands.length
        ? ` '1:subcommand:(${c.subcommands.map((s) => s.name).join(' ')})'`
        : '';
      return `    ${c.name}) _arguments ${args}${subs} '*:file:_files' ;;`;
    })
    .join('\n');
  return `#compdef signet
_signet() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _signet signet
`;
}

function fish(root: Node): string {
  const lines = ['# fish completion for signet', 'complete -c signet -f'];
  for (const c of root.subcommands) {
    lines.push(
      `complete -c signet -n '__fish_use_subcommand' -a '${q(c.name)}' -d '${q(c.description)}'`,
    );
    for (const s of c.subcommands)
      lines.push(
        `complete -c signet -n '__fish_seen_subcommand_from ${c.name}' -a '${q(s.name)}' -d '${q(s.description)}'`,
      );
    for (const f of c.flags)
      lines.push(
        `complete -c signet -n '__fish_seen_subcommand_from ${c.name}' -l '${q(f.flag.slice(2))}' -d '${q(f.description)}'`,
      );
  }
  return `${lines.join('\n')}\n`;
}
