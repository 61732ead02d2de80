import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../../modules/auth/public.decorator.js';
import { HttpMetrics } from '../http/http-metrics.js';
import { NatsService } from '../nats/nats.service.js';

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsService,
    @Inject(HttpMetrics) private readonly metrics: HttpMetrics,
  ) {}

  /** Alive: the process answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Ready: PostgreSQL and NATS both answer; 503 naming what does not. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const [database, nats] = await Promise.all([this.databaseReady(), this.nats.ping()]);
    const ready = database && nats;
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', checks: { database: database ? 'ok' : 'unreachable', nats: nats ? 'ok' : 'unreachable' } };
  }

  @Get('metrics')
  async prometheus(@Res() res: Response) {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }

  private async databaseReady(): Promise<boolean> {
    try {
      await Promise.race([
        this.dataSource.query('select 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
      ]);
      return true;
    } catch {
      return false;
    }
  }
}
