// Moved to shared/time/duration.ts (issue 14); kept only so branches written against the old path
// still merge. Import from shared/time/duration.js.
export * from '../../shared/time/duration.js';
