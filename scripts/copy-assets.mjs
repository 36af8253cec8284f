// After tsc: the files under src/ that are not TypeScript (the explorer's stylesheet and
// scripts, ...) go next to the compiled modules in dist/, where those modules look for them.
import fs from 'node:fs';
import path from 'node:path';

function copy(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, e.name);
    if (e.isDirectory()) copy(from);
    else if (!e.name.endsWith('.ts')) {
      const to = path.join('dist', path.relative('src', from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}
copy('src');
