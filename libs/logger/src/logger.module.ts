import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger, parseChannelLevels } from './app-logger';

@Global()
@Module({
  providers: [
    {
      provide: AppLogger,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new AppLogger({
          level: config.LOG_LEVEL,
          channelLevels: parseChannelLevels(config.LOG_CHANNEL_LEVELS),
          nodeName: config.NODE_NAME,
          dir: config.LOG_DIR,
          stdout: config.LOG_STDOUT,
        }),
    },
  ],
  exports: [AppLogger],
})
export class LoggerModule {}
