// The fork module's @RestController: GET /rest/kafka-logger/health behind n8n's auth (owner and admins), JSON or the status page.
import { Get, GlobalScope, RestController } from '@n8n/decorators';
import { KafkaExecutionLoggerService } from './kafka-logger.service';

@RestController('/kafka-logger')
export class KafkaLoggerController {
  constructor(private readonly service: KafkaExecutionLoggerService) {}

  @Get('/health')
  @GlobalScope('logStreaming:manage')
  health(req: unknown, res: unknown): void {
    this.service.sendHealth(req, res);
  }
}
