import {
  VERIFY_RESULT_KEY,
  parseVerifyRecord,
  withVerifyResult,
  type VerifyResult,
} from '../../shared/status/verify-result.js';
import { FOLDERS } from '../../shared/layout/layout.js';
import { ConcurrentUpdateError, type Storage } from '../storage/storage.js';

/**
 * Records a verify run's result at VERIFY_RESULT_KEY (read by the query API's status). Written
 * with compare-and-swap so two verify runs at once both land; a store that refuses the write
 * (read-only credentials) costs the run a warning, not its verdict.
 */
export async function recordVerifyResult(
  storage: Storage,
  result: VerifyResult,
  warn: (message: string) => void,
): Promise<void> {
  try {
    // Only into a target a sync wrote (it has state/): a mistyped --out gets no folder made for it.
    let synced = false;
    for await (const _ of storage.list(`${FOLDERS.state}/`)) {
      synced = true;
      break;
    }
    if (!synced) return;
    for (let attempt = 1; ; attempt++) {
      const found = await storage.getVersioned(VERIFY_RESULT_KEY);
      const next = withVerifyResult(parseVerifyRecord(found?.body ?? null), result);
      try {
        await storage.putIfVersion(
          VERIFY_RESULT_KEY,
          JSON.stringify(next, null, 2) + '\n',
          found?.version ?? null,
        );
        return;
      } catch (err) {
        if (!(err instanceof ConcurrentUpdateError) || attempt >= 5) throw err;
      }
    }
  } catch (err) {
    warn(`the result was not recorded in ${VERIFY_RESULT_KEY}: ${(err as Error).message}`);
  }
}
