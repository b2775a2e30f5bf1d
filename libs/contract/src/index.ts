export * from './accepted-breaks';
export * from './breaking-changes';
export * from './canonical-json';
export * from './json-pointers';
