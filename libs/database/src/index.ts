export * from './data-sources';
export * from './database.module';
