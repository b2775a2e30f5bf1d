import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DatabaseHealth } from '@app/database';
import { ServiceUnavailableError } from '@app/errors';
import { RedisHealth } from '@app/redis';
import { EdgePurgerService } from '@catalog/services/edge-purger.service';
import { LifecycleService } from '@catalog/services/lifecycle.service';
import { ApiProblems, LIVE_SCHEMA, READY_SCHEMA } from './api-docs';

@ApiTags('operations')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealth,
    private readonly mysql: DatabaseHealth,
    private readonly lifecycle: LifecycleService,
    private readonly purger: EdgePurgerService,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: '200 while the process runs' })
  @ApiOkResponse({ description: 'The process runs', schema: LIVE_SCHEMA })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOkResponse({ description: 'Ready', schema: READY_SCHEMA })
  @ApiOperation({
    operationId: 'ready',
    summary:
      "200 when Redis and the MySQL writer answer and this node's Varnish has applied every purge, 503 otherwise",
  })
  @ApiProblems([
    503,
    "Not ready (a dependency is down, the process is draining, or this node's Varnish is not yet purged)",
  ])
  async ready() {
    if (this.lifecycle.draining)
      throw new ServiceUnavailableError('draining', { checks: { process: 'draining' } });
    // This node's Varnish may still hold versions that writes replaced: stay out of rotation until purged.
    if (!this.purger.ready())
      throw new ServiceUnavailableError('edge purges behind', {
        checks: { edge: this.purger.state(), edgeLagMs: this.purger.lagMs() },
      });
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
