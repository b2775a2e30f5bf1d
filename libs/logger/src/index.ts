export * from './app-logger';
export * from './logger.module';
export * from './request-context';
