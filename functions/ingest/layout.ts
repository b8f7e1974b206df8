// Moved to shared/layout/layout.ts (issue 14); kept only so branches written against the old path
// still merge. Import from shared/layout/layout.js.
export * from '../../shared/layout/layout.js';
