import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig, ConfigError } from '@app/config';
import { ForbiddenError, UnauthorizedError } from '@app/errors';

export type Scope = 'read' | 'write';
export const REQUIRED_SCOPE = 'catalog:required-scope';
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

interface ApiKey {
  name: string;
  scopes: ReadonlySet<Scope>;
}

/**
 * API_KEYS is `name:scope[+scope]:sha256hex,...`. Only hashes are configured or kept; the presented key is
 * hashed and looked up, and neither key nor hash is ever logged. Keys are long random tokens, so an
 * unsalted SHA-256 is enough (there is nothing to brute-force from a dictionary).
 */
export function parseApiKeys(spec: string): Map<string, ApiKey> {
  const keys = new Map<string, ApiKey>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, scopes, hash] = entry.split(':');
    if (!name || !scopes || !/^[0-9a-f]{64}$/.test(hash ?? '')) {
      throw new ConfigError(
        `Invalid configuration:\n  API_KEYS: entry "${name ?? ''}" must be name:scope[+scope]:sha256hex`,
      );
    }
    const set = new Set(scopes.split('+') as Scope[]);
    if ([...set].some((s) => s !== 'read' && s !== 'write')) {
      throw new ConfigError(
        `Invalid configuration:\n  API_KEYS: entry "${name}" has an unknown scope (read, write)`,
      );
    }
    if (set.has('write')) set.add('read');
    keys.set(hash, { name, scopes: set });
  }
  return keys;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Map<string, ApiKey>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.keys = parseApiKeys(config.API_KEYS);
  }

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.get<Scope | undefined>(REQUIRED_SCOPE, context.getHandler());
    if (!scope) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<FastifyRequest>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{8,256})$/.exec(header) : null;
    const key = match ? this.keys.get(hashApiKey(match[1])) : undefined;
    if (!key) {
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="catalog"');
      throw new UnauthorizedError(
        header ? 'the API key is not valid' : 'this operation needs Authorization: Bearer <api key>',
      );
    }
    if (!key.scopes.has(scope))
      throw new ForbiddenError(`the API key "${key.name}" does not have the ${scope} scope`);
    return true;
  }
}
