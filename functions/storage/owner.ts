import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Who holds a lock or a lease: enough to say what is true in a message (which process, on which
 * host, since when) and, on the same host, to tell at once that the holder is gone.
 */
export interface Owner {
  host: string;
  pid: number;
  /** Distinguishes two machines that share a hostname (containers, Lambda sandboxes). */
  boot: string;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

const BOOT = bootId();

export function currentOwner(): Owner {
  return { host: os.hostname(), pid: process.pid, boot: BOOT };
}

function sameMachine(owner: Partial<Owner>): boolean {
  return owner.host === os.hostname() && (owner.boot ?? '') === BOOT && BOOT !== '';
}

/** True only when the owner ran on this machine and its process no longer exists. */
export function ownerIsGone(owner: Partial<Owner>): boolean {
  if (!sameMachine(owner) || typeof owner.pid !== 'number') return false;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function describeOwner(owner: Partial<Owner>): string {
  return `process ${owner.pid ?? '?'} on ${owner.host ?? 'an unknown host'}`;
}
