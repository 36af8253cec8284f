// The entry page: check the entry's inclusion in the browser and say what was checked.
import { checkInclusion } from './check.js';
import { el, getJson } from './dom.js';

const section = document.getElementById('proof');
const state = document.getElementById('proof-state');
const list = document.getElementById('proof-steps');

async function run() {
  const uuid = section.dataset.uuid;
  const shard = section.dataset.shard;
  try {
    const [entry, root] = await Promise.all([
      getJson(
        `/explorer/api/entries/${encodeURIComponent(uuid)}?shard=${encodeURIComponent(shard)}`,
      ),
      getJson('/trusted_root.json'),
    ]);
    const steps = await checkInclusion(entry.proof, root, uuid);
    list.replaceChildren(
      ...steps.map((s) =>
        el(
          'li',
          { class: s.ok === true ? 'ok' : s.ok === false ? 'bad' : 'info' },
          s.ok === true ? '✓ ' : s.ok === false ? '✗ ' : '• ',
          s.text,
        ),
      ),
    );
    const good = steps.length > 0 && steps.every((s) => s.ok !== false);
    state.className = good ? 'ok' : 'bad';
    state.textContent = good
      ? `Verified in your browser: this entry is in shard ${entry.proof.shard} of the log (tree size ${entry.proof.treeSize}), under a checkpoint signed by the log's key from the trusted root.`
      : 'NOT verified: the check below failed.';
    document.body.dataset.proof = good ? 'verified' : 'failed';
  } catch (e) {
    state.className = 'bad';
    state.textContent = `The inclusion check could not run: ${e instanceof Error ? e.message : String(e)}`;
    document.body.dataset.proof = 'failed';
  }
}

run();
