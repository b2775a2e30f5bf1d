import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { createApp } from './app.factory';
import { LifecycleService } from '@catalog/health/services/lifecycle.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  const logger = app.get(AppLogger);
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.log(`catalog-service ${config.NODE_NAME} listening on http://${config.HOST}:${config.PORT}`, 'main');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Fail readiness first so HAProxy and Varnish stop sending, then stop accepting and finish in-flight requests.
    app.get(LifecycleService).draining = true;
    logger.log(`${signal}: draining for ${config.SHUTDOWN_DRAIN_MS} ms, then closing`, 'main');
    await new Promise((r) => setTimeout(r, config.SHUTDOWN_DRAIN_MS));
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS);
    force.unref();
    await app.close();
    logger.log('closed', 'main');
    await logger.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
