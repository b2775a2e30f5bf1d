import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DatabaseHealth } from '@app/database';
import { ServiceUnavailableError } from '@app/errors';
import { RedisHealth } from '@app/redis';
import { LifecycleService } from '@catalog/services/lifecycle.service';
import { ApiProblems } from './api-docs';

@ApiTags('operations')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealth,
    private readonly mysql: DatabaseHealth,
    private readonly lifecycle: LifecycleService,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: '200 while the process runs' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    operationId: 'ready',
    summary: '200 when Redis and the MySQL writer answer, 503 otherwise',
  })
  @ApiProblems([503, 'Not ready (a dependency is down, or the process is draining)'])
  async ready() {
    if (this.lifecycle.draining)
      throw new ServiceUnavailableError('draining', { checks: { process: 'draining' } });
    try {
      return await this.health.check([() => this.redis.check('redis'), () => this.mysql.check('mysql')]);
    } catch (e) {
      const details =
        (e as { getResponse?: () => { details?: Record<string, { status: string }> } }).getResponse?.()
          ?.details ?? {};
      const checks = Object.fromEntries(Object.entries(details).map(([k, v]) => [k, v.status]));
      throw new ServiceUnavailableError('not ready', { checks });
    }
  }
}
