export * from './entities';
export * from './data-sources';
export * from './database.module';
export * from './mysql-pools';
export * from './writer-verdict';
