import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';

/** Tags per PURGE request: keeps the xkey header far below Varnish's 8 KB header limit. */
const TAGS_PER_REQUEST = 200;

/**
 * This node's Varnish (infra/varnish): `PURGE /` with `xkey: <tags>` drops every object carrying any of
 * the tags; `xkey-all: 1` drops everything. Any answer but 200 is a failure the caller retries.
 */
@Injectable()
export class EdgeCacheRepository {
  private readonly url?: string;
  private readonly timeoutMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.url = config.VARNISH_PURGE_URL || undefined;
    this.timeoutMs = config.PURGE_TIMEOUT_MS;
  }

  get enabled(): boolean {
    return this.url !== undefined;
  }

  /** Returns how many objects Varnish dropped. */
  async purge(tags: readonly string[]): Promise<number> {
    let purged = 0;
    for (let i = 0; i < tags.length; i += TAGS_PER_REQUEST) {
      purged += await this.send({ xkey: tags.slice(i, i + TAGS_PER_REQUEST).join(' ') });
    }
    return purged;
  }

  async purgeAll(): Promise<void> {
    await this.send({ 'xkey-all': '1' });
  }

  private async send(headers: Record<string, string>): Promise<number> {
    if (!this.url) return 0;
    const res = await fetch(this.url, {
      method: 'PURGE',
      headers,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`varnish answered ${res.status} to PURGE: ${body.slice(0, 200)}`);
    const n = Number((JSON.parse(body) as { purged?: string }).purged);
    return Number.isFinite(n) ? n : 0;
  }
}
