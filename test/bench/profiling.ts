// In-process profiles for the sync runner, with call frames mapped back to the TypeScript sources
// (tsx compiles each module to one line; `node --cpu-prof` would report every function at line 1).
//   cpu:  the V8 sampling CPU profiler over the measured run (a .cpuprofile)
//   heap: the sampling heap profiler, keeping only objects still alive, read at the run's highest
//         heapUsed: what holds the heap at its peak, by allocation site (a .heapprofile)
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';

export type ProfileKind = 'cpu' | 'heap';

interface Frame {
  url: string;
  lineNumber: number;
  columnNumber: number;
}

function post<T>(session: Session, method: string, params: object = {}): T {
  let result: T | undefined;
  let failure: Error | null = null;
  // The inspector answers in the same thread, synchronously.
  session.post(method, params, (err, res) => {
    failure = err;
    result = res as T;
  });
  if (failure) throw failure;
  return result as T;
}

function remap(frame: Frame): void {
  if (!frame.url.startsWith('file:')) return;
  const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber) as
    { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (entry?.originalSource === undefined || entry.originalLine === undefined) return;
  frame.url = entry.originalSource;
  frame.lineNumber = entry.originalLine;
  frame.columnNumber = entry.originalColumn ?? 0;
}

interface HeapNode {
  callFrame: Frame;
  children: HeapNode[];
}

export interface Profiler {
  /** Called often (every 100 ms): the heap profiler keeps a profile whenever heapUsed peaks. */
  tick(): void;
  stop(file: string): Promise<void>;
}

export function startProfile(kind: ProfileKind): Profiler {
  const session = new Session();
  session.connect();
  if (kind === 'cpu') {
    post(session, 'Profiler.enable');
    post(session, 'Profiler.setSamplingInterval', { interval: 1000 });
    post(session, 'Profiler.start');
    return {
      tick: () => undefined,
      stop: async (file) => {
        const { profile } = post<{ profile: { nodes: { callFrame: Frame }[] } }>(session, 'Profiler.stop');
        for (const node of profile.nodes) remap(node.callFrame);
        session.disconnect();
        await writeFile(file, JSON.stringify(profile));
      },
    };
  }
  post(session, 'HeapProfiler.enable');
  post(session, 'HeapProfiler.startSampling', {
    samplingInterval: 64 * 1024,
    includeObjectsCollectedByMajorGC: false,
    includeObjectsCollectedByMinorGC: false,
  });
  let best: { head: HeapNode } | null = null;
  let bestHeap = 0;
  const take = () => {
    best = post<{ profile: { head: HeapNode } }>(session, 'HeapProfiler.getSamplingProfile').profile;
  };
  return {
    tick: () => {
      const used = process.memoryUsage().heapUsed;
      if (used > bestHeap + 4 * 2 ** 20) {
        bestHeap = used;
        take();
      }
    },
    stop: async (file) => {
      if (!best) take();
      post(session, 'HeapProfiler.stopSampling');
      session.disconnect();
      const walk = (node: HeapNode) => {
        remap(node.callFrame);
        node.children.forEach(walk);
      };
      const profile = best as unknown as { head: HeapNode };
      walk(profile.head);
      await writeFile(file, JSON.stringify({ ...profile, heapUsedAtSample: bestHeap }));
    },
  };
}
