import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { Controller, Get, Module, NotFoundException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiProperty, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ApiDeprecatedProperty } from './api-deprecated-property';
import { API_VERSIONING } from '@catalog/openapi';
import { Deprecated, deprecationHeaders } from './deprecation';

class LegacyDto {
  @ApiProperty()
  code!: string;

  @ApiDeprecatedProperty({ since: '2026-11-22', sunset: '2027-11-30', use: 'code' })
  legacyCode?: string;
}

const LINK = 'https://catalog.example.com/docs/api-lifecycle#legacy';

/** Test-only routes: one deprecated with a sunset, one without, one deprecated that fails, one current. */
@Controller({ path: 'legacy', version: '1' })
class LegacyController {
  @Get('sunsetting')
  @Deprecated({ since: '2026-11-22', sunset: '2027-11-30', link: LINK })
  @ApiOperation({ operationId: 'sunsetting', summary: 'Old read' })
  @ApiOkResponse({ type: LegacyDto })
  sunsetting(): LegacyDto {
    return { code: 'a', legacyCode: 'a' };
  }

  @Deprecated({ since: '2026-11-22', link: LINK })
  @ApiOperation({ operationId: 'deprecatedOnly', summary: 'Deprecated, no date yet' })
  @Get('deprecated')
  deprecatedOnly(): LegacyDto {
    return { code: 'b' };
  }

  @Get('gone')
  @Deprecated({ since: '2026-11-22', sunset: '2027-11-30', link: LINK })
  gone(): never {
    throw new NotFoundException('nothing here');
  }

  @Get('current')
  @ApiOperation({ operationId: 'current', summary: 'Current read' })
  current(): LegacyDto {
    return { code: 'c' };
  }
}

@Module({ controllers: [LegacyController] })
class LegacyModule {}

describe(Deprecated.name, () => {
  let app: NestFastifyApplication;

  before(async () => {
    app = await NestFactory.create<NestFastifyApplication>(LegacyModule, new FastifyAdapter(), {
      logger: false,
    });
    app.enableVersioning(API_VERSIONING);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  after(() => app.close());

  it('sends Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/legacy/sunsetting' });
    expect(res.statusCode).toBe(200);
    expect(res.headers.deprecation).toBe(`@${Date.UTC(2026, 10, 22) / 1000}`);
    expect(res.headers.sunset).toBe('Tue, 30 Nov 2027 00:00:00 GMT');
    expect(res.headers.link).toBe(
      `<${LINK}>; rel="deprecation"; type="text/html", <${LINK}>; rel="sunset"; type="text/html"`,
    );
    expect(res.json()).toEqual({ code: 'a', legacyCode: 'a' });
  });

  it('sends no Sunset before a date is set, and nothing on operations that are not deprecated', async () => {
    const dep = await app.inject({ method: 'GET', url: '/v1/legacy/deprecated' });
    expect(dep.headers.deprecation).toMatch(/^@\d+$/);
    expect(dep.headers.sunset).toBeUndefined();
    expect(dep.headers.link).toBe(`<${LINK}>; rel="deprecation"; type="text/html"`);
    const cur = await app.inject({ method: 'GET', url: '/v1/legacy/current' });
    expect(cur.headers.deprecation).toBeUndefined();
    expect(cur.headers.link).toBeUndefined();
  });

  it('keeps the headers on error responses of a deprecated operation', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/legacy/gone' });
    expect(res.statusCode).toBe(404);
    expect(res.headers.deprecation).toMatch(/^@\d+$/);
  });

  it('marks operations and fields deprecated in the OpenAPI document, keeping their summaries', () => {
    const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    const sunsetting = doc.paths['/v1/legacy/sunsetting'].get!;
    expect(sunsetting).toMatchObject({
      deprecated: true,
      summary: 'Old read',
      'x-deprecated-since': '2026-11-22',
      'x-sunset': '2027-11-30',
    });
    expect(doc.paths['/v1/legacy/deprecated'].get).toMatchObject({
      deprecated: true,
      summary: 'Deprecated, no date yet',
    });
    expect(doc.paths['/v1/legacy/current'].get!.deprecated).toBeUndefined();
    const legacy = doc.components!.schemas!.LegacyDto as {
      properties: Record<string, object>;
      required: string[];
    };
    expect(legacy.properties.legacyCode).toMatchObject({
      deprecated: true,
      description: 'Deprecated since 2026-11-22, sunset 2027-11-30: use code instead.',
    });
    expect(legacy.required).toEqual(['code']);
  });

  it('refuses a sunset that is not after the deprecation date', () => {
    expect(() => deprecationHeaders({ since: '2027-01-01', sunset: '2026-01-01', link: LINK })).toThrow(
      /sunset must be after since/,
    );
    expect(() => deprecationHeaders({ since: 'soon', link: LINK })).toThrow(/not an ISO date/);
  });
});
