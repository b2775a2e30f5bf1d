import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';
import { ServiceUnavailableError } from '@app/errors';
import { ReadinessService, StoreCheck } from '@catalog/health/services/readiness.service';
import { ApiProblems, LIVE_SCHEMA, READY_SCHEMA } from '@catalog/common/api-docs';

@ApiTags('operations')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

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
      "200 while this node can answer reads (Redis or, without it, the MySQL readers) and its Varnish has applied every purge; 'degraded' when one store is down",
  })
  @ApiProblems(
    [
      403,
      'Through the front HAProxy: readiness is for the load balancers, not for the outside (docs/edge.md)',
    ],
    [
      503,
      "Not ready (neither Redis nor the MySQL readers answer, the process is draining, or this node's Varnish is not yet purged)",
    ],
  )
  async ready() {
    const r = await this.readiness.check();
    if (!r.ready) throw new ServiceUnavailableError(r.reason, { checks: r.checks });
    const details: Record<string, StoreCheck> = r.checks;
    const up = Object.entries(details).filter(([, c]) => c.status === 'up');
    const down = Object.entries(details).filter(([, c]) => c.status === 'down');
    return {
      status: down.length === 0 ? 'ok' : 'degraded',
      reads: r.reads,
      info: Object.fromEntries(up),
      error: Object.fromEntries(down),
      details,
    };
  }
}
