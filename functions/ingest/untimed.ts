import type { Redactor } from '../../shared/redaction/index.js';
import type { HitSource } from '../sources/source.js';
import type { Storage } from '../storage/storage.js';
import { untimedQuarantineKey } from '../../shared/layout/layout.js';
import { QuarantineWriter } from './quarantine.js';
import type { ReadPlan } from './read-plan.js';
import type { SyncState } from './state.js';
import type { SyncSummary } from './summary.js';

/**
 * Documents the index holds without a readable @timestamp belong to no hour slot, so no hour read
 * ever meets them: they are read apart, and quarantined with the reason, each once. The state
 * keeps the source's count when they were last read (an unchanged count: nothing is read) and the
 * `_index/_id` of each one quarantined (a later run adds only the new ones). Each batch goes to its
 * own object, keyed by how many came before: a run that fails before its checkpoint leaves a batch
 * the next run overwrites, never one it repeats.
 */
export async function quarantineUntimed(
  ctx: { storage: Storage; source: HitSource; redactor: Redactor },
  state: SyncState,
  plan: ReadPlan,
  summary: SyncSummary,
): Promise<void> {
  if (!ctx.source.untimedPages || plan.untimed === null) return;
  const known = state.untimed ?? { count: 0, ids: [] };
  if (plan.untimed === known.count) return;
  const ids = new Set(known.ids);
  const added: string[] = [];
  let count = 0;
  const writer = new QuarantineWriter(
    ctx.storage,
    untimedQuarantineKey(ctx.source.id, known.ids.length),
    ctx.redactor,
  );
  try {
    for await (const page of ctx.source.untimedPages()) {
      for (const { hit, rejected } of page) {
        count++;
        const id = `${String(hit._index)}/${String(hit._id)}`;
        if (ids.has(id)) continue;
        ids.add(id);
        added.push(id);
        await writer.add(hit, rejected ?? 'no readable @timestamp');
      }
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  summary.quarantined += added.length;
  // Saved with the next checkpoint, after the batch above is committed.
  state.untimed = { count, ids: [...known.ids, ...added] };
}
