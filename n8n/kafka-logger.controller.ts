// The fork module's @RestController: GET /rest/kafka-logger/health behind n8n's auth (owner and admins), JSON or the status page.
import { Get, GlobalScope, RestController } from '@n8n/decorators';
import { KafkaExecutionLoggerService } from './kafka-logger.service';
import { HEALTH_RATE_LIMIT } from './health';

/** n8n's own per-address rate limit (applied when NODE_ENV=production, as n8n does for its routes): 1.x reads `rateLimit`, 2.x `ipRateLimit`. */
const LIMIT = { limit: HEALTH_RATE_LIMIT, windowMs: 60_000 };

@RestController('/kafka-logger')
export class KafkaLoggerController {
  constructor(private readonly service: KafkaExecutionLoggerService) {}

  @Get('/health', { rateLimit: LIMIT, ipRateLimit: LIMIT })
  @GlobalScope('logStreaming:manage')
  health(req: unknown, res: unknown): void {
    this.service.sendHealth(req, res);
  }
}
